"""Per-repetition movement-quality metrics.

All functions take uniformly sampled 1-D profiles and the sample rate ``fs`` in Hz.

References
----------
* S. Balasubramanian, A. Melendez-Calderon, E. Burdet, "A robust and sensitive metric for
  quantifying movement smoothness", IEEE Trans. Biomed. Eng. 59(8):2126-2136, 2012.
* S. Balasubramanian, A. Melendez-Calderon, A. Roby-Brami, E. Burdet, "On the analysis of
  movement smoothness", J. NeuroEng. Rehabil. 12:112, 2015 (SPARC with adaptive cut-off;
  LDLJ).
* N. Hogan, D. Sternad, "Sensitivity of smoothness measures to movement duration, amplitude,
  and arrests", J. Motor Behavior 41(6):529-534, 2009 (dimensionless jerk).
* A. Melendez-Calderon, C. Shirota, S. Balasubramanian, "Estimating movement smoothness from
  inertial measurement units", Front. Bioeng. Biotechnol. 8:558771, 2021 (LDLJ-A).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import signal as sps


def sparc(
    speed: np.ndarray,
    fs: float,
    padlevel: int = 4,
    fc: float = 10.0,
    amp_th: float = 0.05,
) -> float:
    """Spectral arc length (SPARC) of a speed profile (Balasubramanian et al. 2015).

    Parameters
    ----------
    speed:
        Speed (or angular speed) profile of one movement, any unit (SPARC is dimensionless
        and amplitude invariant).
    fs:
        Sample rate in Hz.
    padlevel:
        Zero padding: the FFT length is ``2 ** (ceil(log2(n)) + padlevel)``.
    fc:
        Maximum cut-off frequency in Hz.
    amp_th:
        Amplitude threshold of the normalised spectrum for the adaptive cut-off.

    Returns
    -------
    float
        SPARC (negative; closer to 0 is smoother). NaN for fewer than 3 samples or a zero
        profile.
    """
    v = np.asarray(speed, dtype=float)
    if v.size < 3 or not np.any(v):
        return math.nan
    nfft = int(2 ** (math.ceil(math.log2(v.size)) + padlevel))
    if fc < fs / 2:
        # Real input: the one-sided spectrum holds the same magnitudes (and the maximum);
        # only the bins up to fc are used. A non-negative profile (a speed) peaks at 0 Hz.
        spec = np.fft.rfft(v, nfft)
        kcap = min(spec.size, int(fc * nfft / fs) + 2)
        mag = np.abs(spec[:kcap])
        peak = mag[0] if v.min() >= 0 else np.abs(spec).max()
        f = np.arange(kcap) * (fs / nfft)
        mag = mag / peak
    else:
        f = np.arange(0, fs, fs / nfft)
        mag = np.abs(np.fft.fft(v, nfft))
        mag = mag / mag.max()
    sel = f <= fc
    f_sel = f[sel]
    m_sel = mag[sel]
    inx = np.flatnonzero(m_sel >= amp_th)
    f_sel = f_sel[inx[0] : inx[-1] + 1]
    m_sel = m_sel[inx[0] : inx[-1] + 1]
    if f_sel.size < 2:
        return 0.0
    df = np.diff(f_sel) / (f_sel[-1] - f_sel[0])
    dm = np.diff(m_sel)
    return float(-np.sum(np.sqrt(df * df + dm * dm)))


def ldlj(speed: np.ndarray, fs: float) -> float:
    """Log dimensionless jerk from a speed profile (Hogan & Sternad 2009; LDLJ of
    Balasubramanian et al. 2015), ``-ln(T^3 / v_peak^2 * integral(jerk^2 dt))``.

    ``speed`` is the (angular) speed, any unit; ``T`` = ``len(speed) / fs`` seconds. Jerk is
    the second difference of the speed. Returns a negative number (closer to 0 is
    smoother); NaN for fewer than 3 samples or a zero profile.
    """
    v = np.asarray(speed, dtype=float)
    if v.size < 3:
        return math.nan
    vpeak = float(np.max(np.abs(v)))
    if vpeak == 0:
        return math.nan
    dt = 1.0 / fs
    dur = v.size * dt
    jerk = np.diff(v, 2) / (dt * dt)
    dlj = (dur**3 / vpeak**2) * float(np.sum(jerk * jerk)) * dt
    if dlj <= 0:
        return math.nan
    return float(-math.log(dlj))


def ldlj_a(accel: np.ndarray, fs: float) -> float:
    """LDLJ-A: log dimensionless jerk from accelerations (Melendez-Calderon et al. 2021),
    ``-ln(T / a_peak^2 * integral(|da/dt|^2 dt))``.

    ``accel`` has shape ``(n,)`` or ``(n, 3)``, gravity removed (e.g. mean-subtracted over
    the movement), any unit. Returns NaN for fewer than 3 samples or zero acceleration.
    """
    a = np.asarray(accel, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.shape[0] < 3:
        return math.nan
    apeak2 = float(np.einsum("ij,ij->i", a, a).max())  # squared peak |a|
    if apeak2 == 0:
        return math.nan
    dt = 1.0 / fs
    dur = a.shape[0] * dt
    d = a[1:] - a[:-1]
    val = (dur / apeak2) * float(np.einsum("ij,ij->", d, d)) / dt
    if val <= 0:
        return math.nan
    return float(-math.log(val))


def count_velocity_peaks(
    speed: np.ndarray, rel_height: float = 0.1, rel_prominence: float = 0.05
) -> int:
    """Number of peaks of a speed profile above ``rel_height`` x its maximum.

    Sub-movements (Rohrer et al. 2002) show as separate speed peaks; a smooth rep has one.
    A peak must also stand ``rel_prominence`` x the maximum above the dips that separate it
    from higher peaks, so that sensor-noise ripples on a smooth profile do not count.
    Plateaus count once; a profile that peaks at an edge (a rep cut by its window) still
    has that peak.
    """
    v = np.asarray(speed, dtype=float)
    if v.size < 3:
        return int(v.size > 0 and np.max(v) > 0)
    vmax = float(np.max(v))
    if not vmax > 0:
        return 0
    # Zero-padded edges: an edge maximum is a peak, its prominence measured down to 0.
    u = np.concatenate(([0.0], v, [0.0]))
    # Plateaus collapsed to one sample (a plateau is one peak).
    u = u[np.concatenate(([True], u[1:] != u[:-1]))]
    cand = np.flatnonzero((u[1:-1] > u[:-2]) & (u[1:-1] > u[2:]) & (u[1:-1] >= rel_height * vmax))
    cand += 1
    if cand.size <= 1:
        return int(cand.size)
    need = rel_prominence * vmax
    if cand.size == 2:
        # Two peaks (the common out-and-back rep): the higher one is prominent (it falls
        # to the zero padding); the lower one stands above the valley between them.
        i, j = int(cand[0]), int(cand[1])
        lo = min(u[i], u[j])
        return 2 if u[i] == u[j] or lo - u[i : j + 1].min() >= need else 1
    prom = sps.peak_prominences(u, cand)[0]
    return int(np.count_nonzero(prom >= need))


@dataclass(frozen=True)
class RepMetrics:
    """Metrics of one repetition.

    ``rom`` is in ``rom_unit`` ("deg" for angles, "m", "m/s^2" or "norm");
    ``peak_velocity``/``mean_velocity`` in ``rom_unit``/s (deg/s for angles);
    ``sparc`` and ``ldlj`` are dimensionless (``ldlj`` is LDLJ-A when ``ldlj_kind == "accel"``).
    """

    start_s: float
    end_s: float
    peak_s: float
    rom: float
    rom_unit: str
    duration_s: float
    peak_velocity: float
    mean_velocity: float
    time_to_peak_velocity_s: float
    velocity_peaks: int
    sparc: float
    ldlj: float
    ldlj_kind: str
    too_fast: bool
    #: Peak speed sustained over :data:`STRETCH_WINDOW_S` (rom_unit/s), measured when a
    #: velocity limit applies (slow stretches); ``too_fast`` compares it with the limit.
    stretch_velocity: float = math.nan
    #: How sure the counter is that this is a repetition (0..1; NaN where not estimated).
    #: See docs/motion.md "Confidence".
    confidence: float = math.nan

    def to_dict(self, digits: int = 4) -> dict[str, float | int | str | bool | None]:
        """JSON-ready dict (NaN becomes ``None``)."""
        out: dict[str, float | int | str | bool | None] = {}
        for k, v in asdict(self).items():
            if isinstance(v, float):
                out[k] = None if not math.isfinite(v) else round(v, digits)
            else:
                out[k] = v
        return out


def rep_metrics(
    t_s: np.ndarray,
    x: np.ndarray,
    fs: float,
    *,
    unit: str,
    start_s: float,
    end_s: float,
    peak_s: float,
    accel: np.ndarray | None = None,
    speed: np.ndarray | None = None,
    max_velocity: float | None = None,
) -> RepMetrics:
    """Metrics of one rep from its (low-passed) signal ``x`` sampled at ``t_s``.

    ``speed`` overrides the speed profile (default: ``|dx/dt|``, e.g. angular speed in
    deg/s for angle signals); ``accel`` (``(n, 3)``, m/s^2) switches LDLJ to LDLJ-A.
    ``max_velocity`` (same unit as the speed) sets ``too_fast`` from the speed sustained
    over :data:`STRETCH_WINDOW_S` (:func:`sustained_speed`).
    """
    x = np.asarray(x, dtype=float)
    given_speed = speed is not None
    if speed is None:
        speed = np.abs(np.gradient(x, t_s)) if x.size > 1 else np.zeros_like(x)
    speed = np.asarray(speed, dtype=float)
    i0 = int(np.argmin(np.abs(t_s - start_s)))
    rom = float(max(x.max() - x[i0], x[i0] - x.min())) if x.size else math.nan
    dur = end_s - start_s
    if speed.size:
        ipk = int(speed.argmax())
        vpk = float(speed[ipk])
        vmean = float(speed.sum()) / speed.size
        ttp = min(float(t_s[ipk] - start_s), float(end_s - start_s))  # a sample past the end
    else:
        vpk = vmean = ttp = math.nan
    v_sus = (
        sustained_speed(t_s, x, fs, speed if given_speed else None) if max_velocity else math.nan
    )
    if accel is not None:
        a = np.asarray(accel, dtype=float)
        a = a - a.sum(axis=0) / max(a.shape[0], 1)  # mean removed: gravity, slow tilt
        jerk_val, kind = ldlj_a(a, fs), "accel"
    else:
        jerk_val, kind = ldlj(speed, fs), "velocity"
    return RepMetrics(
        start_s=float(start_s),
        end_s=float(end_s),
        peak_s=float(peak_s),
        rom=rom,
        rom_unit=unit,
        duration_s=float(dur),
        peak_velocity=vpk,
        mean_velocity=vmean,
        time_to_peak_velocity_s=ttp,
        velocity_peaks=count_velocity_peaks(speed),
        sparc=sparc(speed, fs),
        ldlj=jerk_val,
        ldlj_kind=kind,
        too_fast=bool(max_velocity is not None and math.isfinite(v_sus) and v_sus > max_velocity),
        stretch_velocity=v_sus,
    )


#: A stretch's speed is judged over a window of a quarter of the rep, at most this long.
#: Landmark tracking jitter of about a pixel (0.5-2 deg on a forearm or a hand, whose
#: segments are short) differentiated frame by frame reads as 20-40 deg/s, above a slow
#: stretch's whole limit (10-15 deg/s), still up to 18 deg/s over 1 s and under 8 deg/s over
#: 2 s, while the stretch reflex follows the stretch velocity sustained over the movement
#: (Lance 1980; Tardieu's V1-V3 differ tenfold). A quarter of the rep keeps a quick rep's
#: out-and-back from cancelling within the window; a 20 deg jerk in 0.2 s during a slow
#: stretch still reads 10 deg/s.
STRETCH_WINDOW_S = 2.0
_MIN_WINDOW_S = 0.2


def sustained_speed(t_s: np.ndarray, x: np.ndarray, fs: float, speed: np.ndarray | None) -> float:
    """Highest speed held over a window of a quarter of the rep (0.2 to
    :data:`STRETCH_WINDOW_S` s): the mean of ``speed`` over the window, or the
    Savitzky-Golay slope of ``x`` (quadratic fit, Savitzky & Golay 1964)."""
    span_s = float(t_s[-1] - t_s[0]) if t_s.size > 1 else 0.0
    window_s = min(STRETCH_WINDOW_S, max(_MIN_WINDOW_S, span_s / 4))
    n = max(5, round(window_s * fs) | 1)
    if speed is not None:
        v = np.asarray(speed, dtype=float)
        if v.size == 0:
            return math.nan
        k = min(n, v.size)
        return float(np.convolve(v, np.full(k, 1.0 / k), mode="valid").max())
    if x.size < 2:
        return math.nan
    if x.size < n:  # shorter than the window: the fastest step
        return float(np.abs(np.diff(x) / np.maximum(np.diff(t_s), 1e-9)).max())
    # Centred fits only: at the edges a quadratic extrapolated from half a window can read
    # faster than the movement ever was.
    slope = sps.savgol_filter(x, n, 2, deriv=1, delta=1.0 / fs)[n // 2 : x.size - n // 2]
    return float(np.abs(slope).max())


def minimum_jerk_speed(duration_s: float, fs: float, amplitude: float = 1.0) -> np.ndarray:
    """Speed profile of a minimum-jerk point-to-point movement (Flash & Hogan 1985):
    ``amplitude / T * (30 tau^2 - 60 tau^3 + 30 tau^4)`` for ``tau`` in [0, 1]."""
    n = max(round(duration_s * fs) + 1, 2)
    tau = np.linspace(0.0, 1.0, n)
    return amplitude / duration_s * (30 * tau**2 - 60 * tau**3 + 30 * tau**4)


__all__ = [
    "RepMetrics",
    "count_velocity_peaks",
    "ldlj",
    "ldlj_a",
    "minimum_jerk_speed",
    "rep_metrics",
    "sparc",
    "sustained_speed",
]
