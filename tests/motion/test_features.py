"""Signal units: a gyroscope reads rad/s (docs/recordings.md), the engine reports degrees.

Unit rule: IMU files carry angular velocity in rad/s (accelerations in m/s^2); every angle
the engine reports (``rom``) is in degrees and every angular speed (``peak_velocity``,
``stretch_velocity``, compared with an exercise's ``max_velocity_deg_s``) in deg/s. The
gyroscope signals (``forearm_rotation``, ``toe_curl``) convert rad/s to deg/s once, before
they are integrated into an angle. A missed conversion shrinks the rotation 57-fold: a
60 deg pronation reads about 1 "deg", under the 8 deg unit floor, so nothing is counted,
and a stretch that is far too fast for a spastic pronator is never flagged.
"""

from __future__ import annotations

import numpy as np
import pytest
from motion_synth import imu_set_session

from openrehab.motion.engine import AnalysisResult, analyse_recording
from openrehab.motion.signals import SignalSpec

PERIOD_S = 2.5  # one pronation-supination rep per 2.5 s, lasting 90 % of it (2.25 s)


def _forearm_set(
    amp_deg: float, fs: float, max_velocity_deg_s: float | None = None
) -> tuple[AnalysisResult, list[tuple[float, float]]]:
    """Six turns of the forearm about its long axis by ``amp_deg`` and back: the gyroscope
    reads their rate in rad/s (the derivative of the synthetic angle, sensor noise
    0.02 rad/s), counted as the ``forearm_rotation`` signal."""
    rec, truth = imu_set_session(
        fs=fs, periods=(PERIOD_S,) * 6, amp_deg=amp_deg, handling=False, roll=True, lead_s=3.0
    )
    spec = SignalSpec(signal="forearm_rotation", max_velocity_deg_s=max_velocity_deg_s)
    return analyse_recording(rec, spec), truth


def _min_jerk_peak_speed(amp_deg: float) -> float:
    """Peak speed (deg/s) of a minimum-jerk movement of ``amp_deg`` over half a rep."""
    half = 0.9 * PERIOD_S / 2
    return 1.875 * amp_deg / half


@pytest.mark.parametrize("fs", [50.0, 100.0])
@pytest.mark.parametrize("amp_deg", [20.0, 60.0, 150.0])
def test_forearm_rotation_rom_is_the_integrated_gyro_turn_in_degrees(
    amp_deg: float, fs: float
) -> None:
    """A forearm turned by ``amp_deg`` (gyroscope in rad/s) reports ``rom`` ~ ``amp_deg``
    degrees: every rep counted, every rep after the first within 10 % and the last within
    5 % (the rotation axis is learnt over the first reps, tau 10 s, and the integration
    leaks over 10 s); 20 deg is just above the 8 deg floor in degrees, 150 deg a full
    pronation-supination arc (2.6 rad: below the floor in radians)."""
    res, truth = _forearm_set(amp_deg, fs)
    assert res.count == len(truth)
    roms = np.array([r.rom for r in res.reps])
    assert {r.rom_unit for r in res.reps} == {"deg"}
    assert roms[1:] == pytest.approx(np.full(roms.size - 1, amp_deg), rel=0.10)
    assert roms[-1] == pytest.approx(amp_deg, rel=0.05)
    assert 0.5 * amp_deg <= roms[0] <= 1.05 * amp_deg


@pytest.mark.parametrize("amp_deg", [60.0, 150.0])
def test_forearm_rotation_peak_velocity_is_the_gyro_rate_in_deg_per_s(amp_deg: float) -> None:
    """``peak_velocity`` is the angular speed in deg/s: within 8 % of the minimum-jerk
    peak speed of the synthetic turn (1.875 x amplitude / half-rep duration)."""
    res, truth = _forearm_set(amp_deg, 50.0)
    assert res.count == len(truth)
    vpk = _min_jerk_peak_speed(amp_deg)
    assert [r.peak_velocity for r in res.reps] == pytest.approx([vpk] * res.count, rel=0.08)


def test_forearm_stretch_speed_limit_is_compared_in_deg_per_s() -> None:
    """Spasticity is velocity dependent (Lance 1980): a pronator stretch faster than the
    exercise's limit (deg/s) is flagged ``too_fast``. The same turns are too fast for a
    limit of half their peak speed and not for 1.25 x it: the sustained speed is compared
    in deg/s, not in rad/s (which would be 57x below any limit)."""
    vpk = _min_jerk_peak_speed(60.0)
    strict, truth = _forearm_set(60.0, 50.0, max_velocity_deg_s=0.5 * vpk)
    loose, _ = _forearm_set(60.0, 50.0, max_velocity_deg_s=1.25 * vpk)
    assert strict.count == loose.count == len(truth)
    assert all(r.too_fast for r in strict.reps)
    assert not any(r.too_fast for r in loose.reps)
    for r in strict.reps:
        assert 0.75 * vpk < r.stretch_velocity <= 1.05 * vpk
