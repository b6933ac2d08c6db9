"""Modified Tardieu analysis on simulated joints: R2, the catch angle R1 (before end range,
clearly above the slow stretch, then release), speeds, quality, input checks, accuracy."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from openrehab.care.angle_series import kinematics, noise_gains
from openrehab.care.catch_pool import pool_catches
from openrehab.care.spastic_joint import (
    JointParams,
    SensorParams,
    non_spastic,
    simulate_case,
    simulate_examination,
    simulate_stretch,
)
from openrehab.care.tardieu import AngleSeries, FastTrial, TardieuInputError, analyse_tardieu

JOINT = JointParams(r2_deg=130.0, rest_deg=10.0, threshold_angle_deg=140.0, threshold_slope_s=0.25)
SENSOR = SensorParams(100, 0.5)


def _slow(joint: JointParams = JOINT, seed: int = 1, v: float = 7.0, sensor=SENSOR):  # type: ignore[no-untyped-def]
    return simulate_stretch(joint, v, sensor=sensor, seed=seed)


def test_catch_found_before_end_range_and_r2_within_3_deg() -> None:
    slow = _slow()
    fast = simulate_stretch(JOINT, 300, sensor=SENSOR, seed=2)
    res = analyse_tardieu(slow.series, [fast.series])
    truth = fast.stretches[0]
    assert res.catch_detected and truth.catch
    assert abs(res.r1_deg - truth.r1_deg) <= 5  # type: ignore[operator]
    assert abs(res.r2_deg - slow.stretches[0].end_deg) <= 3
    # The end-range stop decelerates harder but is not the catch.
    assert res.r2_deg - res.r1_deg > 30  # type: ignore[operator]
    assert res.dynamic_component_deg == pytest.approx(res.r2_deg - res.r1_deg)  # type: ignore[operator]
    assert abs(res.v_fast_deg_s[0] - truth.peak_velocity_deg_s) < 30
    assert abs(res.v_slow_deg_s - slow.stretches[0].peak_velocity_deg_s) < 2
    assert "catch then release" in res.reaction_hint and "indicative" in res.reaction_hint


@pytest.mark.parametrize("noise", [0.0, 1.0, 2.0])
def test_no_catch_in_a_non_spastic_joint(noise: float) -> None:
    joint = non_spastic(JOINT)
    sensor = SensorParams(60, noise, 0.002)
    for seed in range(3):
        fast = simulate_stretch(joint, 350, sensor=sensor, seed=10 + seed)
        res = analyse_tardieu(_slow(joint, sensor=sensor).series, [fast.series])
        assert not res.catch_detected
        assert res.r1_deg is None and res.dynamic_component_deg is None


def test_a_slow_stretch_never_reports_a_catch_even_with_a_hesitation() -> None:
    slow = _slow(sensor=SensorParams(100, 0.0))
    t, a = slow.series.t_s, slow.series.angle_deg.copy()
    # The examiner pauses for ~0.6 s half-way through the stretch, then goes on.
    mid = int(np.argmax(a > 70.0))
    hold = int(0.6 / np.median(np.diff(t)))
    a[mid : mid + hold] = a[mid]
    a[mid + hold :] = np.maximum(a[mid + hold :] - (a[mid + hold] - a[mid]), a[mid])
    hesitant = AngleSeries(t, a)
    for fast in ([slow.series], [hesitant]):
        assert not analyse_tardieu(slow.series, fast).catch_detected
    assert not analyse_tardieu(hesitant, [hesitant]).catch_detected


def test_catch_angle_falls_as_velocity_rises_with_slope() -> None:
    fast = [
        simulate_stretch(JOINT, v, sensor=SENSOR, seed=3 + i) for i, v in enumerate((160, 250, 380))
    ]
    res = analyse_tardieu(_slow().series, [f.series for f in fast])
    angles = [t["catch_angle_deg"] for t in res.trials]
    assert None not in angles and angles[0] > angles[1] > angles[2]
    assert res.catch_velocity_slope is not None
    assert res.catch_velocity_slope["n"] == 3 and res.catch_velocity_slope["deg_per_deg_s"] < -0.05
    assert res.r1_deg == pytest.approx(np.median(angles), abs=0.06)


def test_several_stretches_in_one_fast_recording_are_trials() -> None:
    fast = simulate_stretch(JOINT, 300, sensor=SENSOR, n_stretches=3, seed=4)
    res = analyse_tardieu(_slow().series, [fast.series])
    assert len(res.trials) == len(res.v_fast_deg_s) == 3
    for trial, truth in zip(res.trials, fast.stretches, strict=True):
        assert abs(trial["catch_angle_deg"] - truth.r1_deg) <= 5


def test_decreasing_convention_reports_the_recorded_angles() -> None:
    slow, fast = _slow(), simulate_stretch(JOINT, 300, sensor=SENSOR, seed=2)

    def flip(s: AngleSeries) -> AngleSeries:
        return AngleSeries(s.t_s, 180.0 - s.angle_deg)

    up = analyse_tardieu(slow.series, [fast.series])
    down = analyse_tardieu(flip(slow.series), [flip(fast.series)], increasing=False)
    assert down.catch_detected
    assert down.r1_deg == pytest.approx(180.0 - up.r1_deg, abs=1e-6)  # type: ignore[operator]
    assert down.r2_deg == pytest.approx(180.0 - up.r2_deg, abs=1e-6)
    assert down.dynamic_component_deg == pytest.approx(up.dynamic_component_deg, abs=1e-6)
    assert down.v_fast_deg_s == pytest.approx(up.v_fast_deg_s)
    # Read the wrong way round, the "end of range" is the rest position.
    wrong = analyse_tardieu(flip(slow.series), [flip(fast.series)])
    assert abs(wrong.r2_deg - down.r2_deg) > 60


def test_quality_flags_a_fast_slow_stretch_noise_and_a_slow_fast_stretch() -> None:
    clean = analyse_tardieu(_slow().series, [simulate_stretch(JOINT, 300, seed=2).series])
    assert clean.quality["score"] >= 0.9
    hurried = analyse_tardieu(_slow(v=40).series, [simulate_stretch(JOINT, 90, seed=2).series])
    codes = {i["code"] for i in hurried.quality["issues"]}
    assert {"slow_too_fast", "fast_too_slow"} <= codes and hurried.quality["score"] <= 0.4
    noisy_sensor = SensorParams(30, 2.0)
    noisy = analyse_tardieu(
        _slow(sensor=noisy_sensor).series,
        [simulate_stretch(JOINT, 300, sensor=noisy_sensor, seed=2).series],
    )
    assert {"noisy", "low_rate"} <= {i["code"] for i in noisy.quality["issues"]}


@pytest.mark.parametrize(
    ("t", "a", "phrase"),
    [
        (np.arange(10) / 50, np.zeros(10), "samples"),
        (np.arange(40) / 50, np.zeros(40), "lasts"),
        (np.r_[np.arange(60) / 50, [0.5]], np.zeros(61), "time must increase"),
        (np.arange(60) / 50, np.r_[np.zeros(59), [np.nan]], "NaN"),
        (np.arange(60) / 10, np.zeros(60), "Hz"),
        (np.r_[np.arange(60) / 50, 3 + np.arange(60) / 50], np.zeros(120), "gap"),
        (np.arange(200) / 50, np.zeros(200), "no stretch"),
    ],
)
def test_bad_input_is_reported(t: np.ndarray, a: np.ndarray, phrase: str) -> None:
    with pytest.raises(TardieuInputError, match=phrase):
        analyse_tardieu(AngleSeries.from_lists(t, a), [_slow().series])


@pytest.mark.parametrize(("rate", "cutoff"), [(30.0, 6.0), (60.0, 4.0), (200.0, 5.0)])
def test_noise_gain_of_the_filter_chain_matches_filtered_white_noise(
    rate: float, cutoff: float
) -> None:
    t = np.arange(0.0, 60.0, 1.0 / rate)
    noise = AngleSeries(t, np.random.default_rng(0).normal(0.0, 1.0, t.size))
    kin = kinematics(noise, cutoff_hz=cutoff)
    assert kin.noise_deg == pytest.approx(1.0, rel=0.1)
    inner = slice(200, -200)
    assert np.std(kin.velocity_deg_s[inner]) == pytest.approx(kin.velocity_noise_deg_s, rel=0.08)
    assert np.std(kin.accel_deg_s2[inner]) == pytest.approx(kin.accel_noise_deg_s2, rel=0.08)
    gain = noise_gains(kin.input_rate_hz, kin.rate_hz, kin.cutoff_hz)[1]
    assert kin.accel_noise_deg_s2 == pytest.approx(kin.noise_deg * gain)


def test_csv_columns_and_errors(tmp_path: Path) -> None:
    s = _slow().series
    p = tmp_path / "slow.csv"
    p.write_text(
        "frame,time,angle\n"
        + "".join(f"{i},{t},{a}\n" for i, (t, a) in enumerate(zip(s.t_s, s.angle_deg, strict=True)))
    )
    back = AngleSeries.from_csv(p)
    assert np.allclose(back.angle_deg, s.angle_deg) and np.allclose(back.t_s, s.t_s)
    bad = tmp_path / "bad.csv"
    bad.write_text("t_s,knee\n0,1\n")
    with pytest.raises(TardieuInputError, match="angle column"):
        AngleSeries.from_csv(bad)
    bad.write_text("t_s,angle_deg\n0,1\n0.1,x\n")
    with pytest.raises(TardieuInputError, match="line 3"):
        AngleSeries.from_csv(bad)
    with pytest.raises(TardieuInputError, match="cannot read"):
        AngleSeries.from_csv(tmp_path / "missing.csv")


# Accuracy on 216 simulated examinations: spastic or not x noise 0 / 0.5 / 1 deg x 30 / 60 /
# 100 Hz x V3 200 / 300 / 400 deg/s x 4 seeds. Measured (bench/results/tardieu.md has the
# full grid with 2 deg and 120 deg/s): see the bars below.
# Measured on this grid: 0.93 within 5 deg (0.97 with noise <= 0.5 deg), no false catch
# (before the noise-aware detection: 0.92 and 0.97).
WITHIN_5_ALL = 0.92
WITHIN_5_LOW_NOISE = 0.96
GRID = list(
    itertools.product((True, False), (0.0, 0.5, 1.0), (30.0, 60.0, 100.0), (200.0, 300.0, 400.0))
)


def test_accuracy_on_216_simulated_examinations() -> None:
    rows = []
    for i, (spastic, noise, rate, v) in enumerate(GRID * 4):
        case = simulate_case(
            5000 + i,
            spastic=spastic,
            fast_velocity_deg_s=v,
            sensor=SensorParams(rate, noise, 0.002 if rate <= 60 else 0.0),
        )
        res = analyse_tardieu(case.slow.series, [case.fast.series])
        err = (
            None
            if res.r1_deg is None or case.true_r1_deg is None
            else abs(res.r1_deg - case.true_r1_deg)
        )
        rows.append((case, noise, res.catch_detected, err, abs(res.r2_deg - case.true_r2_deg)))
    catch = [r for r in rows if r[0].true_catch]
    none = [r for r in rows if not r[0].true_catch and not r[0].ambiguous]
    within = np.mean([r[3] is not None and r[3] <= 5 for r in catch])
    low_noise = np.mean([r[3] is not None and r[3] <= 5 for r in catch if r[1] <= 0.5])
    false_rate = np.mean([r[2] for r in none])
    print(
        f"catch n={len(catch)} within 5: {within:.3f} (noise <= 0.5: {low_noise:.3f}); "
        f"no-catch n={len(none)} false: {false_rate:.3f}"
    )
    assert len(rows) >= 200 and len(catch) >= 80 and len(none) >= 80
    assert all(r[4] <= 3 for r in rows)  # R2 within 3 deg in every case
    assert false_rate <= 0.02
    assert within >= WITHIN_5_ALL
    assert low_noise >= WITHIN_5_LOW_NOISE


def test_noise_alone_is_not_a_catch_in_slow_noisy_fast_stretches() -> None:
    # Non-spastic joints, 2 deg of noise, V3 120 deg/s: without the noise-aware bar (noise x
    # the filter's noise gain) noise decelerations pass as catches in about half of these.
    found = []
    for i in range(16):
        rate = (30.0, 200.0)[i % 2]
        case = simulate_case(
            9000 + i,
            spastic=False,
            fast_velocity_deg_s=120.0,
            sensor=SensorParams(rate, 2.0, 0.002 if rate <= 60 else 0.0),
        )
        found.append(analyse_tardieu(case.slow.series, [case.fast.series]).catch_detected)
    assert sum(found) <= 1


# 3-trial examinations (the in-app flow): the same joint, 3 fast trials at the grid's speed
# x 0.85-1.15, pooled (care.catch_pool), noise 0.5 / 1 / 2 deg, 30-200 Hz, V3 200 / 400 deg/s.
# Measured on this grid: 0.865 within 5 deg (0.937 with noise <= 1 deg), no false catch.
EXAM_WITHIN_5_LOW_NOISE = 0.92
EXAM_WITHIN_5_ALL = 0.84
EXAM_GRID = list(
    itertools.product((True, False), (0.5, 1.0, 2.0), (30.0, 60.0, 100.0, 200.0), (200.0, 400.0))
)


def test_pooled_accuracy_on_200_simulated_3_trial_examinations() -> None:
    rows = []
    for i, (spastic, noise, rate, v) in enumerate((EXAM_GRID * 5)[:200]):
        exam = simulate_examination(
            7000 + i,
            spastic=spastic,
            fast_velocity_deg_s=v,
            sensor=SensorParams(rate, noise, 0.002 if rate <= 60 else 0.0),
        )
        res = analyse_tardieu(exam.slow.series, [f.series for f in exam.fast])
        assert res.pooled is not None and len(res.trials) == 3
        err = (
            None
            if res.r1_deg is None or exam.true_r1_deg is None
            else abs(res.r1_deg - exam.true_r1_deg)
        )
        rows.append((exam, noise, res.catch_detected, err, abs(res.r2_deg - exam.true_r2_deg)))
    catch = [r for r in rows if r[0].true_catch]
    none = [r for r in rows if r[0].no_reflex]
    within = np.mean([r[3] is not None and r[3] <= 5 for r in catch])
    low_noise = np.mean([r[3] is not None and r[3] <= 5 for r in catch if r[1] <= 1.0])
    false_rate = np.mean([r[2] for r in none])
    print(
        f"catch n={len(catch)} within 5: {within:.3f} (noise <= 1: {low_noise:.3f}); "
        f"no-catch n={len(none)} false: {false_rate:.3f}"
    )
    assert len(rows) >= 200 and len(catch) >= 80 and len(none) >= 80
    assert all(r[4] <= 3 for r in rows)
    assert false_rate <= 0.02
    assert within >= EXAM_WITHIN_5_ALL
    assert low_noise >= EXAM_WITHIN_5_LOW_NOISE


def test_a_weak_catch_repeated_in_3_trials_is_found_though_no_single_trial_shows_it() -> None:
    exam = simulate_examination(
        281, spastic=True, fast_velocity_deg_s=200.0, sensor=SensorParams(100, 0.5)
    )
    assert exam.true_catch and exam.true_r1_deg is not None
    for f in exam.fast:
        assert not analyse_tardieu(exam.slow.series, [f.series]).catch_detected
    res = analyse_tardieu(exam.slow.series, [f.series for f in exam.fast])
    assert res.catch_detected and abs(res.r1_deg - exam.true_r1_deg) <= 5  # type: ignore[operator]
    assert res.pooled is not None and res.pooled["n_trials_with_catch"] >= 2
    assert res.to_json()["pooled"]["rule"].startswith("candidates agreeing")


# 3-trial examinations at 1-2 deg of noise (seeds 9000-9399 searched) where the catch is
# found within 5 deg only thanks to weak peaks confirmed by the matched-filter test
# (care.catch_glrt); none was lost by it.
GLRT_FOUND = [
    (9073, 60.0, 200.0),
    (9191, 30.0, 400.0),
    (9239, 30.0, 400.0),
    (9375, 30.0, 300.0),
    (9399, 30.0, 300.0),
]


@pytest.mark.parametrize(("seed", "rate", "v"), GLRT_FOUND)
def test_noisy_catches_confirmed_by_the_matched_filter_are_found(
    seed: int, rate: float, v: float
) -> None:
    exam = simulate_examination(
        seed, spastic=True, fast_velocity_deg_s=v, sensor=SensorParams(rate, 2.0, 0.002)
    )
    assert exam.true_catch and exam.true_r1_deg is not None
    res = analyse_tardieu(exam.slow.series, [f.series for f in exam.fast])
    assert res.catch_detected and abs(res.r1_deg - exam.true_r1_deg) <= 5  # type: ignore[operator]


def test_noise_alone_is_not_confirmed_as_a_catch_in_noisy_3_trial_examinations() -> None:
    """24 non-spastic examinations with 2 deg of noise (30-200 Hz, 120-400 deg/s): no catch,
    though weak peaks are checked by the matched filter."""
    grid = list(itertools.product((30.0, 60.0, 100.0, 200.0), (120.0, 200.0, 300.0, 400.0)))
    for i, (rate, v) in enumerate((grid * 2)[:24]):
        exam = simulate_examination(
            9500 + i,
            spastic=False,
            fast_velocity_deg_s=v,
            sensor=SensorParams(rate, 2.0, 0.002 if rate <= 60 else 0.0),
        )
        assert not analyse_tardieu(exam.slow.series, [f.series for f in exam.fast]).catch_detected


def _trial(v: float, *cands: tuple[float, float, float], catch: float | None = None) -> FastTrial:
    return FastTrial(v, 120.0, catch, None, None, "", 100, tuple(cands))


def test_pooling_needs_weak_candidates_to_agree_in_angle() -> None:
    weak = 0.9  # below the single-trial bar (1), above the candidate bar
    agree = [_trial(300, (80, weak, 1.2)), _trial(260, (84, weak, 1.2)), _trial(330, (40, weak, 2))]
    pooled = pool_catches(agree)
    assert pooled.r1_deg == pytest.approx(82.0) and pooled.trials == (0, 1)
    # The same weak candidates scattered in angle: no catch.
    scattered = [_trial(300, (80, weak, 1.2)), _trial(300, (60, weak, 1.2)), _trial(300)]
    assert pool_catches(scattered).r1_deg is None
    # A faster trial catches earlier (by up to 0.35 deg per deg/s), never much later.
    assert pool_catches([_trial(200, (90, weak, 1.2)), _trial(300, (65, weak, 1.2))]).r1_deg
    assert pool_catches([_trial(300, (90, weak, 1.2)), _trial(200, (65, weak, 1.2))]).r1_deg is None
    # One trial's catch at the single-trial bar does not count alone; 3x the bar does.
    assert pool_catches([_trial(300, (80, 1.5, 1.5), catch=80), _trial(300)]).r1_deg is None
    assert pool_catches([_trial(300, (80, 3.5, 1.5), catch=80), _trial(300)]).r1_deg == 80
    # Below the candidate bar nothing is pooled, even when the angles agree.
    low = [_trial(300, (80, 0.5, 1.2)), _trial(300, (81, 0.5, 1.2)), _trial(300, (80, 0.5, 1))]
    assert pool_catches(low).r1_deg is None
