"""The level-crossing repetition counter of one signal, one sample at a time: a causal
low-pass (:class:`Biquad`) and a hysteresis state machine with thresholds relative to the
recent reps' amplitude (:class:`RepCounter`, parameters in :class:`CounterConfig`). The
motion engine (``engine.py``) runs it on the selected signal; the slow-set counter
(``slow.py``) on the gravity tilt. See docs/motion.md."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

from .filters import sos_step


@dataclass(frozen=True)
class CounterConfig:
    """Repetition-detection parameters (units in the names; see docs/motion.md).

    Amplitudes are relative to the recent rep amplitude ``A_ref`` (median of the last
    ``history`` reps) or absolute in the signal unit (``min_amplitude``).
    """

    lowpass_hz: float = 3.0
    min_amplitude: float = 8.0  # absolute floor, signal unit (deg for angles)
    # Within a set (A_ref known) the absolute floor relaxes to this x A_ref: small but
    # consistent reps count, a still signal (no A_ref) still needs the absolute floor.
    set_floor_frac: float = 0.5
    noise_factor: float = 10.0  # floor = noise_factor x sensor-noise estimate
    start_frac: float = 0.25  # rep starts when the signal leaves rest by this x A_ref
    accept_frac: float = 0.4  # a rep smaller than this x A_ref is a partial rep (ignored)
    return_frac: float = 0.6  # rep ends after returning this share of its own excursion
    settle_s: float = 0.12  # end of rep: no new minimum for this long
    max_settle_s: float = 1.5
    min_rep_s: float = 0.25
    max_rep_s: float = 20.0
    history: int = 5
    forget_s: float = 30.0  # forget A_ref after this long without reps (new set)
    gap_reset_s: float = 1.0  # restart detection after a gap in the samples this long
    # A rep lasting >= split_factor x the set's median rep duration whose signal returned
    # >= split_return of its first excursion in between is two reps (the return fell just
    # short of return_frac, e.g. a hurried second rep); see MotionEngine._split_long.
    split_factor: float = 1.6
    split_return: float = 0.5


class Biquad:
    """Causal Butterworth low-pass as second-order sections, one sample at a time.

    Direct form II transposed, the same recursion as ``scipy.signal.sosfilt``; started in
    steady state at the first value (``sosfilt_zi``) so there is no start transient.
    """

    def __init__(self, fs_hz: float, fc_hz: float, order: int = 2):
        fc = min(fc_hz, 0.45 * fs_hz)
        self.sos = sps.butter(order, fc, fs=fs_hz, output="sos")
        self.zi = sps.sosfilt_zi(self.sos)
        self._coef = [tuple(float(c) for c in s) for s in self.sos]
        self._z: list[list[float]] | None = None
        #: Low-frequency group delay in seconds (reported times are corrected by it).
        _w, gd = sps.group_delay((*sps.sos2tf(self.sos),), w=[0.05 * fc], fs=fs_hz)
        self.delay_s = float(gd[0]) / fs_hz

    def reset(self) -> None:
        self._z = None

    def __call__(self, x: float) -> float:
        if self._z is None:
            self._z = [[float(a * x), float(b * x)] for a, b in self.zi]
        return sos_step(self._coef, self._z, x)

    def filter_array(self, x: np.ndarray) -> np.ndarray:
        """Vectorised equivalent on one contiguous segment (fresh state)."""
        if x.size == 0:
            return x.copy()
        y, _ = sps.sosfilt(self.sos, x, zi=self.zi * x[0])
        return y


@dataclass
class _Machine:
    """Hysteresis state machine for one polarity (``sign`` = +1: reps go up from rest)."""

    sign: float
    state: int = 0  # 0 rest, 1 in rep, 2 settling
    base: float = math.inf
    t_base: float = 0.0
    peak: float = -math.inf
    t_peak: float = 0.0
    start_base: float = 0.0
    t_start: float = 0.0
    low: float = math.inf
    t_low: float = 0.0
    t_settle: float = 0.0

    def reset(self, y: float, t: float) -> None:
        self.state = 0
        self.base = self.sign * y
        self.t_base = t


class RepCounter:
    """Streaming repetition detector on a 1-D signal.

    ``push(t_s, x)`` takes the unfiltered signal value and returns completed/started rep
    candidates as ``(kind, info)`` tuples; :class:`MotionEngine` turns them into events with
    metrics. Rest polarity (whether reps go up or down from rest) is decided by the first
    movement that leaves the starting level.
    """

    def __init__(self, fs_hz: float, cfg: CounterConfig):
        self.fs = fs_hz
        self.cfg = cfg
        self.lp = Biquad(fs_hz, cfg.lowpass_hz)
        self.delay_s = self.lp.delay_s
        self.machines = [_Machine(1.0), _Machine(-1.0)]
        self.t_prev = -math.inf
        self.x1 = self.x2 = math.nan
        self.noise = 0.0
        self.amps: deque[float] = deque(maxlen=cfg.history)
        self._aref = 0.0
        self.t_last_rep = -math.inf
        self._a_noise_fast = 1.0 - math.exp(-1.0 / (0.5 * fs_hz))
        self._a_noise_slow = 1.0 - math.exp(-1.0 / (20.0 * fs_hz))

    # -- helpers ---------------------------------------------------------------------------
    def a_ref(self) -> float:
        """Recent rep amplitude: median of the last ``history`` accepted reps (0 if none)."""
        return self._aref

    def _refresh_ref(self) -> None:
        # Cached: recomputed only when the history changes (keeps step() cheap).
        s = sorted(self.amps)
        self._aref = s[len(s) // 2] if s else 0.0

    def floor(self) -> float:
        cfg = self.cfg
        unit = cfg.min_amplitude
        if self._aref > 0.0:
            unit = min(unit, cfg.set_floor_frac * self._aref)
        return max(unit, cfg.noise_factor * self.noise)

    def _restart(self, t: float, y: float) -> None:
        for m in self.machines:
            m.reset(y, t)

    # -- per sample ------------------------------------------------------------------------
    def push(self, t: float, x: float) -> list[tuple[str, dict]]:
        gap = t - self.t_prev > self.cfg.gap_reset_s
        if gap:
            self.lp.reset()
        y = self.lp(x)
        return self.step(t, x, y, gap)

    def step(self, t: float, x: float, y: float, gap: bool) -> list[tuple[str, dict]]:
        """State update for one sample: raw ``x``, low-passed ``y``; ``gap`` restarts."""
        cfg = self.cfg
        self.t_prev = t
        if gap:
            self.x1 = self.x2 = math.nan
            self._restart(t, y)
            return []
        # Sensor-noise level: a low quantile of |second difference| (movement contributes
        # little to it; it falls fast and rises slowly so movement does not inflate it).
        if self.x2 == self.x2:  # not NaN
            d2 = abs(x - 2.0 * self.x1 + self.x2) * 0.408  # / sqrt(6): white-noise std
            a = self._a_noise_fast if d2 < self.noise else self._a_noise_slow
            self.noise += a * (d2 - self.noise)
        self.x2, self.x1 = self.x1, x
        if t - self.t_last_rep > cfg.forget_s and self.amps:
            self.amps.clear()
            self._refresh_ref()
        out: list[tuple[str, dict]] = []
        floor = self.floor()
        h_on = cfg.start_frac * self._aref
        if h_on < floor:
            h_on = floor
        near = 0.1 * h_on  # "still at rest" band above the base
        for m in self.machines:
            v = m.sign * y
            if m.state == 0:
                if v < m.base:
                    m.base, m.t_base = v, t
                elif v - m.base >= h_on:
                    m.state = 1
                    m.start_base, m.t_start = m.base, m.t_base
                    m.peak, m.t_peak = v, t
                    if len(self.machines) == 2:
                        # First departure from the starting level fixes the rest polarity.
                        self.machines = [m]
                    out.append(("start", {"t_start": m.t_start}))
                    break
                elif v - m.base < near:
                    m.t_base = t  # still at rest: the rep starts when it really leaves
            elif m.state == 1:
                if v > m.peak:
                    m.peak, m.t_peak = v, t
                amp = m.peak - m.start_base
                if m.peak - v >= cfg.return_frac * amp:
                    m.state = 2
                    m.low, m.t_low, m.t_settle = v, t, t
                elif t - m.t_start > cfg.max_rep_s:
                    m.reset(y, t)
                    out.append(("abort", {}))
            else:
                amp = m.peak - m.start_base
                if v < m.low - 0.02 * amp:
                    m.low, m.t_low = v, t
                elif (
                    v - m.low > 0.15 * amp
                    or t - m.t_low >= cfg.settle_s
                    or t - m.t_settle >= cfg.max_settle_s
                ):
                    out.append(self._complete(m, t))
                    m.state = 0
                    m.base, m.t_base = v, t
        return out

    def _complete(self, m: _Machine, t: float) -> tuple[str, dict]:
        cfg = self.cfg
        amp = m.peak - m.start_base
        dur = m.t_low - m.t_start
        ok = (
            amp >= self.floor()
            and amp >= cfg.accept_frac * self.a_ref()
            and cfg.min_rep_s <= dur <= cfg.max_rep_s
        )
        info = {
            "t_start": m.t_start,
            "t_end": m.t_low,
            "t_peak": m.t_peak,
            "amplitude": amp,
            "t_emit": t,
            "sign": m.sign,
        }
        if ok:
            self.amps.append(amp)
            self._refresh_ref()
            self.t_last_rep = t
            return ("rep", info)
        return ("reject", info)
