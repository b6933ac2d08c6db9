"""Streaming repetition counter and per-rep metrics.

Pipeline (one sample at a time, O(1) amortised work, bounded memory)::

    raw row -> signal selection (features.Extractor) -> [OnlinePCA if several channels]
            -> causal low-pass (Butterworth, 2nd order) -> rep detection (hysteresis state
               machine with adaptive thresholds) -> per-rep metrics -> events

The same :class:`MotionEngine` serves live sessions (``push``/``finish``) and files
(:func:`analyse_recording`). In IMU automatic mode the signal selection, filtering and
detection stages are those of the period-based counter (:mod:`.periodic`), with a
gravity-tilt counter for slow rehabilitation-speed sets (:mod:`.slow`) and an arbiter so a
rep is never counted by both. On camera landmarks (automatic mode, and files counted with a
named body signal) the period-based counter also runs on landmark features and a gate
counts only the reps of a set (:mod:`.auto_body`). The file path
runs the identical state machine on a vectorised pre-processing of the same linear stages
(extraction, PCA blocks, ``scipy.signal.sosfilt``; window statistics from cumulative sums
for the period-based counter); ``tests/motion/test_engine.py`` and ``test_periodic.py``
check both paths give the same repetitions.

See ``docs/motion.md`` for the algorithm, parameters and references.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from .auto_body import REP_CONFIDENCE, BodyPeriodic, Candidate
from .confidence import rep_confidence, set_confidence
from .features import Extractor, build_extractor
from .metrics import RepMetrics, rep_metrics
from .orientation import rotation_about_main_axis, tilt_angle_deg
from .pca import OnlinePCA
from .periodic import PeriodicCounter, analyse_array
from .recordings import MAX_RATE_HZ, MIN_RATE_HZ, Recording
from .rep_counter import Biquad, CounterConfig, RepCounter
from .signals import SignalSpec
from .slow import Arbiter, SlowTiltCounter, analyse_slow


@dataclass
class Event:
    """An engine event. ``kind`` is ``"rep_started"`` or ``"rep_completed"``; ``t_s`` is the
    time of the sample that produced the event; ``count`` the reps completed so far;
    ``rep`` the metrics (completed reps only)."""

    kind: Literal["rep_started", "rep_completed"]
    t_s: float
    count: int
    rep: RepMetrics | None = None


@dataclass
class AnalysisResult:
    """Result of analysing a recording (or a finished stream)."""

    reps: list[RepMetrics]
    signal: str
    unit: str
    sample_rate_hz: float
    warnings: list[str] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    #: Estimated probability that the count is within one rep of the truth (confidence.py).
    confidence: float = math.nan

    @property
    def count(self) -> int:
        return len(self.reps)

    def to_dict(self) -> dict:
        """The ``openrehab count --json`` object."""
        return {
            "reps": self.count,
            "repetitions": [_rep_json(r) for r in self.reps],
            "confidence": None if self.confidence != self.confidence else self.confidence,
            "signal": self.signal,
            "sample_rate_hz": round(self.sample_rate_hz, 3),
            "warnings": list(self.warnings),
        }


#: The per-repetition fields of ``openrehab count --json`` (and of stored repetitions).
REP_JSON_KEYS = (
    "start_s",
    "end_s",
    "peak_s",
    "rom",
    "rom_unit",
    "duration_s",
    "peak_velocity",
    "mean_velocity",
    "time_to_peak_velocity_s",
    "sparc",
    "ldlj",
    "ldlj_kind",
    "velocity_peaks",
    "too_fast",
    "confidence",
)


def _rep_json(r: RepMetrics) -> dict:
    d = r.to_dict()
    return {k: d[k] for k in REP_JSON_KEYS}


class MotionEngine:
    """Streaming engine: raw sensor rows in, repetition events out.

    Parameters
    ----------
    channels, kind, aspect:
        Recording layout (see :class:`~openrehab.motion.recordings.Recording`).
    fs_hz:
        Nominal sample rate in Hz (filters are designed for it).
    spec:
        What to count (:class:`~openrehab.motion.signals.SignalSpec`); default automatic.
    config:
        Detection parameters; defaults depend on the signal (see :func:`default_config`).

    ``push(t_s, row)`` returns a list of :class:`Event`; ``finish()`` flushes a rep that
    is returning to rest when the stream ends.
    """

    def __init__(
        self,
        channels: tuple[str, ...],
        kind: str,
        fs_hz: float,
        spec: SignalSpec | None = None,
        config: CounterConfig | None = None,
        aspect: float = 1.0,
        path: object = None,
        sets_only: bool = False,
    ):
        if not MIN_RATE_HZ <= fs_hz <= 10 * MAX_RATE_HZ:
            raise ValueError(
                f"sample rate {fs_hz:.3g} Hz is out of range for counting repetitions "
                f"({MIN_RATE_HZ:g}-{10 * MAX_RATE_HZ:g} Hz)"
            )
        self.spec = spec or SignalSpec()
        self.extractor: Extractor = build_extractor(
            (tuple(channels), kind, aspect, path), self.spec
        )
        self.fs = float(fs_hz)
        self.config = config or default_config(self.extractor)
        ex = self.extractor
        self.reps: list[RepMetrics] = []
        self.latencies_s: list[float] = []
        self._raw_src: np.ndarray | None = None
        self._raw_t: np.ndarray | None = None
        #: IMU automatic mode: period-based counter (see periodic.py) instead of the
        #: level-crossing state machine (which is then not built).
        self.periodic: PeriodicCounter | None = None
        self.counter: RepCounter | None = None
        self.pca: OnlinePCA | None = None
        self._keep_rows = bool(ex.accel_idx) or bool(ex.gyro_idx)
        if ex.repetitive_only and ex.kind == "imu":
            self._imu_cols = list(ex.accel_idx) + list(ex.gyro_idx)
            c0 = self._imu_cols[0]
            contiguous = self._imu_cols == list(range(c0, c0 + len(self._imu_cols)))
            self._imu_sel: slice | list[int] = (
                slice(c0, c0 + len(self._imu_cols)) if contiguous else self._imu_cols
            )
            self.periodic = PeriodicCounter(self.fs, len(ex.accel_idx), len(ex.gyro_idx))
            # Slow sets (reps slower than the periodic search range): tilt counter.
            self.slow = SlowTiltCounter(self.fs, len(ex.accel_idx))
            self.arbiter = Arbiter(self.slow.cfg.overlap)
            self._acc_sel = _cols(ex.accel_idx)
            self._gyr_sel = _cols(ex.gyro_idx)
            self._speed_kernel = _hann_kernel(self.fs)
            pc = self.periodic.cfg
            n_ring = int((pc.window_s + pc.max_cycle_frac * pc.max_period_s + 2.0) * self.fs)
            sc = self.slow.cfg  # a slow set's first reps are reported when it is confirmed
            n_ring = max(n_ring, int(((sc.set_reps + 1) * sc.max_rep_s + 5.0) * self.fs))
        else:
            self.counter = RepCounter(self.fs, self.config)
            if ex.n_out > 1:
                self.pca = OnlinePCA(
                    ex.n_out,
                    self.fs,
                    average=ex.average_sides,
                    noise_q=NOISE_Q if ex.noise_weighted else None,
                )
            n_ring = int((self.config.max_rep_s + self.config.max_settle_s + 2.0) * self.fs) + 4
        #: Automatic mode on body landmarks (and with ``sets_only``, a named body signal): a
        #: period-based counter on landmark features and the gate that decides which reps
        #: count, only those of a set (auto_body.py).
        self.body: BodyPeriodic | None = None
        sdef = self.spec.definition
        named_body = sets_only and sdef is not None and sdef.sensor == "pose"
        if ex.label == "auto:body" or (named_body and ex.kind in ("pose", "skeleton")):
            self.body = BodyPeriodic.build(tuple(channels), kind, aspect, self.fs)
        self._deferred: list[tuple] | None = None  # file path: gate candidates, in order
        self.integrate = ex.unit == "deg" and ex.kind == "imu"  # gyro -> angle
        self._angle = 0.0
        self._t_last = math.nan
        self._t_first = math.inf  # time of the first sample pushed
        # Frames with data, and those whose signal could not be computed (joints hidden).
        self.n_frames = 0
        self.n_unusable = 0
        self.ring: deque[tuple[float, float, np.ndarray | None]] = deque(maxlen=n_ring)
        self._durs: deque[float] = deque(maxlen=self.config.history)
        self._t_prev_end = -math.inf

    # -- streaming -----------------------------------------------------------------------
    def push(self, t_s: float, row: np.ndarray) -> list[Event]:
        """Feed one raw sample (row of the recording's channels) taken at ``t_s`` seconds."""
        if t_s < self._t_first:
            self._t_first = t_s
        if self.periodic is not None:
            return self._push_periodic(t_s, np.asarray(row, dtype=float))
        r = np.asarray(row, dtype=float).reshape(1, -1)
        evs = self._push_signal(t_s, r)
        if self.body is not None:
            reps = self.body.push(t_s, r[0])
            if reps:
                evs += self._gate_periodic(reps, t_s)
        return evs

    def _push_signal(self, t_s: float, r: np.ndarray) -> list[Event]:
        sig = self.extractor.rows(r)[0]
        has_data = not np.isnan(r).all()
        self.n_frames += has_data
        if sig.size > 1:
            pca = self.pca
            assert pca is not None
            nan = np.isnan(sig)
            if nan.all() or (nan.any() and not pca.average):
                self.n_unusable += has_data
                return []
            x = pca.push(sig)
        else:
            x = float(sig[0])
            if x != x:
                self.n_unusable += has_data
        return self._push_scalar(t_s, x, r[0])

    def _push_periodic(self, t_s: float, row: np.ndarray) -> list[Event]:
        x = row[self._imu_sel]
        if math.isnan(x @ x):  # a missing value (NaN) makes the dot product NaN
            return []
        self.ring.append((t_s, 0.0, row))
        reps = self.periodic.push(t_s, x)  # type: ignore[union-attr]
        evs = self.slow.push(t_s, row[self._acc_sel])
        if not (reps or evs):
            return []
        return self._periodic_events(self._arbitrate(reps, [(t_s, e) for e in evs]), t_s)

    def _arbitrate(self, reps: list[dict], slow: list[tuple[float, tuple]]) -> list[dict]:
        """Period-based reps and slow-set events, merged in emission order (period-based
        first at equal times, as in :meth:`push`), through the :class:`~.slow.Arbiter`."""
        assert self.periodic is not None
        d = self.periodic.delay_s
        arb = self.arbiter
        items = [(r["t_emit"], 0, i, r) for i, r in enumerate(reps)]
        items += [(te, 1, i, e) for i, (te, e) in enumerate(slow)]
        items.sort(key=lambda it: it[:3])
        out: list[dict] = []
        for te, src, _i, obj in items:
            if src == 0:
                out += arb.periodic(obj, (obj["t_start"] - d, obj["t_end"] - d), te)
            else:
                out += arb.slow(obj, te)
        return out

    def _periodic_events(self, reps: list[dict], t_now: float) -> list[Event]:
        out: list[Event] = []
        for info in reps:
            rep = self._periodic_metrics(info)
            out.append(Event("rep_started", t_now, len(self.reps)))
            out.append(self._emit(rep, info["t_emit"]))
        return out

    def _periodic_metrics(self, info: dict) -> RepMetrics:
        """Metrics of a period-counted IMU rep from the raw rows it spans."""
        assert self.periodic is not None
        d = info.get("delay", self.periodic.delay_s)
        t0, t1 = info["t_start"] - d, info["t_end"] - d
        if self._raw_src is not None:  # file path: all rows in memory
            ts, rows = self._raw_t, self._raw_src
            i0, i1 = np.searchsorted(ts, [t0, t1])
            # ... but only those a live session had when the rep was reported (an early
            # report can end at a turning point the stream has just reached).
            seen = int(np.searchsorted(ts, info["t_emit"], side="right"))
            i1 = max(min(i1 + 1, seen), i0 + 2)
            t = ts[i0:i1]
            rows = rows[i0:i1]
        else:
            # The same rows as the file path: from the first at or after t0 through the
            # first at or after t1 (at least two), newest first from the ring's end.
            seg = []
            t_seen = info["t_emit"]  # (a bridged gap's reps are reported with its times)
            for s in reversed(self.ring):
                if s[0] < t0:
                    break
                if s[0] <= t_seen:
                    seg.append(s)
            seg.reverse()
            j = bisect.bisect_left([s[0] for s in seg], t1)
            seg = seg[: max(j + 1, 2)]
            if len(seg) < 2:
                seg = list(self.ring)[-2:]
            t = np.array([s[0] for s in seg])
            rows = np.array([s[2] for s in seg])
        ex = self.extractor
        acc = rows[:, self._acc_sel]
        # Range of motion: the sensor's rotation during the rep, in degrees (orientation.py).
        if ex.gyro_idx:
            g = rows[:, self._gyr_sel]
            x, rate = rotation_about_main_axis(t, g)
            # Angular speed about the rep's axis, smoothed like the camera signals (about
            # 3 Hz): gyroscope noise and tremor are not sub-movements.
            speed = np.abs(_smooth(rate, self._speed_kernel))
        else:
            x = tilt_angle_deg(acc, self.fs)
            speed = np.abs(np.gradient(x, t)) if x.size > 1 else np.zeros(x.size)
        m = rep_metrics(
            t,
            x,
            self.fs,
            unit="deg",
            start_s=t0,
            end_s=t1,
            peak_s=info["t_peak"] - d,
            accel=acc,
            speed=speed,
            max_velocity=self.spec.max_velocity_deg_s,
        )
        holes = (float(t[0]) - t0, t1 - float(t[-1]), float(np.max(np.diff(t))))
        if max(holes) > self.periodic.cfg.gap_reset_s:
            # The rep spans a bridged data gap: it is counted, but its angle and speed
            # were not measured through the gap.
            nan = math.nan
            return replace(
                m,
                rom=nan,
                peak_velocity=nan,
                mean_velocity=nan,
                time_to_peak_velocity_s=nan,
                sparc=nan,
                ldlj=nan,
                velocity_peaks=0,
                too_fast=False,
            )
        # A period-counted rep spans one cycle, but its boundaries may fall mid-movement
        # (filter phase): the angle's full excursion in the cycle is its range of motion.
        return replace(m, rom=float(x.max() - x.min()) if x.size else math.nan)

    def _push_scalar(self, t_s: float, x: float, raw: np.ndarray | None) -> list[Event]:
        if x != x:  # NaN: no usable sample (no pose, PCA warming up)
            return []
        if self.integrate:
            x = self._integrate(t_s, x)
        c = self.counter
        assert c is not None
        gap = t_s - c.t_prev > self.config.gap_reset_s
        if gap:
            c.lp.reset()
        y = c.lp(x)
        self.ring.append((t_s, y, raw if self._keep_rows else None))
        return self._handle(c.step(t_s, x, y, gap), t_s)

    def _integrate(self, t_s: float, rate_deg_s: float) -> float:
        # Leaky integration of the dominant gyro axis (drift-free over ~10 s).
        dt = 0.0 if self._t_last != self._t_last else min(t_s - self._t_last, 0.2)
        self._t_last = t_s
        self._angle = self._angle * (1.0 - dt / 10.0) + rate_deg_s * dt
        return self._angle

    def finish(self) -> list[Event]:
        """End of stream: a rep that already returned past its threshold is completed."""
        if self.periodic is not None:
            t_end = self.periodic.t_prev
            reps = self.periodic.finish()
            evs = [(self.slow.t_prev, e) for e in self.slow.finish()]
            return self._periodic_events(self._arbitrate(reps, evs), t_end)
        c = self.counter
        assert c is not None
        evs: list[tuple[str, dict]] = []
        for m in c.machines:
            if m.state == 2:
                evs.append(c._complete(m, c.t_prev))
                m.state = 0
        out = self._handle(evs, c.t_prev)
        if self.body is not None and self._deferred is None:
            t_end = max(c.t_prev, self.body.counter.t_prev)
            out += self._gate_periodic(self.body.counter.finish(), t_end)
            out += self._release(self.body.gate.finish(), t_end)
        return out

    # -- events --------------------------------------------------------------------------
    def _handle(self, items: list[tuple[str, dict]], t_now: float) -> list[Event]:
        events: list[Event] = []
        for kind, info in items:
            if self.body is not None and kind != "rep":  # the gate follows reps in progress
                events += self._to_gate(info["t_start"] if kind == "start" else None, t_now)
            if kind == "start":
                events.append(Event("rep_started", t_now, len(self.reps)))
            elif kind == "rep":
                for part in self._split_long(info):
                    rep = self._metrics(part)
                    if self.body is None:
                        events.append(self._emit(rep, t_now))
                        continue
                    events += self._to_gate(Candidate(rep.start_s, rep.end_s, "lc", rep), t_now)
        return events

    # -- only reps of a set (auto_body.py) ------------------------------------------------------
    def _to_gate(self, obj: Candidate | float | None, t_now: float) -> list[Event]:
        """A level-crossing rep (or the start time of one in progress, ``None`` when it was
        dropped) for the gate: at once when streaming; in order after the loop in the file
        path (:meth:`_settle_deferred`)."""
        if self._deferred is not None:
            self._deferred.append((t_now, 0, len(self._deferred), obj))
            return []
        assert self.body is not None
        if not isinstance(obj, Candidate):
            self.body.gate.lc_started(obj)
            return []
        return self._release(self.body.gate.lc(obj), t_now)

    def _gate_periodic(self, reps: list[dict], t_now: float) -> list[Event]:
        assert self.body is not None
        out: list[Event] = []
        for info in reps:
            out += self._release(self.body.gate.periodic(self.body.candidate(info)), info["t_emit"])
        return out

    def _release(self, cands: list[Candidate], t_now: float) -> list[Event]:
        """Report the candidates the gate let through, with their confidence."""
        out: list[Event] = []
        for c in cands:
            if c.src == "lc":
                rep = c.payload
            else:  # a period-counted rep: measured on the same signal as the others
                assert self.counter is not None and self.body is not None
                # _metrics takes times before the level-crossing low-pass's delay correction
                shift = self.counter.delay_s - self.body.counter.delay_s
                info = c.payload
                rep = self._metrics({k: info[k] + shift for k in ("t_start", "t_end", "t_peak")})
            out.append(self._emit(replace(rep, confidence=REP_CONFIDENCE[c.how]), t_now))
        return out

    def _settle_deferred(self, periodic: tuple[list[dict], float]) -> None:
        """File path: feed the gate the level-crossing and periodic candidates in the order
        a stream would have (by emission time, level-crossing first), then end it."""
        assert self.body is not None and self._deferred is not None and self.counter is not None
        periodic_reps, t_last = periodic
        items = self._deferred
        self._deferred = None
        base = len(items)
        items += [(r["t_emit"], 1, base + i, r) for i, r in enumerate(periodic_reps)]
        items.sort(key=lambda it: it[:3])
        t_end = max(self.counter.t_prev, t_last)
        for t_now, src, _i, obj in items:
            if src == 0:
                self._to_gate(obj, t_now)
            else:
                self._gate_periodic([obj], t_now)
        self._release(self.body.gate.finish(), t_end)

    def _split_long(self, info: dict) -> list[dict]:
        """Split a rep about twice as long as the set's tempo at a clear mid return.

        The state machine ends a rep after a return of ``return_frac`` (60 %) of its
        excursion; two reps whose intermediate return falls just short of it merge into one
        rep of about twice the set's median duration. Such a rep (>= ``split_factor`` x the
        median of the last ``history`` rep durations, at least 3 known) is split at the
        deepest intermediate minimum whose return is >= ``split_return`` of the excursion
        before it, if both parts last >= half the median and are full reps (>= ``accept_frac``
        x A_ref). Uses the filtered signal of the ring buffer (same in both paths).
        """
        cfg = self.config
        durs = self._durs
        if info["t_start"] - self._t_prev_end > cfg.forget_s:
            durs.clear()
        parts = [info]
        dur = info["t_end"] - info["t_start"]
        if len(durs) >= 3:
            med = sorted(durs)[len(durs) // 2]
            if dur >= cfg.split_factor * med:
                parts = self._split_at_return(info, med) or parts
        for q in parts:
            durs.append(q["t_end"] - q["t_start"])
        self._t_prev_end = info["t_end"]
        return parts

    def _split_at_return(self, info: dict, med: float) -> list[dict] | None:
        assert self.counter is not None
        cfg = self.config
        t0, t1 = info["t_start"], info["t_end"]
        seg = [(s[0], s[1]) for s in self.ring if t0 <= s[0] <= t1]
        if len(seg) < 5:
            return None
        t = np.array([s[0] for s in seg])
        v = info["sign"] * np.array([s[1] for s in seg])
        pre = np.maximum.accumulate(v)
        post = np.maximum.accumulate(v[::-1])[::-1]
        a_min = cfg.accept_frac * self.counter.a_ref()
        k = np.arange(1, v.size - 1)
        amp1 = pre[k] - v[0]
        amp2 = post[k] - v[k]
        ok = (
            (v[k] <= v[k - 1])
            & (v[k] <= v[k + 1])
            & (t[k] - t0 >= 0.5 * med)
            & (t1 - t[k] >= 0.5 * med)
            & (amp1 > 0)
            & (amp1 >= a_min)
            & (amp2 >= a_min)
            & (pre[k] - v[k] >= cfg.split_return * amp1)
        )
        if not ok.any():
            return None
        cand = k[ok]
        j = int(cand[np.argmin(v[cand])])
        i1 = int(np.argmax(v[: j + 1]))
        i2 = j + int(np.argmax(v[j:]))
        first = dict(info, t_end=float(t[j]), t_peak=float(t[i1]), amplitude=float(amp1[j - 1]))
        second = dict(info, t_start=float(t[j]), t_peak=float(t[i2]), amplitude=float(amp2[j - 1]))
        return [first, second]

    def _emit(self, rep: RepMetrics, t_now: float) -> Event:
        t_first = self._t_first
        if rep.start_s < t_first:
            # The recording began during this rep (a start estimated from filtered data can
            # fall before it): the rep is reported from the first sample.
            cut = t_first - rep.start_s
            rep = replace(
                rep,
                start_s=t_first,
                duration_s=rep.end_s - t_first,
                time_to_peak_velocity_s=rep.time_to_peak_velocity_s - cut,
            )
        if rep.confidence != rep.confidence:  # not set by the gate: fit to the set so far
            prev = [r.duration_s for r in self.reps[-5:] if rep.start_s - r.end_s < SET_BREAK_S]
            rep = replace(rep, confidence=rep_confidence(rep.duration_s, prev))
        self.reps.append(rep)
        self.latencies_s.append(t_now - rep.end_s)
        return Event("rep_completed", t_now, len(self.reps), rep)

    def _metrics(self, info: dict) -> RepMetrics:
        assert self.counter is not None
        d = self.counter.delay_s
        t0, t1 = info["t_start"], info["t_end"]
        seg = [s for s in self.ring if t0 <= s[0] <= t1]
        if len(seg) < 2:
            seg = list(self.ring)[-2:]
        t = np.array([s[0] for s in seg]) - d
        x = np.array([s[1] for s in seg])
        ex = self.extractor
        speed = None
        accel = None
        vmax = self.spec.max_velocity_deg_s
        if ex.kind == "imu" and self._keep_rows:
            if self._raw_src is not None:  # file path: the ring holds row indices
                rows = self._raw_src[[s[2] for s in seg]]
            else:
                rows = np.array([s[2] for s in seg])
            accel = rows[:, list(ex.accel_idx)]
            if ex.gyro_idx:
                speed = np.degrees(np.linalg.norm(rows[:, list(ex.gyro_idx)], axis=1))
        unit = ex.unit
        if unit != "deg" and speed is None:
            vmax = None
        return rep_metrics(
            t,
            x,
            self.fs,
            unit=unit,
            start_s=t0 - d,
            end_s=t1 - d,
            peak_s=info["t_peak"] - d,
            accel=accel,
            speed=speed,
            max_velocity=vmax,
        )

    def result(self, warnings: list[str] | None = None) -> AnalysisResult:
        """Reps in time order (an IMU set's leading edge rep is reported at its end)."""
        notes = list(warnings or [])
        if self.n_unusable > UNUSABLE_WARN_FRAC * self.n_frames:
            notes.append(
                f"signal {self.extractor.label!r} could not be computed in {self.n_unusable} "
                f"of {self.n_frames} frames (its joints were not visible); those are skipped"
            )
        reps = sorted(self.reps, key=lambda r: r.start_s)
        return AnalysisResult(
            reps,
            self.extractor.label,
            self.extractor.unit,
            self.fs,
            notes,
            list(self.latencies_s),
            set_confidence([r.confidence for r in reps], [r.duration_s for r in reps]),
        )


#: Automatic mode on body landmarks: a channel whose noise index (difference variance over
#: variance) is this much counts half (see OnlinePCA). UI-PRMD and the videos score the same
#: for 0.15-1.0 (OBO 0.98, exact 0.91-0.92 on UI-PRMD); 0.5 is the middle.
NOISE_Q = 0.5

#: A pause this long (s) between reps starts a new set (rep confidence compares within a set).
SET_BREAK_S = 30.0

#: Warn when a signal cannot be computed in more than this share of the frames with data.
UNUSABLE_WARN_FRAC = 0.2


def _cols(idx: tuple[int, ...]) -> slice | list[int]:
    """Column selector: a slice for contiguous columns (a view, no fancy-index copy)."""
    if idx and list(idx) == list(range(idx[0], idx[0] + len(idx))):
        return slice(idx[0], idx[0] + len(idx))
    return list(idx)


def _hann_kernel(fs_hz: float, width_s: float = 0.24) -> np.ndarray:
    """Normalised Hann window of ``width_s`` (0.24 s: -3 dB near 3 Hz, zero phase)."""
    n = max(1, round(width_s * fs_hz)) | 1  # odd: centred
    w = np.hanning(n + 2)[1:-1]
    return w / w.sum()


def _smooth(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Zero-phase smoothing of ``x`` by ``kernel`` (edges padded with the end values)."""
    h = kernel.size // 2
    if h == 0 or x.size < 2:
        return x
    xp = np.concatenate((np.full(h, x[0]), x, np.full(h, x[-1])))
    return np.convolve(xp, kernel, mode="valid")


def default_config(ex: Extractor) -> CounterConfig:
    """Detection parameters of the level-crossing counter for a signal: unit floor from the
    extractor. (IMU automatic mode counts with the period-based counter of
    :mod:`~openrehab.motion.periodic` instead.)"""
    return CounterConfig(min_amplitude=ex.min_amplitude)


def analyse_recording(
    rec: Recording,
    spec: SignalSpec | None = None,
    config: CounterConfig | None = None,
    *,
    streaming: bool = False,
    sets_only: bool = True,
) -> AnalysisResult:
    """Count repetitions and measure each one in a recording.

    ``streaming=True`` feeds the samples one by one through :meth:`MotionEngine.push`
    (the live path); the default runs the same state machine on vectorised
    pre-processing, which gives the same repetitions much faster.

    ``sets_only`` (default): on a camera recording, a named body signal's reps count only
    as part of a set, as in automatic mode (auto_body.py): a file holds whatever happened
    around the set. Live sessions count every rep at once (the person started the set).
    """
    fs = rec.sample_rate_hz
    eng = MotionEngine(
        rec.channels,
        rec.kind,
        fs,
        spec,
        config,
        aspect=rec.aspect,
        path=rec.path,
        sets_only=sets_only,
    )
    if rec.n_samples:
        eng._t_first = float(rec.t_s[0])
    if streaming:
        for t, row in zip(rec.t_s, rec.data, strict=True):
            eng.push(float(t), row)
        eng.finish()
        return eng.result(rec.warnings)
    ex = eng.extractor
    if eng.periodic is not None:
        cols = eng._imu_cols
        x = rec.data[:, cols]
        keep = ~np.isnan(x).any(axis=1)
        if keep.all():
            eng._raw_src, eng._raw_t = rec.data, rec.t_s
        else:
            eng._raw_src, eng._raw_t, x = rec.data[keep], rec.t_s[keep], x[keep]
        reps, _d = analyse_array(
            eng._raw_t, x, fs, len(ex.accel_idx), len(ex.gyro_idx), eng.periodic.cfg
        )
        slow = analyse_slow(eng._raw_t, x[:, : len(ex.accel_idx)], fs, eng.slow.cfg)
        eng._periodic_events(eng._arbitrate(reps, slow), 0.0)
        return eng.result(rec.warnings)
    sig = ex.rows(rec.data)
    # Averaged sides (one joint, two sides): one visible side is enough (OnlinePCA.fill).
    some = eng.pca is not None and eng.pca.average
    keep = ~(np.isnan(sig).all(axis=1) if some else np.isnan(sig).any(axis=1))
    has_data = ~np.isnan(rec.data).all(axis=1)
    eng.n_frames = int(has_data.sum())
    eng.n_unusable = int((has_data & ~keep).sum())
    t = rec.t_s[keep]
    sig = sig[keep]
    raw = rec.data[keep]
    # Same PCA block updates as push(); single signals pass through.
    x = eng.pca.project_array(sig) if eng.pca is not None else sig[:, 0]
    ok = ~np.isnan(x)
    t, x, raw = t[ok], x[ok], raw[ok]
    if eng.integrate:
        x = np.array([eng._integrate(float(tt), float(v)) for tt, v in zip(t, x, strict=True)])
    c = eng.counter
    assert c is not None
    # Segments separated by gaps get a fresh filter, exactly like push().
    gaps = np.flatnonzero(np.diff(t) > eng.config.gap_reset_s) + 1
    bounds = [0, *gaps.tolist(), t.size]
    y = np.empty_like(x)
    for a, b in itertools.pairwise(bounds):
        y[a:b] = c.lp.filter_array(x[a:b])
    keep_rows = eng._keep_rows
    eng._raw_src = raw
    if eng.body is not None:
        # The gate is fed after the loop (with the periodic counter's reps), so periodic
        # reps are measured from a ring that keeps the whole recording.
        eng._deferred = []
        eng.ring = deque(eng.ring)
    ring = eng.ring
    step = c.step
    handle = eng._handle
    tl = t.tolist()
    xl = x.tolist()
    yl = y.tolist()
    gap_s = eng.config.gap_reset_s
    t_prev = -math.inf
    for i in range(len(tl)):
        ti = tl[i]
        ring.append((ti, yl[i], i if keep_rows else None))
        items = step(ti, xl[i], yl[i], ti - t_prev > gap_s)
        t_prev = ti
        if items:
            handle(items, ti)
    eng.finish()
    if eng.body is not None:
        eng._settle_deferred(eng.body.analyse(rec.t_s, rec.data))
    return eng.result(rec.warnings)


__all__ = [
    "REP_JSON_KEYS",
    "AnalysisResult",
    "Biquad",
    "CounterConfig",
    "Event",
    "MotionEngine",
    "OnlinePCA",
    "RepCounter",
    "analyse_recording",
    "default_config",
]
