"""Joint-angle recordings for the Tardieu analysis: reading a CSV, checking a series, and
its kinematics (resampling, low-pass, velocity, acceleration, sensor noise and the noise
gain of the filter chain).

A series is usable when it has at least ``MIN_SAMPLES`` samples over ``MIN_DURATION_S``,
strictly increasing finite times, a median rate of at least ``MIN_RATE_HZ`` and no gap above
``MAX_GAP_S``; anything else raises :class:`TardieuInputError` with a one-line reason.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal as sps

MIN_RATE_HZ = 25.0
MIN_SAMPLES = 20
MIN_DURATION_S = 1.0
MAX_GAP_S = 0.25
TIME_COLUMNS = ("t_s", "t", "time", "time_s")
ANGLE_COLUMNS = ("angle_deg", "angle")
GRID_RATE_HZ = 200.0
SMOOTH_CUTOFF_HZ = 1.5
KINEMATICS_CUTOFF_HZ = 6.0
MAX_CUTOFF_RATIO = 0.3


class TardieuInputError(ValueError):
    """A recording cannot be used; the message says what is wrong."""


@dataclass(frozen=True, eq=False)
class AngleSeries:
    """One joint angle recording: times (s, strictly increasing) and angles (deg)."""

    t_s: np.ndarray
    angle_deg: np.ndarray

    def __post_init__(self) -> None:
        t = np.asarray(self.t_s, dtype=float).ravel()
        a = np.asarray(self.angle_deg, dtype=float).ravel()
        object.__setattr__(self, "t_s", t)
        object.__setattr__(self, "angle_deg", a)
        _validate(t, a)

    @classmethod
    def from_lists(cls, t_s: Sequence[float], angle_deg: Sequence[float]) -> AngleSeries:
        """From two sequences of numbers (s, deg); bad values raise TardieuInputError."""
        try:
            return cls(np.asarray(t_s, dtype=float), np.asarray(angle_deg, dtype=float))
        except (TypeError, ValueError) as exc:
            if isinstance(exc, TardieuInputError):
                raise
            raise TardieuInputError(f"times and angles must be numbers ({exc})") from None

    @classmethod
    def from_csv(cls, path: str | Path) -> AngleSeries:
        """Read a CSV with a header: a time column (``t_s``, ``t``, ``time``; s) and an
        ``angle_deg`` (or ``angle``) column in degrees; other columns are ignored."""
        p = Path(path)
        try:
            with p.open(newline="", encoding="utf-8-sig") as fh:
                rows = list(csv.reader(fh))
        except (OSError, UnicodeDecodeError) as exc:
            raise TardieuInputError(f"{p}: cannot read ({exc})") from None
        try:
            return cls.from_lists(*_columns(rows))
        except TardieuInputError as exc:
            raise TardieuInputError(f"{p}: {exc}") from None


def _columns(rows: list[list[str]]) -> tuple[list[float], list[float]]:
    """The time and angle columns of CSV rows (header first)."""
    if not rows:
        raise TardieuInputError("empty file")
    header = [h.strip().lower() for h in rows[0]]
    ti = next((header.index(c) for c in TIME_COLUMNS if c in header), None)
    ai = next((header.index(c) for c in ANGLE_COLUMNS if c in header), None)
    if ti is None or ai is None:
        raise TardieuInputError(
            "needs a header with a time column (t_s, t or time) and an angle column "
            f"(angle_deg or angle); found {', '.join(header) or 'nothing'}"
        )
    t_s: list[float] = []
    angle_deg: list[float] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            t_s.append(float(row[ti]))
            angle_deg.append(float(row[ai]))
        except (ValueError, IndexError):
            raise TardieuInputError(f"line {line}: time and angle must be numbers") from None
    return t_s, angle_deg


def _validate(t: np.ndarray, a: np.ndarray) -> None:
    if t.size != a.size:
        raise TardieuInputError(f"{t.size} times but {a.size} angles")
    if t.size < MIN_SAMPLES:
        raise TardieuInputError(f"only {t.size} samples; at least {MIN_SAMPLES} needed")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(a))):
        raise TardieuInputError("times and angles must be finite numbers (found NaN or inf)")
    dt = np.diff(t)
    if np.any(dt <= 0):
        k = int(np.argmax(dt <= 0))
        raise TardieuInputError(f"time must increase (t={t[k + 1]:g} s follows t={t[k]:g} s)")
    if t[-1] - t[0] < MIN_DURATION_S:
        raise TardieuInputError(f"lasts {t[-1] - t[0]:.2f} s; at least {MIN_DURATION_S:g} s")
    rate = 1.0 / float(np.median(dt))
    if rate < MIN_RATE_HZ:
        raise TardieuInputError(f"sampled at {rate:.1f} Hz; at least {MIN_RATE_HZ:g} Hz needed")
    if dt.max() > MAX_GAP_S:
        k = int(np.argmax(dt))
        raise TardieuInputError(f"a gap of {dt[k]:.2f} s in the data at t={t[k]:g} s")


@dataclass(frozen=True, eq=False)
class Kinematics:
    """A recording on a uniform grid, in stretch coordinates (angle rising with stretch)."""

    rate_hz: float
    input_rate_hz: float
    grid_deg: np.ndarray  # resampled, unfiltered
    smooth_deg: np.ndarray  # 1.5 Hz low-pass
    angle_deg: np.ndarray  # low-pass at cutoff_hz
    velocity_deg_s: np.ndarray
    accel_deg_s2: np.ndarray
    noise_deg: float
    cutoff_hz: float
    sample_t_s: np.ndarray  # the recorded times (s), for care.catch_glrt's raw-sample test
    sample_deg: np.ndarray  # the recorded angles (deg), stretch coordinates

    @property
    def velocity_noise_deg_s(self) -> float:
        """SD of the velocity that the sensor noise alone produces (deg/s)."""
        return self.noise_deg * noise_gains(self.input_rate_hz, self.rate_hz, self.cutoff_hz)[0]

    @property
    def accel_noise_deg_s2(self) -> float:
        """SD of the acceleration that the sensor noise alone produces (deg/s^2)."""
        return self.noise_deg * noise_gains(self.input_rate_hz, self.rate_hz, self.cutoff_hz)[1]

    def refiltered(self, cutoff_hz: float) -> Kinematics:
        """The same recording differentiated after a low-pass at ``cutoff_hz``."""
        return _differentiate(self, self.grid_deg, cutoff_hz)


def _lowpass(x: np.ndarray, cutoff_hz: float, rate_hz: float) -> np.ndarray:
    """Zero-phase 2nd-order Butterworth low-pass (forward-backward: effective 4th order)."""
    sos = sps.butter(2, cutoff_hz, fs=rate_hz, output="sos")
    return sps.sosfiltfilt(sos, x)


@functools.lru_cache(maxsize=256)
def noise_gains(input_rate_hz: float, rate_hz: float, cutoff_hz: float) -> tuple[float, float]:
    """SD of velocity (deg/s) and acceleration (deg/s^2) per deg of white sensor noise after
    this module's chain: linear resampling from ``input_rate_hz`` to ``rate_hz`` (power
    response sinc^4), the zero-phase low-pass (|H|^4) and two central differences
    ((rate sin(2 pi f / rate))^2 each); the integral of the noise spectrum over 0..rate/2."""
    f = np.linspace(0.0, rate_hz / 2.0, 4001)
    _, h = sps.sosfreqz(sps.butter(2, cutoff_hz, fs=rate_hz, output="sos"), worN=f, fs=rate_hz)
    spectrum = np.sinc(f / input_rate_hz) ** 4 / input_rate_hz * np.abs(h) ** 4
    d2 = (rate_hz * np.sin(2.0 * np.pi * f / rate_hz)) ** 2
    v = math.sqrt(2.0 * float(np.trapezoid(spectrum * d2, f)))
    a = math.sqrt(2.0 * float(np.trapezoid(spectrum * d2 * d2, f)))
    return v, a


def noise_sd_deg(series: AngleSeries) -> float:
    """Sensor noise (deg): robust SD (1.4826 MAD) of the raw second differences over
    sqrt(6); movement adds little since most samples are at rest or slow."""
    d2 = np.diff(series.angle_deg, 2)
    return 1.4826 * float(np.median(np.abs(d2 - np.median(d2)))) / math.sqrt(6.0)


def kinematics(
    series: AngleSeries, *, increasing: bool = True, cutoff_hz: float = KINEMATICS_CUTOFF_HZ
) -> Kinematics:
    """Resample to a uniform grid, filter at ``cutoff_hz`` (at most ``MAX_CUTOFF_RATIO`` x
    the input rate), differentiate."""
    t, a = series.t_s, series.angle_deg if increasing else -series.angle_deg
    input_rate = 1.0 / float(np.median(np.diff(t)))
    rate = max(GRID_RATE_HZ, input_rate)
    grid = np.arange(t[0], t[-1], 1.0 / rate)
    x = np.interp(grid, t, a)
    base = Kinematics(
        rate_hz=rate,
        input_rate_hz=input_rate,
        grid_deg=x,
        smooth_deg=_lowpass(x, SMOOTH_CUTOFF_HZ, rate),
        angle_deg=x,
        velocity_deg_s=x,
        accel_deg_s2=x,
        noise_deg=noise_sd_deg(series),
        cutoff_hz=cutoff_hz,
        sample_t_s=t,
        sample_deg=a,
    )
    return _differentiate(base, x, cutoff_hz)


def _differentiate(kin: Kinematics, x: np.ndarray, cutoff_hz: float) -> Kinematics:
    cutoff = min(cutoff_hz, MAX_CUTOFF_RATIO * kin.input_rate_hz)
    ang = _lowpass(x, cutoff, kin.rate_hz)
    vel = np.gradient(ang, 1.0 / kin.rate_hz)
    acc = np.gradient(vel, 1.0 / kin.rate_hz)
    return dataclasses.replace(
        kin, angle_deg=ang, velocity_deg_s=vel, accel_deg_s2=acc, cutoff_hz=cutoff
    )
