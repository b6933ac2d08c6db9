"""What ``rep_metrics`` reports for one repetition: range of motion from the rep's start,
speeds in the signal's unit per second, timings from the rep's start, JSON rounding."""

from __future__ import annotations

import math

import numpy as np
import pytest

from openrehab.motion.metrics import RepMetrics, ldlj, ldlj_a, rep_metrics

FS = 100.0


def _approach_then_rep() -> tuple[np.ndarray, np.ndarray]:
    """3 s of an elbow angle: an approach from 0 to 30 deg in the first second (before the
    rep), then the rep from 1 s to 3 s, 30 -> 70 -> 30 deg (30 + 20 (1 - cos pi (t - 1))),
    fastest (20 pi = 62.8 deg/s) at 1.5 s; 110 deg travelled in all."""
    t = np.arange(0.0, 3.0 + 1e-9, 1 / FS)
    x = np.where(t < 1.0, 30.0 * t, 30.0 + 20.0 * (1 - np.cos(np.pi * (t - 1.0))))
    return t, x


def test_rom_and_time_to_peak_are_measured_from_the_rep_start() -> None:
    """The range of motion is the largest excursion from the position at the rep's start
    (40 deg here, not the 70 deg from the first sample of the window), and the time to peak
    velocity counts from the rep's start (0.5 s, not from the window's first sample)."""
    t, x = _approach_then_rep()
    m = rep_metrics(t, x, FS, unit="deg", start_s=1.0, end_s=3.0, peak_s=2.0)
    assert m.rom == pytest.approx(40.0, abs=0.01)
    assert m.peak_velocity == pytest.approx(20 * np.pi, rel=1e-3)
    assert m.time_to_peak_velocity_s == pytest.approx(0.5, abs=1 / FS)
    assert m.duration_s == pytest.approx(2.0)
    assert (m.start_s, m.end_s, m.peak_s, m.rom_unit) == (1.0, 3.0, 2.0, "deg")


def test_mean_velocity_is_the_path_travelled_over_the_time() -> None:
    """The mean velocity is the mean of the speed over the samples: the path travelled
    (110 deg) over the time it took (3 s), in deg/s."""
    t, x = _approach_then_rep()
    m = rep_metrics(t, x, FS, unit="deg", start_s=1.0, end_s=3.0, peak_s=2.0)
    assert m.mean_velocity == pytest.approx(110.0 / 3.0, rel=0.01)


def test_reps_of_one_or_two_samples_still_have_speeds() -> None:
    """A rep cut to one sample has no movement (speed 0, range 0); one of two samples moves
    at the speed of its single step (10 deg in 0.5 s: 20 deg/s)."""
    one = rep_metrics(
        np.array([4.0]), np.array([10.0]), FS, unit="deg", start_s=4.0, end_s=4.0, peak_s=4.0
    )
    assert (one.rom, one.peak_velocity, one.mean_velocity) == (0.0, 0.0, 0.0)
    two = rep_metrics(
        np.array([4.0, 4.5]),
        np.array([0.0, 10.0]),
        FS,
        unit="deg",
        start_s=4.0,
        end_s=4.5,
        peak_s=4.5,
    )
    assert two.rom == 10.0
    assert two.peak_velocity == pytest.approx(20.0)
    assert two.mean_velocity == pytest.approx(20.0)


def test_a_rep_without_speed_samples_has_no_speeds() -> None:
    """A given speed profile with no samples in the rep (e.g. a gyroscope that dropped out)
    gives NaN speeds and timings (null in JSON), not zeros that would read as "no movement"."""
    t = np.arange(0.0, 1.0, 1 / FS)
    m = rep_metrics(
        t, 20.0 * t, FS, unit="deg", start_s=0.0, end_s=1.0, peak_s=1.0, speed=np.array([])
    )
    for name in ("peak_velocity", "mean_velocity", "time_to_peak_velocity_s"):
        assert math.isnan(getattr(m, name)), name
        assert m.to_dict()[name] is None
    assert m.rom == pytest.approx(20.0 * t[-1])


@pytest.mark.parametrize("dtype", [np.uint8, np.int16])
def test_integer_samples_give_the_metrics_of_their_values(dtype: type) -> None:
    """Quantised samples (8-bit unsigned, 16-bit integers) are numbers: the metrics equal
    those of the same values as floats. Differences of unsigned samples must not wrap around
    (200 - 201 is -1, not 255)."""
    speed = np.array([0, 40, 100, 90, 120, 30, 0])
    assert ldlj(speed.astype(dtype), 30.0) == pytest.approx(ldlj(speed.astype(float), 30.0))
    accel = np.array([[0, 5, 9], [3, 1, 2], [9, 0, 4], [2, 8, 1], [0, 0, 7]])
    assert ldlj_a(accel.astype(dtype), 30.0) == pytest.approx(ldlj_a(accel.astype(float), 30.0))
    t = np.array([0.0, 0.1, 0.2, 0.3])
    x = np.array([90, 60, 45, 40])  # a short stretch back: 300 deg/s at first
    as_int, as_float = (
        rep_metrics(
            t,
            x.astype(kind),
            30.0,
            unit="deg",
            start_s=0.0,
            end_s=0.3,
            peak_s=0.3,
            max_velocity=15.0,
        )
        for kind in (dtype, float)
    )
    assert as_int.stretch_velocity == pytest.approx(300.0)
    assert as_int.to_dict() == as_float.to_dict()


def test_json_values_are_rounded_to_4_decimals() -> None:
    """``to_dict`` rounds every float to 4 decimals by default (``digits`` otherwise) and
    turns NaN into null; integers, strings and booleans pass unchanged."""
    m = RepMetrics(
        start_s=1.23456789,
        end_s=2.0,
        peak_s=1.5,
        rom=45.678951,
        rom_unit="deg",
        duration_s=0.76543211,
        peak_velocity=math.nan,
        mean_velocity=10.0,
        time_to_peak_velocity_s=0.1,
        velocity_peaks=2,
        sparc=-1.41403,
        ldlj=-5.81636,
        ldlj_kind="velocity",
        too_fast=True,
    )
    d = m.to_dict()
    assert (d["start_s"], d["rom"], d["duration_s"], d["sparc"]) == (1.2346, 45.679, 0.7654, -1.414)
    assert d["peak_velocity"] is None and d["confidence"] is None
    assert (d["velocity_peaks"], d["rom_unit"], d["too_fast"]) == (2, "deg", True)
    assert m.to_dict(digits=2)["start_s"] == 1.23


def test_ldlj_a_of_a_rep_ignores_gravity() -> None:
    """With an accelerometer the rep's smoothness is LDLJ-A (``ldlj_kind`` "accel") of the
    acceleration with its mean over the rep removed: gravity, in whatever direction the
    sensor holds it, does not change it. Without one it is LDLJ of the speed ("velocity")."""
    t = np.arange(0.0, 2.0, 1 / FS)
    move = np.column_stack([np.cos(3 * t), np.sin(3 * t), 0.5 * np.sin(5 * t)])
    expected = ldlj_a(move - move.mean(axis=0), FS)
    x = 20.0 * (1 - np.cos(np.pi * t))
    for gravity in ((0.0, 0.0, 0.0), (0.0, 0.0, 9.81), (3.0, -6.0, 7.0)):
        m = rep_metrics(
            t, x, FS, unit="deg", start_s=0.0, end_s=2.0, peak_s=1.0, accel=move + gravity
        )
        assert (m.ldlj, m.ldlj_kind) == (pytest.approx(expected, abs=1e-9), "accel")
    plain = rep_metrics(t, x, FS, unit="deg", start_s=0.0, end_s=2.0, peak_s=1.0)
    assert plain.ldlj_kind == "velocity"
    assert plain.ldlj == pytest.approx(ldlj(np.abs(np.gradient(x, t)), FS))


def test_a_stretch_exactly_at_the_limit_is_not_too_fast() -> None:
    """``too_fast`` means faster than the limit: a stretch whose sustained speed equals the
    limit is within it, one at the limit minus the smallest step is over it."""
    t = np.arange(0.0, 4.0, 1 / FS)
    x = 12.0 * t + np.sin(2 * t)

    def at(limit: float) -> RepMetrics:
        return rep_metrics(
            t, x, FS, unit="deg", start_s=0.0, end_s=4.0, peak_s=4.0, max_velocity=limit
        )

    speed = at(15.0).stretch_velocity
    assert not at(speed).too_fast
    assert at(math.nextafter(speed, 0.0)).too_fast
    assert at(math.nextafter(speed, 0.0)).stretch_velocity == speed
