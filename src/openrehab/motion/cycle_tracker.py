"""The sequential part of the period-based counter: rep cycles of the window's projection,
one decimated sample at a time (extremum detector, early reports in an established set, edge
reps at a set's end, bridged gaps). See ``periodic.py`` for the method."""

from __future__ import annotations

import bisect
import itertools
import math
from collections import deque

import numpy as np
from scipy import signal as sps

from .periodic_config import PeriodicConfig
from .periodic_window import WindowStats

_Q16 = np.linspace(0.0, 1.0, 16)


class CycleTracker:
    """Sequential part of the counter, one decimated sample at a time.

    ``step(t, z, stats)``: ``z`` the band-passed channels, ``stats`` new window statistics
    (at update instants) or ``None``. Returns completed reps as dicts with ``t_start``,
    ``t_peak``, ``t_end`` (times of the decimated samples, before delay correction),
    ``amplitude`` and ``t_emit``.
    """

    def __init__(
        self, fa: float, cfg: PeriodicConfig, n_window: int, band_sos: np.ndarray | None = None
    ):
        self.fa = fa
        self.cfg = cfg
        self._band_tf = sps.sos2tf(band_sos) if band_sos is not None else None
        self._phase_delays: dict[tuple[int, int], float] = {}
        self.buf: deque[tuple[float, np.ndarray]] = deque(maxlen=n_window)
        self.on = False
        self.v: np.ndarray | None = None
        self.st: WindowStats | None = None
        self.last_end = -math.inf
        self._designs: dict[int, tuple] = {}
        self.lp_delay = 0.0  # group delay of the adaptive low-pass in use (s)
        self._lp_for: WindowStats | None = None
        self._lp_coef: tuple = ()
        self._h_for: WindowStats | None = None
        self._h_val = 0.0
        self._n_hist = round((2.0 * cfg.max_cycle_frac * cfg.max_period_s + 1.0) * fa)
        # Bridged data gaps (raw times) of this segment, in time order.
        self.gaps: deque[tuple[float, float]] = deque()
        self._set_period = 0.0  # period of the last set (s), for resuming after a pause
        self._reset_detector()

    def _design(self, period_s: float) -> tuple:
        """Low-pass at ``lowpass_cycles / period`` (cached per lag)."""
        j = round(period_s * self.fa)
        d = self._designs.get(j)
        if d is None:
            fc = min(self.cfg.lowpass_cycles / (j / self.fa), 0.45 * self.fa)
            b, a = sps.butter(2, fc, fs=self.fa)
            b0, b1, b2 = (float(c) for c in b)
            a1, a2 = float(a[1]), float(a[2])
            _w, gd = sps.group_delay((b, a), w=[0.05 * fc], fs=self.fa)
            d = (b0, b1, b2, a1, a2, float(gd[0]) / self.fa)  # last: group delay (s)
            self._designs[j] = d
        return d

    def phase_delay(self, cycle_s: float, lowpass: bool = True) -> float:
        """Time shift (s) of a cycle of ``cycle_s`` seconds through the band-pass and (with
        ``lowpass``) the adaptive low-pass in use: their phase delay at its frequency
        (cached per lag).

        A periodic movement's turning points are those of its fundamental; a filter shifts
        a sinusoid by its phase delay ``-phase(f) / (2 pi f)``, not by its group delay
        (the band-pass's high-pass half *advances* slow cycles)."""
        j = max(1, round(cycle_s * self.fa))
        st = self._lp_for
        has_lp = lowpass and st is not None and st.period_s == st.period_s
        jl = round(st.period_s * self.fa) if has_lp else 0  # type: ignore[union-attr]
        d = self._phase_delays.get((j, jl))
        if d is None:
            f = self.fa / j
            h = 1.0 + 0.0j
            if self._band_tf is not None:
                h *= sps.freqz(*self._band_tf, worN=[f], fs=self.fa)[1][0]
            if jl:
                b0, b1, b2, a1, a2, _gd = self._design(jl / self.fa)
                h *= sps.freqz([b0, b1, b2], [1.0, a1, a2], worN=[f], fs=self.fa)[1][0]
            # unwrapped: these filters shift a cycle by less than half of it
            d = -math.atan2(h.imag, h.real) / (2.0 * math.pi * f)
            self._phase_delays[(j, jl)] = d
        return d

    def _lp(self, y: float) -> float:
        st = self.st
        if st is None or st.period_s != st.period_s:
            return y
        if st is not self._lp_for:
            self._lp_for, self._lp_coef = st, self._design(st.period_s)
        b0, b1, b2, a1, a2, self.lp_delay = self._lp_coef
        if self._z is None:
            # steady state for a constant input y (direct form II transposed)
            self._z = [y - b0 * y, b2 * y - a2 * y]
        z = self._z
        out = b0 * y + z[0]
        z[0] = b1 * y - a1 * out + z[1]
        z[1] = b2 * y - a2 * out
        return out

    def _reset_detector(self) -> None:
        self._z: list[float] | None = None
        self.dir = 0
        self.hi = -math.inf
        self.lo = math.inf
        self.t_hi = self.t_lo = 0.0
        self.lo_at_hi = (math.inf, 0.0)
        self.hi_at_lo = (-math.inf, 0.0)
        self.ext: list[tuple[int, float, float]] = []  # (type +1 max / -1 min, t, value)
        self.cur = (0.0, 0.0)
        self.counts = {1: 0, -1: 0}
        self.pending: dict[int, list[dict]] = {1: [], -1: []}
        self.last_cycle: dict[int, tuple[float, float] | None] = {1: None, -1: None}
        self.yt: list[float] = []  # filtered projection history (bounded, see _detect)
        self.yv: list[float] = []
        self.emitted = 0
        self.last_pol = 0  # polarity of the last reported rep
        self.rep_end = 0.0  # its reported end (t_end)
        # Early reports: running turning point [key, value, t] of the band-passed projection
        # after the current rep's peak, and the number of the rep reported early that the
        # detector has not counted yet (0: none).
        self.fast: list[float] | None = None
        self.early_n = 0
        # An early report whose turning point is still ahead (the band-pass leads slow
        # cycles): held until the stream reaches it, so a rep is never reported before it
        # ends and its metrics see all its samples.
        self.held: dict | None = None
        self.ybt: deque[tuple[float, float]] = deque(maxlen=self._n_hist)
        # This periodic stretch: its confirmed extrema (bounded) and the counted reps' spans.
        self.seg_ext: deque[tuple[int, float, float]] = deque(maxlen=4096)
        self.seg_reps: list[tuple[float, float]] = []

    def reset(self) -> None:
        self.buf.clear()
        self.gaps.clear()
        self.on = False
        self.v = None
        self.st = None
        self._set_period = 0.0
        self._lp_for = None  # a new segment designs its own low-pass
        self._reset_detector()

    # -- detector ------------------------------------------------------------------------
    def _h(self) -> float:
        st = self.st
        if st is not self._h_for:  # cached per window statistics
            self._h_for = st
            self._h_val = self.cfg.hysteresis_frac * 2.0 * math.sqrt(2.0) * (st.rms if st else 0.0)
        return self._h_val

    def _y(self, z: np.ndarray) -> float:
        st = self.st
        assert st is not None and self.v is not None
        return float((self.v * st.scale) @ z)

    def _confirm(self, typ: int, t: float, val: float, t_now: float, out: list) -> None:
        self.seg_ext.append((typ, t, val))
        self.ext.append((typ, t, val))
        if len(self.ext) > 3:
            del self.ext[0]
        if len(self.ext) < 3:
            return
        a, b, c = self.ext
        if a[0] != c[0]:
            return
        st = self.st
        p = st.period_s if st is not None and st.period_s == st.period_s else math.nan
        dur = c[1] - a[1]
        gaps = self.gaps
        while gaps and gaps[0][1] < a[1] - 60.0:  # long before any cycle still to come
            gaps.popleft()
        gap = bool(gaps) and any(a[1] < g1 and g0 < c[1] for g0, g1 in gaps)
        if gap:  # judged against the set's own cycle (_gap_cycle): the gap disturbs p
            p = math.nan
        if p == p and not (self.cfg.min_cycle_frac * p <= dur <= self.cfg.max_cycle_frac * p):
            return
        pol = c[0]
        dl = self.phase_delay(dur)  # the filters shift the cycle's turning points by this
        rep = {
            "t_start": a[1] - dl,
            "t_peak": b[1] - dl,
            "t_end": c[1] - dl,
            "amplitude": abs(b[2] - 0.5 * (a[2] + c[2])),
            "t_emit": t_now,
            "t_end_raw": c[1],
            "t_start_raw": a[1],
        }
        if gap:
            self._gap_cycle(pol, rep, out)
            return
        # Local periodicity: a rep must resemble the previous cycle (same polarity), time
        # normalised so a slower or faster rep still matches. A cycle without a similar
        # predecessor (first rep of a set, or handling) waits for its successor: if that
        # one resembles it, both count.
        prev = self.last_cycle[pol]
        self.last_cycle[pol] = (a[1], c[1])
        sim = self._similarity(prev, (a[1], c[1])) if prev is not None and prev[1] == a[1] else -1.0
        chain = self.pending[pol]
        if chain and chain[-1]["t_end_raw"] != rep["t_start_raw"]:
            chain = []
        if sim < self.cfg.similarity:
            self.pending[pol] = [rep]  # no similar predecessor: wait for the successor
            return
        self.pending[pol] = []
        self._count(pol, [*chain, rep], t_now, out)

    def _gap_cycle(self, pol: int, rep: dict, out: list) -> None:
        """A cycle spanning a bridged data gap. Its shape is unknown (interpolated) and the
        window's period is disturbed by the gap, so within an established set (>= 2 reps
        counted) it counts as the number of the set's own cycles (median counted rep) it
        spans, split evenly; otherwise nothing."""
        self.last_cycle[pol] = None  # its successor has no comparable predecessor
        self.pending[pol] = []
        if len(self.seg_reps) < 2:
            return
        durs = sorted(e - s for s, e in self.seg_reps)
        p_set = durs[len(durs) // 2]
        t0, t1 = rep["t_start_raw"], rep["t_end_raw"]
        if t1 - t0 < self.cfg.min_cycle_frac * p_set:
            return
        n = max(1, round((t1 - t0) / p_set))
        dl = self.phase_delay(p_set)
        parts = []
        for i in range(n):
            s, e = t0 + (t1 - t0) * i / n, t0 + (t1 - t0) * (i + 1) / n
            parts.append(
                rep
                | {
                    "t_start": s - dl,
                    "t_peak": 0.5 * (s + e) - dl,
                    "t_end": e - dl,
                    "t_start_raw": s,
                    "t_end_raw": e,
                }
            )
        self._count(pol, parts, rep["t_emit"], out)

    def _count(self, pol: int, reps: list[dict], t_now: float, out: list) -> None:
        for r in reps:
            self.counts[pol] += 1
            n = self.counts[pol]
            if n > self.emitted and r["t_start_raw"] >= self.last_end - 1e-9:
                self.emitted = n
                self.last_end = r["t_end_raw"]
                r["t_emit"] = t_now
                self._after_previous(r)
                self._release(t_now, out, force=True)  # reps leave in order
                out.append(r)
                self.seg_reps.append((r["t_start_raw"], r["t_end_raw"]))
                self.last_pol, self.rep_end = pol, r["t_end"]
            elif n == self.early_n and pol == self.last_pol:
                # The detector counts the rep reported early (or, if that one was wrong,
                # the next one): from here on its state is that of the plain detector.
                self.early_n = 0
                if n == self.emitted:
                    self.last_end = r["t_end_raw"]
                    self.seg_reps[-1] = (r["t_start_raw"], r["t_end_raw"])

    def _after_previous(self, r: dict) -> None:
        """A rep starts where the previous one ended. Their shared turning point is timed
        by two corrections (each cycle's phase delay, or the early report's band-pass
        one), which can differ by a fraction of a second: the earlier report wins. (A
        larger overlap is not that: a set's first rep spanning handling; left as it is.)"""
        overlap = self.rep_end - r["t_start"]
        if 0.0 < overlap <= 0.4 * (r["t_end"] - r["t_start"]):
            r["t_start"] = self.rep_end
            r["t_peak"] = max(r["t_peak"], r["t_start"])

    def _similarity(self, c1: tuple[float, float], c2: tuple[float, float]) -> float:
        """Correlation of the filtered projection over two cycles, each resampled to the
        same number of points (-1 when the history does not cover them)."""
        yt, yv = self.yt, self.yv
        if not yt or yt[0] > c1[0] + 1e-9:
            return -1.0
        i0 = max(0, bisect.bisect_left(yt, c1[0]) - 1)
        i1 = bisect.bisect_right(yt, c2[1], i0) + 1  # one sample beyond: same interpolation
        tt = np.array(yt[i0:i1])
        yy = np.array(yv[i0:i1])
        q = _Q16
        uv = np.interp(
            np.concatenate((c1[0] + q * (c1[1] - c1[0]), c2[0] + q * (c2[1] - c2[0]))), tt, yy
        )
        u = uv[:16]
        v = uv[16:]
        u = u - u.sum() / 16.0
        v = v - v.sum() / 16.0
        eu, ev = float(u @ u), float(v @ v)
        if not (eu > 0 and ev > 0):
            return -1.0
        return float(u @ v) / math.sqrt(eu * ev)

    def _fast(self, t: float, y: float, t_now: float, out: list) -> None:
        """Early report of the current rep of an established set (``y`` band-passed).

        The detector confirms a rep's closing extremum only once the low-passed projection
        has moved back by ``h`` (about 1/6 period) and that signal lags by its group delay
        (about 0.15 period). Once the set has >= 2 counted reps of this polarity, all of
        them counted by the detector, and the detector has confirmed the current rep's
        peak, the closing turning point is taken on the band-passed projection itself: the
        first sample that turns back by ``fast_hyst`` x the previous rep's swing, after a
        swing of ``fast_swing`` x it, at a cycle length the detector accepts and with a
        shape similar to the previous rep. The rep is reported then, with that turning
        point as its end. The detector keeps counting as before; the rep it counts next is
        matched to the early report (see :meth:`_confirm`), never counted twice.
        """
        pol = self.last_pol
        ext = self.ext
        if len(ext) < 2:
            return
        a, b = ext[-2], ext[-1]
        if b[0] != -pol or a[0] != pol or a[1] != self.last_end:
            self.fast = None
            return
        f = self.fast
        if f is None or f[0] != b[1]:
            # Running turning point since the peak (delay-corrected to the band-passed
            # signal's time), from the recent history.
            t0 = b[1] - self.lp_delay
            best = (y, t)
            for tb, yb in self.ybt:
                if tb >= t0 and pol * (yb - best[0]) > 0:
                    best = (yb, tb)
            self.fast = f = [b[1], best[0], best[1]]
        if pol * (y - f[1]) > 0:
            f[1], f[2] = y, t
            return
        swing = abs(b[2] - a[2])
        cfg = self.cfg
        st = self.st
        if st is None or pol * (f[1] - y) < cfg.fast_hyst * swing:
            return
        if pol * (f[1] - b[2]) < cfg.fast_swing * swing:
            return
        dl = self.lp_delay
        p = st.period_s
        dur = f[2] - (a[1] - dl)
        if not (cfg.min_cycle_frac * p <= dur <= cfg.max_cycle_frac * p):
            return
        prev = self.last_cycle[pol]
        if prev is None or prev[1] != a[1]:
            return
        if dur < cfg.fast_cycle * (prev[1] - prev[0]):
            return
        if self._similarity(prev, (a[1], f[2] + dl)) < cfg.similarity:
            return
        self.fast = None
        self.emitted += 1
        self.early_n = self.emitted
        t_c = self._vertex(f[2])
        t_end_raw = t_c + dl  # on the detector's time scale
        rep = {
            "t_start": self.rep_end,
            "t_peak": b[1] - self.phase_delay(dur),
            "t_end": t_c - self.phase_delay(dur, lowpass=False),  # band-passed signal's time
            "amplitude": abs(b[2] - 0.5 * (a[2] + f[1])),
            "t_emit": t_now,
            "t_end_raw": t_end_raw,
            "t_start_raw": a[1],
        }
        self._release(t_now, out, force=True)
        self.held = rep
        self._release(t_now, out)
        self.seg_reps.append((a[1], t_end_raw))
        self.last_end = t_end_raw
        self.rep_end = rep["t_end"]

    def _vertex(self, tc: float) -> float:
        """Time of the turning point at sample ``tc`` of the band-passed projection, refined
        between samples (vertex of the parabola through it and its neighbours)."""
        h = self.ybt
        for i in range(len(h) - 2, 0, -1):
            if h[i][0] == tc:
                y0, y1, y2 = h[i - 1][1], h[i][1], h[i + 1][1]
                den = y0 - 2.0 * y1 + y2
                if den != 0.0:
                    return tc + 0.5 * (y0 - y2) / den * (h[i + 1][0] - tc)
                break
        return tc

    def _release(self, t_now: float, out: list, force: bool = False) -> None:
        """Emit the held early report once ``t_now`` reaches its end (or now, ``force``)."""
        r = self.held
        if r is not None and (force or t_now >= r["t_end"]):
            self.held = None
            r["t_emit"] = t_now
            if r["t_end"] > t_now:  # the set ended or moved on first: the rep ended by now
                r["t_end"] = max(t_now, r["t_start"])
                r["t_peak"] = min(r["t_peak"], r["t_end"])
            out.append(r)

    def _detect(self, t: float, y: float, t_now: float, out: list) -> None:
        if self.held is not None:
            self._release(t_now, out)
        yb = y
        self.ybt.append((t, yb))
        y = self._lp(y)
        self.yt.append(t)
        self.yv.append(y)
        if len(self.yt) > 2 * self._n_hist:
            del self.yt[: self._n_hist]
            del self.yv[: self._n_hist]
        h = self._h()
        if self.dir == 0:
            # Before the first extremum: the movement starts when the signal last left the
            # level of its running minimum (maximum), not at the lowest noise sample of a
            # preceding rest.
            if y < self.lo:
                self.lo, self.t_lo = y, t
            if y > self.hi:
                self.hi, self.t_hi = y, t
            near = 0.25 * h
            if y <= self.lo + near:
                self.t_lo = t
            if y >= self.hi - near:
                self.t_hi = t
            if self.hi == y:
                self.lo_at_hi = (self.lo, self.t_lo)
            if self.lo == y:
                self.hi_at_lo = (self.hi, self.t_hi)
            if h <= 0:
                return
            if self.hi - y >= h:
                lo0 = self.lo_at_hi
                if self.hi - lo0[0] >= h:
                    self._confirm(-1, lo0[1], lo0[0], t_now, out)
                self._confirm(1, self.t_hi, self.hi, t_now, out)
                self.dir, self.cur = -1, (y, t)
            elif y - self.lo >= h:
                hi0 = self.hi_at_lo
                if hi0[0] - self.lo >= h:
                    self._confirm(1, hi0[1], hi0[0], t_now, out)
                self._confirm(-1, self.t_lo, self.lo, t_now, out)
                self.dir, self.cur = 1, (y, t)
            return
        v0, t0 = self.cur
        if self.dir > 0:  # looking for a maximum
            if y > v0:
                self.cur = (y, t)
            elif v0 - y >= h:
                self._confirm(1, t0, v0, t_now, out)
                self.dir, self.cur = -1, (y, t)
        else:
            if y < v0:
                self.cur = (y, t)
            elif y - v0 >= h:
                self._confirm(-1, t0, v0, t_now, out)
                self.dir, self.cur = 1, (y, t)
        if self.early_n == 0 and self.emitted >= 2 and self.counts[self.last_pol] == self.emitted:
            self._fast(t, yb, t_now, out)

    def _flush(self, t_now: float, out: list) -> None:
        """End of a periodic stretch: the pending extremum counts if it is far enough from
        the last confirmed one (the movement stopped there)."""
        self._release(t_now, out, force=True)
        if self.dir != 0 and self.ext:
            v0, t0 = self.cur
            if abs(v0 - self.ext[-1][2]) >= self._h():
                self._confirm(self.dir, t0, v0, t_now, out)
        self._edge_reps(t_now, out)

    def _edge_reps(self, t_now: float, out: list) -> None:
        """End of a periodic stretch: reconcile the count with its half-cycles.

        ``n`` alternating extrema whose swings and spacings match the stretch's typical
        half-cycle make ``n // 2`` reps; a rep at the edge of a set is often only half a
        cycle of an acceleration-like signal, or its cycle fails the similarity check. If
        the stretch already has at least two counted reps (an established set), the
        missing reps (at most one per edge) are added from the extrema not covered by a
        counted rep, latest first.
        """
        reps = self.seg_reps
        if len(reps) < 2:
            return
        cfg = self.cfg
        durs = sorted(e - s for s, e in reps)
        p = durs[len(durs) // 2]  # the set's own cycle length
        first, last = reps[0][0], reps[-1][1]
        # extrema of the set, at most one cycle beyond its counted reps on each side
        ext = [e for e in self.seg_ext if first - p - 1e-9 <= e[1] <= last + p + 1e-9]
        inner = [e for e in ext if first - 1e-9 <= e[1] <= last + 1e-9]
        sw_in = sorted(abs(b[2] - a[2]) for a, b in itertools.pairwise(inner))
        if not sw_in:
            return
        typical = sw_in[len(sw_in) // 2]

        def half_ok(a: tuple, b: tuple) -> bool:
            return (
                abs(b[2] - a[2]) >= cfg.edge_swing * typical
                and cfg.edge_half_min * p <= abs(b[1] - a[1]) <= cfg.edge_half_max * p
            )

        k = 1 + sum(half_ok(a, b) for a, b in itertools.pairwise(ext))
        missing = min(k // 2 - len(reps), 2)
        if missing <= 0:
            return
        after = [e for e in ext if e[1] >= last - 1e-9]
        before = [e for e in ext if e[1] <= first + 1e-9]
        dl = self.phase_delay(p)
        for side in (after, before[::-1]):
            if missing <= 0 or len(side) < 2:
                continue
            a, b = side[0], side[1]
            d = b[1] - a[1]
            if not half_ok(a, b):
                continue
            t0, t1 = sorted((a[1], b[1] + d if len(side) < 3 else side[2][1]))
            if side is not after and len(side) < 3:
                t0, t1 = b[1] + d, a[1]
            t0, t1 = min(t0, t1), max(t0, t1)
            rep = {
                "t_start": t0 - dl,
                "t_peak": b[1] - dl,
                # A half cycle extended by its own length can reach past the stream: the
                # movement stopped, the rep ends by now.
                "t_end": min(t1 - dl, t_now),
                "amplitude": abs(b[2] - a[2]),
                "t_emit": t_now,
                "t_end_raw": t1,
                "t_start_raw": t0,
            }
            rep["t_peak"] = min(rep["t_peak"], rep["t_end"])
            if side is after:
                self._after_previous(rep)
            out.append(rep)
            missing -= 1
            self.emitted += 1
            self.last_end = max(self.last_end, t1)

    # -- per sample ----------------------------------------------------------------------
    def step(self, t: float, z: np.ndarray, stats: WindowStats | None, update: bool) -> list[dict]:
        out: list[dict] = []
        self.buf.append((t, z))
        if update:
            cfg = self.cfg
            st = stats
            if st is not None:
                v = st.v
                if self.v is not None and float(v @ self.v) < 0:
                    v = -v
                st.v = v
            periodic_now = st is not None and st.active and st.period_s == st.period_s
            if self.on:
                if not periodic_now or st is None or st.corr < cfg.off_corr:
                    self._flush(t, out)
                    if self.st is not None and self.emitted >= cfg.resume_min_reps:
                        self._set_period = self.st.period_s
                    self.on = False
                    self._reset_detector()
                    if st is not None:
                        self.st, self.v = st, st.v
                    return out
                self.st, self.v = st, st.v
            else:
                if st is not None:
                    self.st, self.v = st, st.v
                if periodic_now and st is not None and st.corr >= self._on_level(t, st):
                    # A set is established: replay the buffered window (after the last
                    # counted rep) with the current direction, so its first reps count.
                    self.on = True
                    self._reset_detector()
                    t_from = self.last_end  # (an early report moves last_end ahead)
                    for tb, zb in self.buf:
                        if tb > t_from:
                            self._detect(tb, self._y(zb), t, out)
                    return out
        if self.on:
            self._detect(t, self._y(z), t, out)
        return out

    def _on_level(self, t: float, st: WindowStats) -> float:
        """Autocorrelation needed to (re-)establish a set: ``on_corr``, or ``resume_corr``
        within ``resume_s`` of the last counted rep when the period is like the last set's
        (a set that goes on after a pause, often at another pace)."""
        cfg = self.cfg
        p = self._set_period
        recent = cfg.resume_s and p and t - self.last_end <= cfg.resume_s
        if recent and p / cfg.resume_ratio <= st.period_s <= p * cfg.resume_ratio:
            return cfg.resume_corr
        return cfg.on_corr

    def finish(self, t_now: float) -> list[dict]:
        out: list[dict] = []
        if self.on:
            self._flush(t_now, out)
        return out
