"""Window statistics of the period-based counter: the dominant period, how periodic the
window is (autocorrelation at that period) and its principal direction, from running sums
(streaming) or from cumulative sums of lag products (all update instants of a file at once).
See ``periodic.py``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .periodic_config import PeriodicConfig


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
