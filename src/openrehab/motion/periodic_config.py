"""Parameters of the period-based IMU counter (``periodic.py`` explains each step)."""

from __future__ import annotations

from dataclasses import dataclass


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
