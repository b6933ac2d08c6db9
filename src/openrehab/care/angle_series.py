"""Joint-angle recordings for the Tardieu analysis: reading a CSV and checking a series.

A series is usable when it has at least ``MIN_SAMPLES`` samples over ``MIN_DURATION_S``,
strictly increasing finite times, a median rate of at least ``MIN_RATE_HZ`` and no gap above
``MAX_GAP_S``; anything else raises :class:`TardieuInputError` with a one-line reason.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MIN_RATE_HZ = 25.0
MIN_SAMPLES = 20
MIN_DURATION_S = 1.0
MAX_GAP_S = 0.25
TIME_COLUMNS = ("t_s", "t", "time", "time_s")
ANGLE_COLUMNS = ("angle_deg", "angle")


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
