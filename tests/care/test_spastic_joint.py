"""The simulated spastic joint: deterministic, a catch only when spastic and fast, the catch
angle falling with speed, the sensor's rate and noise."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from openrehab.care.spastic_joint import (
    JointParams,
    SensorParams,
    non_spastic,
    random_joint,
    simulate_case,
    simulate_examination,
    simulate_stretch,
)

JOINT = JointParams(r2_deg=130.0, rest_deg=10.0, threshold_angle_deg=140.0, threshold_slope_s=0.25)


def test_same_seed_same_recording() -> None:
    a = simulate_stretch(JOINT, 250, sensor=SensorParams(60, 1.0, 0.002), seed=7)
    b = simulate_stretch(JOINT, 250, sensor=SensorParams(60, 1.0, 0.002), seed=7)
    c = simulate_stretch(JOINT, 250, sensor=SensorParams(60, 1.0, 0.002), seed=8)
    assert np.array_equal(a.series.angle_deg, b.series.angle_deg)
    assert np.array_equal(a.series.t_s, b.series.t_s)
    assert a.stretches == b.stretches
    assert not np.array_equal(a.series.angle_deg[: c.series.angle_deg.size], c.series.angle_deg)


def test_fast_stretch_of_a_spastic_joint_catches_then_goes_on_to_the_end_of_range() -> None:
    (truth,) = simulate_stretch(JOINT, 300, seed=1).stretches
    assert truth.reflex and truth.catch and truth.r1_deg is not None
    assert JOINT.rest_deg + 20 < truth.r1_deg < truth.end_deg - 20
    assert truth.end_deg > JOINT.r2_deg - 8  # released: the stretch reached the end of range
    assert 250 < truth.peak_velocity_deg_s < 400


def test_no_catch_without_spasticity_or_at_slow_speed() -> None:
    (fast,) = simulate_stretch(non_spastic(JOINT), 300, seed=1).stretches
    (slow,) = simulate_stretch(JOINT, 8, seed=1).stretches
    (below,) = simulate_stretch(replace(JOINT, velocity_threshold_deg_s=500), 300, seed=1).stretches
    for truth in (fast, slow, below):
        assert not truth.reflex and not truth.catch and truth.r1_deg is None
    assert slow.peak_velocity_deg_s < 12
    assert abs(slow.end_deg - JOINT.r2_deg) < 5


def test_catch_angle_falls_as_velocity_rises() -> None:
    r1 = [simulate_stretch(JOINT, v, seed=3).stretches[0].r1_deg for v in (150, 250, 380)]
    assert all(r is not None for r in r1)
    assert r1[0] > r1[1] + 5 > r1[2] + 10  # type: ignore[operator]


def test_sensor_rate_noise_and_several_stretches() -> None:
    clean = simulate_stretch(JOINT, 200, sensor=SensorParams(30, 0.0), n_stretches=2, seed=4)
    noisy = simulate_stretch(JOINT, 200, sensor=SensorParams(30, 2.0), n_stretches=2, seed=4)
    assert np.isclose(np.median(np.diff(clean.series.t_s)), 1 / 30)
    assert 1.8 < np.std(noisy.series.angle_deg - clean.series.angle_deg) < 2.2
    assert len(clean.stretches) == 2 and all(s.catch for s in clean.stretches)


def test_clonus_adds_oscillation_after_the_catch() -> None:
    joint = replace(JOINT, clonus_hz=6.0, clonus_beats=3)
    plain = simulate_stretch(JOINT, 300, sensor=SensorParams(200), seed=5)
    clonic = simulate_stretch(joint, 300, sensor=SensorParams(200), seed=5)
    assert clonic.stretches[0].catch
    assert clonic.stretches[0].r1_deg == plain.stretches[0].r1_deg  # same first catch

    diff = clonic.series.angle_deg - plain.series.angle_deg
    moved = np.flatnonzero(np.abs(diff) > 0.01)
    catch_i = int(np.argmax(plain.series.angle_deg >= plain.stretches[0].r1_deg))
    assert moved[0] > catch_i  # identical up to the catch, then the clonus beats
    assert np.abs(diff).max() > 1.0


def test_random_joints_and_cases_are_plausible() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        joint = random_joint(rng, spastic=True)
        assert 70 <= joint.r2_deg - joint.rest_deg <= 150
    case = simulate_case(11, spastic=False, fast_velocity_deg_s=300, sensor=SensorParams(100))
    assert not case.true_catch and not case.ambiguous and case.true_r1_deg is None
    assert case.true_r2_deg > case.joint.rest_deg + 60


def test_an_examination_has_3_fast_trials_of_the_same_joint_at_varying_speed() -> None:
    sensor = SensorParams(100, 0.5)
    exam = simulate_examination(11, spastic=True, fast_velocity_deg_s=300, sensor=sensor)
    case = simulate_case(11, spastic=True, fast_velocity_deg_s=300, sensor=sensor)
    assert exam.joint == case.joint and len(exam.fast) == 3
    truths = exam.trial_truths
    speeds = [t.peak_velocity_deg_s for t in truths]
    assert all(200 < v < 400 for v in speeds) and max(speeds) - min(speeds) > 10
    if exam.true_catch:
        angles = [t.r1_deg for t in truths if t.r1_deg is not None]
        assert exam.true_r1_deg == float(np.median(angles))
        assert max(angles) - min(angles) > 0.5  # the catch moves with the trial's speed
    assert exam.ambiguous == (not exam.true_catch and not exam.no_reflex)
