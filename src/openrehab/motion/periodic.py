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

import itertools
import math
from collections import deque

import numpy as np
from scipy import signal as sps

from .cycle_tracker import CycleTracker
from .filters import sos_step
from .periodic_config import PeriodicConfig
from .periodic_window import WindowStats, _groups, stats_from_sums


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
