"""IMU angles in degrees (motion/orientation.py) and the ROM of IMU-counted reps."""

from __future__ import annotations

import numpy as np
import pytest
from motion_synth import imu_set_session, imu_slow_set
from scipy.spatial.transform import Rotation

from openrehab.motion.engine import analyse_recording
from openrehab.motion.orientation import rotation_angle_deg, tilt_angle_deg

G = 9.80665


def _out_and_back(t: np.ndarray, amp_deg: float) -> np.ndarray:
    """Angle (rad) of a minimum-jerk movement out to ``amp_deg`` and back over ``t``."""
    tau = (t - t[0]) / (t[-1] - t[0])
    u = np.where(tau < 0.5, 2 * tau, 2 - 2 * tau)
    return np.radians(amp_deg) * (10 * u**3 - 15 * u**4 + 6 * u**5)


@pytest.mark.parametrize("amp_deg", [30.0, 70.0, 140.0])
def test_rotation_angle_recovers_the_swept_angle_despite_bias(amp_deg: float) -> None:
    rng = np.random.default_rng(1)
    t = np.arange(0, 3.0, 0.02)
    ang = _out_and_back(t, amp_deg)
    axis = np.array([0.3, -0.8, 0.5]) / np.linalg.norm([0.3, -0.8, 0.5])
    rate = np.gradient(ang, t)[:, None] * axis[None, :]
    gyro = rate + np.array([0.03, -0.02, 0.01]) + rng.normal(0, 0.01, rate.shape)
    theta = rotation_angle_deg(t, gyro)
    assert theta[0] == 0.0
    assert theta.max() == pytest.approx(amp_deg, rel=0.02)  # positive towards the far end
    assert abs(theta[-1]) < 0.02 * amp_deg  # bias removed: back to the start


@pytest.mark.parametrize("amp_deg", [30.0, 70.0, 120.0])
def test_tilt_angle_follows_gravity_in_the_plane_of_movement(amp_deg: float) -> None:
    rng = np.random.default_rng(2)
    t = np.arange(0, 4.0, 0.02)
    ang = _out_and_back(t, amp_deg)
    g0 = np.array([0.2, 0.9, -0.4]) / np.linalg.norm([0.2, 0.9, -0.4])
    axis = np.cross(g0, [1.0, 0.0, 0.0])
    rot = Rotation.from_rotvec(ang[:, None] * (axis / np.linalg.norm(axis))[None, :])
    acc = G * rot.apply(g0) + rng.normal(0, 0.15, (t.size, 3))
    theta = tilt_angle_deg(acc, 50.0)
    assert theta.max() == pytest.approx(amp_deg, abs=3.0)
    assert abs(theta[0]) < 1.0 and abs(theta[-1]) < 3.0


def test_tilt_does_not_see_a_turn_about_gravity() -> None:
    t = np.arange(0, 4.0, 0.02)
    rot = Rotation.from_rotvec(_out_and_back(t, 90.0)[:, None] * np.array([[0.0, 0.0, 1.0]]))
    acc = G * rot.apply([0.0, 0.0, 1.0])
    assert np.abs(tilt_angle_deg(acc, 50.0)).max() < 0.5


def test_tilt_of_degenerate_rows_is_finite() -> None:
    acc = np.tile([0.0, 0.0, G], (50, 1))
    acc[10:13] = 0.0  # not a real reading
    theta = tilt_angle_deg(acc, 50.0)
    assert np.isfinite(theta).all() and np.abs(theta).max() < 1e-6
    assert tilt_angle_deg(acc[:1], 50.0).tolist() == [0.0]
    assert rotation_angle_deg(np.array([0.0]), np.zeros((1, 3))).tolist() == [0.0]


@pytest.mark.parametrize("gyro", [True, False])
def test_periodic_imu_reps_report_their_rotation_in_degrees(gyro: bool) -> None:
    # 8 reps of 100 deg forearm rotation, 2 s each: the reps inside the set (the first and
    # last may include handling) report about 100 deg, with or without a gyroscope.
    rec, _truth = imu_set_session(gyro=gyro, amp_deg=100.0)
    res = analyse_recording(rec)
    inner = res.reps[1:-1]
    assert len(inner) >= 6
    for rep in inner:
        assert rep.rom_unit == "deg"
        assert rep.rom == pytest.approx(100.0, abs=8.0)
        assert rep.peak_velocity > 100.0  # deg/s: 100 deg in 0.9 s out and back


@pytest.mark.parametrize("gyro", [True, False])
def test_slow_imu_reps_report_their_rotation_in_degrees(gyro: bool) -> None:
    res = analyse_recording(imu_slow_set(6.0, gyro=gyro))
    assert res.count == 8
    for rep in res.reps:
        assert rep.rom_unit == "deg"
        assert rep.rom == pytest.approx(60.0, abs=5.0)
