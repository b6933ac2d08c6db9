"""Period-based repetition counting for wearable IMUs (automatic IMU mode).

A wrist or limb IMU sees every gesture of the day, and within one rep its accelerations
have secondary bumps, so a level-crossing detector both over- and under-counts. Exercise
sets are, unlike handling and everyday gestures, *periodic*. As in RecoFit (Morris et al.,
CHI 2014) and period-based counters, this module:

1. band-passes every IMU channel (0.25-4 Hz, 2nd-order Butterworth, causal; removes gravity
   and drift, keeps rep frequencies from one rep per 4 s up to 2 per second) and decimates to
   about 12.5 Hz;
2. every ``update_s`` (0.5 s) computes, over the last ``window_s`` (10 s), the normalised
   autocorrelation of the accelerometer vector and of the gyroscope vector (each normalised
   by its own energy, then averaged: rotation and translation both count, whatever the
   sensor's orientation), the dominant period ``P`` (smallest lag whose autocorrelation peak
   is within 85 % of the highest, which avoids picking a multiple), and the dominant
   principal direction of the energy-normalised channels (sign kept consistent); the same
   over the last ``short_window_s`` (5 s, periods up to 1/3 of it) is used instead when it
   is clearly periodic (>= ``short_on_corr``) and more so than the long window (a short
   fast set amid handling);
3. declares the movement *periodic* while the autocorrelation at ``P`` is at least 0.5
   (and leaves that state below 0.3) and the band-passed motion is above a floor (a still
   sensor is never periodic);
4. counts cycles of the projection on the principal direction (low-passed at 1.5 / ``P``)
   with an alternating extremum detector whose hysteresis is 25 % of the window's
   peak-to-peak amplitude, and accepts a cycle only if it lasts between 0.5 and 2.5 ``P``
   and resembles the previous cycle of the same polarity. Cycles bounded by minima and
   cycles bounded by maxima are both counted and the larger count is reported (the rep's
   polarity is unknown);
5. at the end of a periodic stretch, reconciles the count with its half-cycles (``n``
   matching alternating extrema make ``n // 2`` reps): the first or last rep of a set,
   often only half a cycle of an acceleration-like signal, is added (at most one per edge,
   only after at least two counted reps).

A short data gap (a wireless dropout of ``gap_reset_s`` .. ``gap_bridge_s``, 1-3 s) does
not end the segment: the missing rows are interpolated (acceleration linearly, angular
velocity as zero: orientation held), so the filters, the window and the set go on. The
cycle spanning the gap has no measured shape and the window's period is disturbed by it,
so, within an established set (>= 2 reps counted), it skips the duration and similarity
checks and counts as the number of the set's own cycles (median counted rep) it spans.
Before, a gap restarted detection: the rep across it was lost, and the reps after it were
only counted if the rest of the set was long enough to be periodic again. Longer gaps
still restart detection (the set may have ended).

When a set becomes periodic, the buffered window (back to the end of the last counted rep)
is replayed, so the first reps of a set are counted with their real times, only later.
Later reps are reported as soon as their closing extremum is confirmed. In an established
set (>= 2 counted reps of one polarity, all counted by the detector) a rep is reported
earlier (:meth:`CycleTracker._fast`): its closing turning point is taken on the band-passed
projection (no adaptive low-pass delay, no 25 % hysteresis) as soon as it turns back by 2 %
of the previous rep's swing, if the swing reached 80 % of it, the cycle lasts at least 0.75
x the previous one and resembles it; the reported end is that turning point (refined between
samples, corrected for the band-pass's phase delay at the rep's frequency), about
0.2-0.3 s before the report. The detector still decides the count: the rep it counts next
is matched to the early report, so no rep is counted twice and the count is that of the
detector (a report the detector does not confirm takes the place of its next rep).

Work per raw sample is O(1) amortised (filtering in blocks of the decimation factor, the
window statistics every 0.5 s on two fixed-size windows), memory is bounded by the window.
The file path computes the same window statistics for all update instants at once
(cumulative sums of lag products) and then runs the same sequential :class:`CycleTracker`.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

from .filters import sos_step


@dataclass(frozen=True)
class PeriodicConfig:
    """Parameters of the period-based IMU counter (see the module docstring)."""

    band_hz: tuple[float, float] = (0.25, 4.0)
    rate_hz: float = 12.5  # analysis rate after decimation
    window_s: float = 10.0  # autocorrelation / PCA window
    update_s: float = 0.5  # window statistics refresh
    replay_s: float = 10.0  # how far back a newly established set is counted
    min_period_s: float = 0.5  # fastest rep cycle (2 reps/s)
    max_period_s: float = 4.5  # slowest rep cycle searched (needs >= 2 cycles in the window)
    min_window_s: float = 3.0  # no period estimate from less data than this
    # Short window for fast sets (periods up to a third of it, >= 3 cycles): a short set
    # amid handling is periodic over a few seconds, not over the whole long window.
    short_window_s: float = 5.0
    short_on_corr: float = 0.7  # fewer cycles in it: stronger periodicity needed
    on_corr: float = 0.5  # periodic when the autocorrelation peak reaches this
    off_corr: float = 0.3  # ... and stops being periodic below this
    harmonic_frac: float = 0.85  # smallest lag whose peak is within this x the best peak
    lowpass_cycles: float = 1.5  # adaptive low-pass cut-off, x rep frequency (1 / period)
    hysteresis_frac: float = 0.25  # extremum confirmation, x window peak-to-peak amplitude
    similarity: float = 0.3  # a rep's last period correlates with the one before it
    min_cycle_frac: float = 0.5  # accepted cycle duration, x period
    max_cycle_frac: float = 2.5
    accel_floor: float = 0.15  # m/s^2 RMS of band-passed acceleration to count as motion
    gyro_floor: float = 0.1  # rad/s RMS of band-passed angular velocity (about 6 deg/s)
    # Landmark features (pose automatic mode, see periodic_pose.py): every channel is its
    # own group (its own energy normalisation, floor ``accel_floor`` in its unit) ...
    per_channel: bool = False
    # ... weighted by its own periodicity: weight = (its autocorrelation peak) ** power, so
    # the channels that repeat choose the period and the direction, not the ones that
    # merely move (0: equal weights, the IMU's accelerometer and gyroscope groups).
    periodicity_power: float = 0.0
    gap_reset_s: float = 1.0
    # A set that pauses and goes on (e.g. after a 2 s rest, at another pace) re-establishes
    # at a lower autocorrelation when its period is like the last set's (0: off).
    # Audited IMU sets: 4 files closer to their count (B_ohp_medium2 6 -> 8 of 10, three
    # muvr chest sets now exact), none further; 0.2-0.25 and 20-30 s give the same.
    resume_s: float = 20.0
    resume_corr: float = 0.25
    resume_ratio: float = 1.6
    resume_min_reps: int = 4  # ... after a set of at least this many reps
    # A data gap up to this long (Bluetooth dropout) inside a set is bridged, not a reset:
    # the missing rows are interpolated and the cycle spanning it counts by its duration.
    gap_bridge_s: float = 3.0
    gyro_leak_s: float = 4.0  # gyro -> orientation: leaky integration time constant
    edge_swing: float = 0.6  # edge half-cycle: swing >= this x the set's median swing
    edge_half_min: float = 0.15  # ... and lasts this .. edge_half_max x the set's cycle
    edge_half_max: float = 1.0
    # Early report of an established set's reps (see CycleTracker._fast): the closing
    # turning point is taken on the band-passed projection (no adaptive low-pass delay) as
    # soon as it turns back by fast_hyst x the rep's swing, after a swing of at least
    # fast_swing x that of the previous rep.
    fast_hyst: float = 0.02
    fast_swing: float = 0.8
    fast_cycle: float = 0.75  # ... and a cycle at least this x the previous rep's


_Q16 = np.linspace(0.0, 1.0, 16)


@dataclass
class WindowStats:
    """Statistics of one window: period (s), autocorrelation at it, principal direction
    (in energy-normalised channel space), per-channel scale and projection RMS."""

    period_s: float
    corr: float
    active: bool
    v: np.ndarray
    scale: np.ndarray
    rms: float


def _groups(n_acc: int, n_gyr: int, per_channel: bool = False) -> list[np.ndarray]:
    if per_channel:
        return [np.array([i]) for i in range(n_acc + n_gyr)]
    g = [np.arange(n_acc)]
    if n_gyr:
        g.append(np.arange(n_acc, n_acc + n_gyr))
    return g


def stats_from_sums(
    lag: list[np.ndarray],
    cov: np.ndarray,
    n: np.ndarray,
    fa: float,
    cfg: PeriodicConfig,
    groups: list[np.ndarray],
    min_corr: float | None = None,
) -> list[WindowStats | None]:
    """Window statistics from lag-product sums (vectorised over windows).

    With ``min_corr``, windows that are not periodic at that level give ``None`` (and skip
    the eigen-decomposition): the short window is only used when it is.

    ``lag[g]``: ``(m, n_lag + 1)`` sums over each window of ``z_g(t) . z_g(t - tau)`` for group
    ``g`` (accelerometer, gyroscope), both samples inside the window; ``cov``: ``(m, n_ch, n_ch)``
    sums of outer products; ``n``: ``(m,)`` samples per window. Returns one
    :class:`WindowStats` per window (``None`` when the window is too short).
    """
    m = n.shape[0]
    n_lag = lag[0].shape[1] - 1
    lmin = max(1, math.ceil(cfg.min_period_s * fa))
    n_ch = cov.shape[1]
    nf = n.astype(float)
    taus = np.arange(n_lag + 1)
    # All groups at once: (m, groups, lags).
    lags = np.stack(lag, axis=1)
    e0 = lags[:, :, 0]
    floors = np.array(
        [
            cfg.gyro_floor if gi and not cfg.per_channel else cfg.accel_floor
            for gi in range(len(groups))
        ]
    )
    sizes = np.array([len(g) for g in groups])
    act = e0 >= (floors**2 * sizes)[None, :] * np.maximum(nf, 1.0)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        # unbiased autocorrelation normalised by the energy (1 at lag 0)
        r = lags * (nf[:, None] / np.maximum(nf[:, None] - taus, 1.0))[:, None, :] / e0[:, :, None]
    r[~act] = 0.0
    wg = act.astype(float)
    if cfg.periodicity_power:
        pk = _peak_corr(r.reshape(-1, n_lag + 1), lmin).reshape(wg.shape)
        wg *= pk**cfg.periodicity_power
    rho = np.einsum("mgl,mg->ml", r, wg)
    n_act = wg.sum(axis=1)
    norm = np.sqrt(wg * np.maximum(nf, 1.0)[:, None] / np.maximum(e0, 1e-300))
    group_of = np.empty(n_ch, dtype=int)
    for gi, g in enumerate(groups):
        group_of[g] = gi
    scale = np.where(act, norm, 0.0)[:, group_of]
    active = n_act > 0
    rho /= np.where(active, n_act, 1.0)[:, None]
    # Period: smallest lag whose local maximum is within harmonic_frac of the best one,
    # searched in [min_period, min(max_period, window / 2)].
    lmax = np.minimum(n_lag, n // 2)
    seg = rho[:, lmin - 1 :]  # lags lmin-1 .. n_lag
    lagv = np.arange(lmin - 1, n_lag + 1)
    ismax = np.zeros(seg.shape, dtype=bool)
    ismax[:, 1:-1] = (seg[:, 1:-1] > seg[:, :-2]) & (seg[:, 1:-1] >= seg[:, 2:])
    ismax &= lagv[None, :] <= lmax[:, None] - 1
    vals = np.where(ismax, seg, -np.inf)
    best = vals.max(axis=1) if vals.shape[1] else np.full(m, -np.inf)
    ok = np.isfinite(best) & (best > 0)
    cand = ismax & (seg >= cfg.harmonic_frac * best[:, None])
    j = np.argmax(cand, axis=1)
    period = np.where(ok, lagv[j] / fa, np.nan)
    corr = np.where(ok, seg[np.arange(m), j], 0.0)
    min_n = cfg.min_window_s * fa
    use = nf >= min_n
    if min_corr is not None:
        use &= active & ok & (corr >= min_corr)
    # Dominant direction of the energy-normalised channels.
    cn = (cov * scale[:, :, None] * scale[:, None, :])[use]
    n_ch = cov.shape[1]
    w = np.zeros((m, n_ch))
    vecs = np.zeros((m, n_ch, n_ch))
    if cn.shape[0]:
        w[use], vecs[use] = np.linalg.eigh(cn)
    rms = np.sqrt(np.maximum(w[:, -1], 0.0) / np.maximum(nf, 1.0))
    out: list[WindowStats | None] = []
    for i in range(m):
        if not use[i]:
            out.append(None)
        else:
            out.append(
                WindowStats(
                    float(period[i]),
                    float(corr[i]),
                    bool(active[i]),
                    vecs[i, :, -1],
                    scale[i],
                    float(rms[i]),
                )
            )
    return out


def _peak_corr(r: np.ndarray, lmin: int) -> np.ndarray:
    """Highest local maximum (clipped to 0..1) of each row of autocorrelations ``r`` at lags
    ``>= lmin``: how periodic a channel is, whatever its period."""
    seg = r[:, lmin - 1 :]
    if seg.shape[1] < 3:
        return np.zeros(r.shape[0])
    ismax = (seg[:, 1:-1] > seg[:, :-2]) & (seg[:, 1:-1] >= seg[:, 2:])
    return np.clip(np.where(ismax, seg[:, 1:-1], 0.0).max(axis=1), 0.0, 1.0)


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


class PeriodicCounter:
    """Streaming period-based counter on raw IMU rows (accelerometer [+ gyroscope]).

    Rows are averaged in blocks of ``k`` samples (anti-alias boxcar, decimation to about
    ``rate_hz``), then band-passed (second-order sections, direct form II transposed, the
    same recursion as ``scipy.signal.sosfilt``). ``push(t, row)`` returns completed reps
    (see :class:`CycleTracker`); their times are corrected for the filters' phase delay at
    the rep's frequency, and ``delay_s`` (half a block) is still to be subtracted.
    """

    def __init__(self, fs_hz: float, n_acc: int, n_gyr: int, cfg: PeriodicConfig | None = None):
        self.cfg = cfg = cfg or PeriodicConfig()
        self.fs = fs_hz
        self.k = max(1, round(fs_hz / cfg.rate_hz))
        self.fa = fa = fs_hz / self.k
        lo, hi = cfg.band_hz
        self.sos = sps.butter(2, [lo, min(hi, 0.45 * fa)], btype="band", fs=fa, output="sos")
        self.zi0 = sps.sosfilt_zi(self.sos)
        self._coef = [tuple(float(c) for c in sec) for sec in self.sos]
        # Block averaging delays by half a block; the filters' shift depends on the rep
        # frequency and is corrected per cycle (CycleTracker.phase_delay).
        self.delay_s = (self.k - 1) / (2.0 * fs_hz)
        self.groups = _groups(n_acc, n_gyr, cfg.per_channel)
        self.C = n_acc + n_gyr
        self.n_acc = n_acc
        # Angular velocity is integrated (leaky) to an orientation-like signal, so that like
        # the gravity component of the accelerometer, rest lies at one end of each rep.
        self.dt = 1.0 / fa
        self.leak = math.exp(-self.dt / cfg.gyro_leak_s)
        self.nw = max(2, round(cfg.window_s * fa))
        self.L = max(2, min(round(cfg.max_period_s * fa), self.nw // 2))
        self.nws = min(self.nw, max(2, round(cfg.short_window_s * fa)))
        ls = min(round(cfg.short_window_s / 3.0 * fa), self.L)
        self.Ls = ls if ls > math.ceil(cfg.min_period_s * fa) and self.nws < self.nw else 0
        self.u = max(1, round(cfg.update_s * fa))
        self.n_replay = max(self.nw, round(cfg.replay_s * fa))
        self.tracker = CycleTracker(fa, cfg, self.n_replay, self.sos)
        self.t_prev = -math.inf
        self.x_prev: np.ndarray | None = None
        self._reset()

    def _reset(self) -> None:
        self.z: list[np.ndarray] | None = None
        self.acc: np.ndarray | None = None
        self.nacc = 0
        self.ang: np.ndarray | None = None
        self.nd = 0  # decimated samples in this segment
        self.zwin: deque[np.ndarray] = deque(maxlen=self.nw)
        self.tracker.reset()

    def push(self, t: float, row: np.ndarray) -> list[dict]:
        gap = t - self.t_prev
        if gap > self.cfg.gap_reset_s and self.t_prev > -math.inf:
            if gap <= self.cfg.gap_bridge_s and self.x_prev is not None:
                # A short dropout: interpolated rows keep the filters and the set going.
                tf, xf = bridge_rows(self.t_prev, self.x_prev, t, row, self.fs, self.n_acc)
                self.tracker.gaps.append((self.t_prev, t))
                done = []
                for ti, xi in zip(tf.tolist(), xf, strict=True):
                    done += self.push(ti, xi)
                return done + self.push(t, row)
            # A gap ends the segment (like the end of a stream), then detection restarts.
            done = self.tracker.finish(self.t_prev)
            self._reset()
            self.t_prev = t
            return done + self.push(t, row)
        self.t_prev = t
        self.x_prev = row
        if self.nacc == 0:
            self.acc = row.copy()
        else:
            self.acc += row  # type: ignore[operator]
        self.nacc += 1
        if self.nacc < self.k:
            return []
        x = self.acc / self.k  # type: ignore[operator]
        self.nacc = 0
        if self.n_acc < self.C:
            g = x[self.n_acc :]
            self.ang = self.dt * g if self.ang is None else self.dt * g + self.leak * self.ang
            x[self.n_acc :] = self.ang
        if self.z is None:
            self.z = [np.outer(zi, x) for zi in self.zi0]  # steady state at the first value
        y = sos_step(self._coef, self.z, x)
        self.zwin.append(y)
        self.nd += 1
        update = self.nd % self.u == 0
        st = self._stats() if update else None
        return self.tracker.step(t, y, st, update)

    def _stats(self) -> WindowStats | None:
        w = np.asarray(self.zwin)
        long = self._window_stats(w, self.L)
        short = (
            self._window_stats(w[-self.nws :], self.Ls, self.cfg.short_on_corr) if self.Ls else None
        )
        return pick_stats(long, short, self.cfg)

    def _window_stats(
        self, w: np.ndarray, n_lag: int, min_corr: float | None = None
    ) -> WindowStats | None:
        n = w.shape[0]
        if n < self.cfg.min_window_s * self.fa:
            return None
        nfft = 1 << (2 * n - 1).bit_length()
        spec = np.fft.rfft(w, nfft, axis=0)
        power = spec.real**2 + spec.imag**2
        if self.cfg.per_channel:
            gp = power.T
        else:
            gp = np.stack([power[:, g].sum(axis=1) for g in self.groups])
        # sum over t of z(t) . z(t - tau) with both samples inside the window
        lag = np.fft.irfft(gp, nfft, axis=1)[:, : n_lag + 1]
        if n <= n_lag:
            lag[:, n:] = 0.0
        cov = (w.T @ w)[None]
        return stats_from_sums(
            [lg[None] for lg in lag], cov, np.array([n]), self.fa, self.cfg, self.groups, min_corr
        )[0]

    def finish(self) -> list[dict]:
        return self.tracker.finish(self.t_prev)


def analyse_array(
    t: np.ndarray,
    x: np.ndarray,
    fs_hz: float,
    n_acc: int,
    n_gyr: int,
    cfg: PeriodicConfig | None = None,
) -> tuple[list[dict], float]:
    """Vectorised equivalent of :meth:`PeriodicCounter.push` over a whole recording
    (block means, ``sosfilt``, window statistics from cumulative sums, then the same
    :class:`CycleTracker`). Returns the reps and the delay to subtract from their times."""
    pc = PeriodicCounter(fs_hz, n_acc, n_gyr, cfg)
    cfg = pc.cfg
    reps: list[dict] = []
    if t.size == 0:
        return reps, pc.delay_s
    dt = np.diff(t)
    short = np.flatnonzero((dt > cfg.gap_reset_s) & (dt <= cfg.gap_bridge_s))
    bridged: list[tuple[float, float]] = []
    if short.size:
        # Short dropouts: the same interpolated rows as PeriodicCounter.push inserts.
        tp, xp, i0 = [], [], 0
        for i in short.tolist():
            tf, xf = bridge_rows(float(t[i]), x[i], float(t[i + 1]), x[i + 1], fs_hz, n_acc)
            tp += [t[i0 : i + 1], tf]
            xp += [x[i0 : i + 1], xf]
            bridged.append((float(t[i]), float(t[i + 1])))
            i0 = i + 1
        t = np.concatenate([*tp, t[i0:]])
        x = np.concatenate([*xp, x[i0:]])
    gaps = np.flatnonzero(np.diff(t) > cfg.gap_bridge_s) + 1
    bounds = [0, *gaps.tolist(), t.size]
    k = pc.k
    for a, b in itertools.pairwise(bounds):
        nd = (b - a) // k
        tracker = CycleTracker(pc.fa, cfg, pc.n_replay, pc.sos)
        if nd == 0:
            continue
        tracker.gaps.extend(g for g in bridged if t[a] <= g[0] < t[b - 1])
        xm = x[a : a + nd * k].reshape(nd, k, -1).sum(axis=1) / k
        tz = t[a + k - 1 : a + nd * k : k]
        if pc.n_acc < pc.C:
            xm[:, pc.n_acc :] = sps.lfilter([pc.dt], [1.0, -pc.leak], xm[:, pc.n_acc :], axis=0)
        zi = pc.zi0[:, :, None] * xm[0][None, None, :]
        z, _ = sps.sosfilt(pc.sos, xm, axis=0, zi=zi)
        upd = np.arange(pc.u - 1, nd, pc.u)  # index of the sample at each update
        stats = _batch_stats(z, upd, pc)
        is_upd = np.zeros(nd, dtype=bool)
        is_upd[upd] = True
        st_at: dict[int, WindowStats | None] = dict(zip(upd.tolist(), stats, strict=True))
        # Projection of every sample with the direction of the latest update (signs
        # chained exactly like CycleTracker.step), for the samples between updates.
        y = _project_all(z, upd, stats)
        zl = list(z)
        yl = y.tolist()
        tl = tz.tolist()
        ul = is_upd.tolist()
        step = tracker.step
        buf = tracker.buf
        for i in range(nd):
            if ul[i]:
                reps.extend(step(tl[i], zl[i], st_at[i], True))
            else:
                buf.append((tl[i], zl[i]))
                if tracker.on:
                    tracker._detect(tl[i], yl[i], tl[i], reps)
        t_end = float(t[b - 1])
        reps.extend(tracker.finish(t_end))
    return reps, pc.delay_s


def bridge_rows(
    t0: float, x0: np.ndarray, t1: float, x1: np.ndarray, fs_hz: float, n_acc: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows linearly interpolated at about ``fs_hz`` strictly between two samples (a
    bridged dropout; the streaming and the file path use this same computation)."""
    n = max(0, round((t1 - t0) * fs_hz) - 1)
    f = np.arange(1, n + 1) / (n + 1)
    x = x0[None, :] + (x1 - x0)[None, :] * f[:, None]
    # Angular velocity is not interpolated: a mid-rep value held for seconds would
    # integrate to a large false rotation; none (orientation held) is the neutral guess.
    x[:, n_acc:] = 0.0
    return t0 + (t1 - t0) * f, x


def _project_all(z: np.ndarray, upd: np.ndarray, stats: list) -> np.ndarray:
    """``(v * scale) . z`` for every sample, with ``v`` of the latest update at or before it
    (NaN before the first statistics)."""
    nd, n_ch = z.shape
    w = np.full((nd, n_ch), np.nan)
    prev: np.ndarray | None = None
    last = -1
    for i, st in zip(upd.tolist(), stats, strict=True):
        if st is None:
            continue
        v = st.v
        if prev is not None and float(v @ prev) < 0:
            v = -v
        prev = v
        if last >= 0:
            w[last:i] = w[last]
        w[i] = v * st.scale
        last = i
    if last >= 0:
        w[last:] = w[last]
    return np.einsum("ij,ij->i", w, z)


def _batch_stats(z: np.ndarray, upd: np.ndarray, pc: PeriodicCounter) -> list:
    """Window statistics at every update instant, from cumulative lag-product sums (the
    long and the short window, then :func:`pick_stats`)."""
    nd = z.shape[0]
    ends = upd + 1  # window = samples [ends - n, ends)
    m = ends.size
    wins = [(pc.L, pc.nw)] + ([(pc.Ls, pc.nws)] if pc.Ls else [])
    ns = [np.minimum(ends, nw) for _l, nw in wins]
    starts = [ends - n for n in ns]
    cs = np.empty(nd + 1)
    cs[0] = 0.0
    lags: list[list[np.ndarray]] = [[] for _ in wins]
    for g in pc.groups:
        zg = z[:, g]
        g_lags = [np.zeros((m, n_lag + 1)) for n_lag, _nw in wins]
        for tau in range(min(pc.L + 1, nd)):
            # cumulative sums of z(t) . z(t - tau); window sums from two lookups
            np.cumsum(np.einsum("ij,ij->i", zg[tau:], zg[: nd - tau]), out=cs[tau + 1 :])
            cs[: tau + 1] = 0.0
            ce = cs[ends]
            for k, (n_lag, _nw) in enumerate(wins):
                if tau <= n_lag:
                    lo_t = np.minimum(starts[k] + tau, ends)
                    g_lags[k][:, tau] = np.where(tau < ns[k], ce - cs[lo_t], 0.0)
        for k in range(len(wins)):
            lags[k].append(g_lags[k])
    n_ch = z.shape[1]
    covs = [np.empty((m, n_ch, n_ch)) for _ in wins]
    for i in range(n_ch):
        for j in range(i, n_ch):
            np.cumsum(z[:, i] * z[:, j], out=cs[1:])
            for k in range(len(wins)):
                covs[k][:, i, j] = covs[k][:, j, i] = cs[ends] - cs[starts[k]]
    # The short window is only used when periodic at short_on_corr (as in _stats): the
    # eigen-decomposition of the others is skipped.
    out = [
        stats_from_sums(
            lags[k], covs[k], ns[k], pc.fa, pc.cfg, pc.groups, pc.cfg.short_on_corr if k else None
        )
        for k in range(len(wins))
    ]
    if len(out) == 1:
        return out[0]
    return [pick_stats(a, b, pc.cfg) for a, b in zip(out[0], out[1], strict=True)]


def pick_stats(
    long: WindowStats | None, short: WindowStats | None, cfg: PeriodicConfig
) -> WindowStats | None:
    """The long window's statistics, unless the short window is periodic (autocorrelation
    at least ``on_corr``) and more so than the long one: a short fast set amid handling."""
    if short is None or not short.active or short.period_s != short.period_s:
        return long
    if short.corr < cfg.short_on_corr:
        return long
    long_ok = long is not None and long.active and long.period_s == long.period_s
    if long_ok and long.corr >= short.corr:  # type: ignore[union-attr]
        return long
    return short


__all__ = [
    "CycleTracker",
    "PeriodicConfig",
    "PeriodicCounter",
    "WindowStats",
    "analyse_array",
    "bridge_rows",
    "pick_stats",
    "stats_from_sums",
]
