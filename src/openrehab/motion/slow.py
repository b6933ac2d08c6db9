"""Slow-set counting for IMUs in automatic mode (tilt of the gravity vector).

The period-based counter (:mod:`.periodic`) searches rep periods up to 4.5 s. Slow
rehabilitation movements (stretches at 10-30 deg/s: 5-10 s per rep) are outside that range.
For slow movement gravity dominates the accelerometer, so the direction of the (block
averaged) acceleration is the sensor's tilt, a joint-orientation signal in degrees:

1. rows are averaged in blocks to about ``rate_hz`` (3.125 Hz), the accelerometer vector is
   normalised (unit gravity direction, in degrees: a change of direction of ``a`` radians
   moves it by about ``a`` x 57.3) and projected on the direction in which it moves
   (:class:`MovementDirection`, tau 20 s, 2 s blocks; not the direction of its spread, which
   picking the weight up dominated): the tilt angle in the plane of the movement, in
   degrees (the chord of the arc: 5 % short at 60 deg, 10 % at 90 deg);
2. the level-crossing counter of the angle signals (:class:`~.rep_counter.RepCounter`) runs on it
   with a ROM floor of ``min_rom_deg`` (20 deg) and rep durations ``min_rep_s`` .. ``max_rep_s``
   (3.5-20 s): everyday gestures (0.5-3 s) are too short to be candidates;
3. a candidate rep only counts as part of a *slow set*: ``set_reps`` (3) consecutive
   candidates whose durations and ROMs are within a factor ``ratio`` (2) of the set's
   median and that follow each other within a pause of ``max(pause_s, pause_frac x median
   duration)``. The first reps of a set are reported when it is confirmed, later ones when
   they complete; up to ``rescue_reps`` candidates that broke off the chain just before it
   (see :meth:`SlowTiltCounter._rescued`) are reported with the first ones.

Arbitration with the period-based counter (:class:`Arbiter`): a confirmed slow set owns its
time span (period-based reps overlapping it by more than half are dropped, never counted
twice); while a chain of slow candidates is pending, period-based reps after its start are
held back, then dropped (if the chain becomes a slow set covering them) or released. A slow
rep overlapping an already reported period-based rep is dropped. Both paths (streaming and
file) feed the arbiter the same event sequence, so they give the same reps.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from .pca import OnlinePCA
from .rep_counter import CounterConfig, RepCounter


@dataclass(frozen=True)
class SlowConfig:
    """Parameters of the slow-set tilt counter (see the module docstring)."""

    rate_hz: float = 3.125
    lowpass_hz: float = 0.6  # low-pass of the tilt angle (slow reps: <= 0.3 Hz)
    min_rom_deg: float = 20.0
    min_rep_s: float = 3.5  # a slow set's median rep; faster sets: period-based counter
    min_candidate_s: float = 3.0  # shortest single candidate rep
    max_rep_s: float = 20.0
    settle_s: float = 0.3  # about one tilt sample: contiguous reps keep their length
    set_reps: int = 3
    ratio: float = 2.0
    level_frac: float = 0.3  # start, peak and end tilt within this x ROM of the last rep's
    pause_s: float = 2.0
    pause_frac: float = 1.0
    pca_tau_s: float = 20.0
    pca_block_s: float = 2.0
    step_cap_deg_s: float = 15.0  # direction of movement: faster steps count as this fast
    across_tau_s: float = 2.0  # the tilt's mean across that direction follows this fast
    rescue_reps: int = 2  # reps just before a confirmed set that broke off its chain
    overlap: float = 0.5
    gap_reset_s: float = 1.0


class MovementDirection(OnlinePCA):
    """:class:`~.pca.OnlinePCA` for the slow tilt: the direction in which the tilt
    *moves* (the covariance of its block-to-block steps, each step capped at ``step_cap``
    per sample), not the one in which it spreads. Picking the weight up before a set tilts
    the wrist once, often by 90 deg or more and about another axis than the reps: as
    spread it outweighed several slow reps for tens of seconds (the set's reps then read
    small and drifting, or not at all), as movement it counts for the few samples it
    lasts. The mean follows the tilt with ``tau_s`` along the direction (slow reps keep
    their amplitude) and with ``across_tau_s`` across it (the offset left by the posture
    change fades in seconds, not minutes, as the direction turns toward the reps).
    Output ``v . (x - mean)`` as in the parent class."""

    def __init__(
        self,
        n: int,
        fs_hz: float,
        tau_s: float,
        block_s: float,
        step_cap: float,
        across_tau_s: float,
    ):
        super().__init__(n, fs_hz, tau_s, block_s)
        self.step_cap = step_cap
        self.alpha_across = 1.0 - math.exp(-self.k / (across_tau_s * fs_hz))
        self.last: np.ndarray | None = None

    def _update(self, block: np.ndarray) -> None:
        prev = block[:1] if self.last is None else self.last[None, :]
        self.last = block[-1]
        steps = np.diff(np.vstack([prev, block]), axis=0)
        size = np.sqrt(np.einsum("ij,ij->i", steps, steps))
        steps *= np.minimum(1.0, self.step_cap / np.maximum(size, 1e-12))[:, None]
        bc = steps.T @ steps / steps.shape[0]
        bm = block.mean(axis=0)
        if self.mean is None:
            self.mean, self.cov = bm, bc
        else:
            a = self.alpha
            delta = bm - self.mean
            along = float(delta @ self.v) * self.v
            self.mean = self.mean + a * along + self.alpha_across * (delta - along)
            self.cov = (1 - a) * self.cov + a * bc
        v = self._power(self.cov, self.v)
        self.v = -v if float(v @ self.v) < 0 else v
        self.w = self.v
        self.ready = True


class SlowTiltCounter:
    """Streaming slow-set counter on accelerometer rows.

    ``push(t, acc)`` returns events: ``("pending", s0)`` (a chain of slow candidates starts
    at ``s0``), ``("rep", info)`` (a slow-set rep: ``t_start``, ``t_peak``, ``t_end``
    already corrected for delays, ``amplitude`` in degrees, ``t_emit``) and ``("idle",
    None)`` (no chain any more).
    """

    def __init__(self, fs_hz: float, n_acc: int, cfg: SlowConfig | None = None):
        self.cfg = cfg = cfg or SlowConfig()
        self.fs = fs_hz
        self.k = max(1, round(fs_hz / cfg.rate_hz))
        self.ft = fs_hz / self.k
        self.n_acc = n_acc
        self._pca_args = (
            n_acc,
            self.ft,
            cfg.pca_tau_s,
            cfg.pca_block_s,
            cfg.step_cap_deg_s / self.ft,
            cfg.across_tau_s,
        )
        self._make_pca = MovementDirection
        self.ccfg = CounterConfig(
            lowpass_hz=cfg.lowpass_hz,
            min_amplitude=cfg.min_rom_deg,
            settle_s=cfg.settle_s,
            max_settle_s=3.0,
            min_rep_s=cfg.min_candidate_s,
            max_rep_s=cfg.max_rep_s,
            forget_s=60.0,
            gap_reset_s=cfg.gap_reset_s,
        )
        self._make_counter = RepCounter
        self.t_prev = -math.inf
        self._reset()
        self.delay_s = self.counter.delay_s + (self.k - 1) / (2.0 * fs_hz)

    def _reset(self) -> None:
        self.pca = self._make_pca(*self._pca_args)
        self.counter = self._make_counter(self.ft, self.ccfg)
        self.acc: np.ndarray | None = None
        self.nacc = 0
        self.first = True
        self.chain: list[dict] = []
        self.lost: deque[dict] = deque(maxlen=4)  # candidates of chains that broke off
        self.on = False  # the chain is a confirmed slow set
        self.hist: deque[tuple[float, float]] = deque(
            maxlen=round(2.5 * self.cfg.max_rep_s * self.ft)
        )

    # -- per raw row ---------------------------------------------------------------------
    def push(self, t: float, acc: np.ndarray) -> list[tuple]:
        out: list[tuple] = []
        if t - self.t_prev > self.cfg.gap_reset_s and self.t_prev > -math.inf:
            out += self.finish()  # a gap ends the segment like the end of a stream
            self._reset()
        self.t_prev = t
        if self.nacc == 0:
            self.acc = acc.copy()
        else:
            self.acc += acc  # type: ignore[operator]
        self.nacc += 1
        if self.nacc < self.k:
            return out
        self.nacc = 0
        a = self.acc
        n = math.sqrt(float(a @ a))  # type: ignore[operator]
        if not n > 0:
            return out
        y = self.pca.push(a * (180.0 / math.pi / n))
        if y != y:
            return out
        x = self.counter.lp(y)
        out += self.step(t, y, x)
        return out

    def step(self, t: float, y: float, x: float) -> list[tuple]:
        """One tilt sample: raw angle ``y``, low-passed ``x`` (degrees)."""
        gap = self.first
        self.first = False
        self.hist.append((t, x))
        items = self.counter.step(t, y, x, gap)
        out: list[tuple] = []
        for kind, info in items:
            if kind == "rep":
                out += self._candidate(info, t)
            elif kind == "abort" and self.chain:
                out += self._end(t)
        if self.chain:
            out += self._check_break(t)
        return out

    def finish(self) -> list[tuple]:
        out: list[tuple] = []
        c = self.counter
        for m in c.machines:
            if m.state == 2:
                kind, info = c._complete(m, self.t_prev)
                m.state = 0
                if kind == "rep":
                    out += self._candidate(info, self.t_prev)
        out += self._end(self.t_prev)
        return out

    # -- slow-set chain ------------------------------------------------------------------
    def _median(self, key: str) -> float:
        v = sorted(r[key] for r in self.chain[-5:])
        return v[len(v) // 2]

    def _pause(self) -> float:
        return max(self.cfg.pause_s, self.cfg.pause_frac * self._median("duration"))

    def _candidate(self, info: dict, t: float) -> list[tuple]:
        d = self.delay_s
        rep = {
            "t_start": info["t_start"] - d,
            "t_peak": info["t_peak"] - d,
            "t_end": info["t_end"] - d,
            "amplitude": float(info["amplitude"]),
            "duration": info["t_end"] - info["t_start"],
            "t_emit": t,
            "delay": 0.0,
            "levels": self._levels(info),
        }
        out: list[tuple] = []
        if self.chain:
            r = self.cfg.ratio
            prev = self.chain[-1]
            dr = rep["duration"] / self._median("duration")
            ar = rep["amplitude"] / self._median("amplitude")
            gap = rep["t_start"] - prev["t_end"]
            # Same posture: a set returns to the same start and reaches the same end
            # orientation each rep (posture shifts and move-and-stay gestures do not).
            tol = self.cfg.level_frac * max(rep["amplitude"], prev["amplitude"])
            same = all(
                abs(u - v) <= tol for u, v in zip(rep["levels"], prev["levels"], strict=True)
            )
            if not (1 / r <= dr <= r and 1 / r <= ar <= r and gap <= self._pause() and same):
                out += self._end(t)
        self.chain.append(rep)
        # cached for _check_break (called every sample while a chain is pending)
        self._break_after = (rep["t_end"] + self.delay_s, self._pause())
        if len(self.chain) == 1:
            out.append(("pending", rep["t_start"]))
        if self.on:
            out.append(("rep", rep))
        elif (
            len(self.chain) >= self.cfg.set_reps and self._median("duration") >= self.cfg.min_rep_s
        ):
            self.on = True
            self.chain[:0] = self._rescued()
            for r_ in self.chain:
                r_["t_emit"] = t
                out.append(("rep", r_))
        if len(self.chain) > 8:
            del self.chain[:-5]
        return out

    def _levels(self, info: dict) -> tuple[float, float, float]:
        """Low-passed tilt (degrees) at the rep's start, peak and end."""
        h = self.hist
        out = []
        for key in ("t_start", "t_peak", "t_end"):
            tk = info[key]
            v = h[-1][1]
            for tt, xx in reversed(h):
                v = xx
                if tt <= tk:
                    break
            out.append(v)
        return out[0], out[1], out[2]

    def _check_break(self, t: float) -> list[tuple]:
        """The chain ends when no rep started within the allowed pause after its last rep."""
        last, pause = self._break_after  # sample time of the last end, allowed pause
        c = self.counter
        moving = any(m.state != 0 for m in c.machines)
        if moving:
            t0 = max(m.t_start for m in c.machines if m.state != 0)
            if t0 - last <= pause:
                return []
        elif t - last <= pause:
            return []
        return self._end(t)

    def _rescued(self) -> list[dict]:
        """Up to ``rescue_reps`` candidates just before a newly confirmed set that broke off
        their chain: each ends at most a pause before the next and is like the set in
        duration and amplitude (within ``ratio``). Their posture levels are not compared:
        while the direction of the tilt settles after the weight was picked up, the first
        reps of a set read smaller and drift, which broke their chain."""
        out: list[dict] = []
        nxt = self.chain[0]
        dur, amp, r = self._median("duration"), self._median("amplitude"), self.cfg.ratio
        while self.lost and len(out) < self.cfg.rescue_reps:
            c = self.lost[-1]
            if not (
                c["t_end"] <= nxt["t_start"] <= c["t_end"] + self._pause()
                and 1 / r <= c["duration"] / dur <= r
                and 1 / r <= c["amplitude"] / amp <= r
            ):
                break
            out.insert(0, self.lost.pop())
            nxt = c
        self.lost.clear()
        return out

    def _end(self, t: float) -> list[tuple]:
        if not self.chain:
            return []
        if self.on:
            self.lost.clear()
        else:
            self.lost.extend(self.chain)
        self.chain = []
        self.on = False
        return [("idle", None)]


def analyse_slow(
    t: np.ndarray, acc: np.ndarray, fs_hz: float, cfg: SlowConfig | None = None
) -> list[tuple[float, tuple]]:
    """Vectorised equivalent of :meth:`SlowTiltCounter.push` over a whole recording (block
    means, normalisation, ``OnlinePCA.project_array``, ``sosfilt``; then the same sequential
    state machine). Returns ``(t_emit, event)`` pairs in emission order."""
    sc = SlowTiltCounter(fs_hz, acc.shape[1], cfg)
    cfg = sc.cfg
    out: list[tuple[float, tuple]] = []
    if t.size == 0:
        return out
    gaps = np.flatnonzero(np.diff(t) > cfg.gap_reset_s) + 1
    bounds = [0, *gaps.tolist(), t.size]
    k = sc.k
    for seg_i, (a, b) in enumerate(itertools.pairwise(bounds)):
        if seg_i:
            sc.t_prev = float(t[a - 1])
            out += [(sc.t_prev, e) for e in sc.finish()]
            sc._reset()
        nd = (b - a) // k
        if nd:
            xm = acc[a : a + nd * k].reshape(nd, k, -1).sum(axis=1)
            tz = t[a + k - 1 : a + nd * k : k]
            nrm = np.sqrt(np.einsum("ij,ij->i", xm, xm))
            good = nrm > 0
            u = xm[good] * ((180.0 / math.pi) / nrm[good])[:, None]
            tz = tz[good]
            y = sc.pca.project_array(u)
            ok = ~np.isnan(y)
            y, tz = y[ok], tz[ok]
            if y.size:
                x = sc.counter.lp.filter_array(y)
                step = sc.step
                for ti, yi, xi in zip(tz.tolist(), y.tolist(), x.tolist(), strict=True):
                    ev = step(ti, yi, xi)
                    if ev:
                        out += [(ti, e) for e in ev]
        sc.t_prev = float(t[b - 1])
    out += [(sc.t_prev, e) for e in sc.finish()]
    return out


class Arbiter:
    """Merges period-based reps and slow-set events (see the module docstring).

    ``periodic(info, span, t_now)`` and ``slow(event, t_now)`` return the reps to report
    now (dicts; a released rep's ``t_emit`` is set to ``t_now``).
    """

    def __init__(self, overlap: float = 0.5):
        self.overlap = overlap
        self.hold_from: float | None = None
        self.held: list[tuple[dict, tuple[float, float]]] = []
        self.owned: deque[list[float]] = deque(maxlen=8)  # slow-set spans [s, e]
        self.set_open = False
        self.p_spans: deque[tuple[float, float]] = deque(maxlen=64)

    def _covered(self, span: tuple[float, float], spans, starts_in: bool = False) -> bool:
        """Overlaps one of ``spans`` by more than ``overlap`` x its duration (or, with
        ``starts_in``, starts inside one: the ringing of the band-pass after a slow set)."""
        s, e = span
        d = max(e - s, 1e-9)
        return any(
            min(e, b) - max(s, a) > self.overlap * d or (starts_in and a <= s < b) for a, b in spans
        )

    def periodic(self, info: dict, span: tuple[float, float], t_now: float) -> list[dict]:
        if self._covered(span, self.owned, True):
            return []
        if self.hold_from is not None and span[1] > self.hold_from:
            self.held.append((info, span))
            return []
        self.p_spans.append(span)
        return [info]

    def slow(self, ev: tuple, t_now: float) -> list[dict]:
        kind, val = ev
        out: list[dict] = []
        if kind == "pending":
            self.hold_from = val
            out += self._release(t_now, lambda sp: sp[1] <= val)
        elif kind == "rep":
            span = (val["t_start"], val["t_end"])
            if self._covered(span, self.p_spans):
                return out
            if self.set_open:
                self.owned[-1][1] = max(self.owned[-1][1], span[1])
            else:
                self.owned.append([span[0], span[1]])
                self.set_open = True
            self.held = [h for h in self.held if not self._covered(h[1], self.owned, True)]
            out.append(val)
        else:  # idle
            self.hold_from = None
            self.set_open = False
            out += self._release(t_now, lambda sp: True)
        return out

    def _release(self, t_now: float, cond) -> list[dict]:
        out: list[dict] = []
        keep = []
        for info, span in self.held:
            if not cond(span):
                keep.append((info, span))
            elif not self._covered(span, self.owned, True):
                info["t_emit"] = t_now
                self.p_spans.append(span)
                out.append(info)
        self.held = keep
        return out


__all__ = ["Arbiter", "SlowConfig", "SlowTiltCounter", "analyse_slow"]
