"""The sustained stretch speed (``sustained_speed``) and what ``rep_metrics`` reports per rep.

A slow stretch of a spastic muscle must stay under its velocity limit (Tardieu V1: the
stretch reflex follows the stretch velocity, Lance 1980). The speed is judged over a window
of a quarter of the rep (0.2 to 2 s, an odd number of samples, at least 5): the mean of a
given speed profile over the window, or the slope of a least-squares quadratic fitted to the
position over each centred window (Savitzky & Golay 1964). These tests compute that
definition independently (a moving mean, ``np.polyfit`` per window) and compare.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from openrehab.motion.metrics import STRETCH_WINDOW_S, rep_metrics, sustained_speed


def _window_samples(span_s: float, fs: float) -> int:
    """The window of the rule: a quarter of the rep's span (first to last sample), clipped
    to [0.2 s, STRETCH_WINDOW_S], as a number of samples rounded then made odd (a centred
    fit needs a middle sample), and never under 5 samples (a quadratic fit needs a margin)."""
    window_s = min(STRETCH_WINDOW_S, max(0.2, span_s / 4))
    samples = round(window_s * fs)
    return max(5, samples if samples % 2 else samples + 1)


def _quadratic_fit_slope(t: np.ndarray, x: np.ndarray, n: int) -> float:
    """Highest |slope| at the centre of a least-squares quadratic over each centred window."""
    h = n // 2
    best = 0.0
    for c in range(h, x.size - h):
        coef = np.polyfit(t[c - h : c + h + 1] - t[c], x[c - h : c + h + 1], 2)
        best = max(best, abs(float(coef[1])))
    return best


@pytest.mark.parametrize("fs", [10.0, 30.0, 100.0])
def test_stretch_window_is_a_quarter_of_the_rep_between_0_2_and_2_s(fs: float) -> None:
    """A single speed sample of 1 inside a rep averages to 1/k over a window of k samples:
    for every rep length (here from 2 samples to 11 s, starting at t = 100 s as in a long
    session), k is the window of the rule, and never more than the rep's samples."""
    for m in range(2, int(11 * fs)):
        t = 100.0 + np.arange(m) / fs
        speed = np.zeros(m)
        speed[m // 2] = 1.0
        expected = min(_window_samples(float(t[-1] - t[0]), fs), m)
        got = sustained_speed(t, np.zeros(m), fs, speed)
        assert round(1.0 / got) == expected, f"{m} samples at {fs} Hz"


@pytest.mark.parametrize(
    ("fs", "dur_s"), [(10.0, 0.4), (10.0, 0.6), (30.0, 3.0), (100.0, 1.0), (30.0, 12.0)]
)
def test_position_slope_is_a_centred_quadratic_fit(fs: float, dur_s: float) -> None:
    """Without a speed profile the speed is the slope of a quadratic fitted to the position
    over each window centred on a sample (a fit from half a window at the rep's edges can
    extrapolate faster than the movement ever was). A cubic position (fastest at both
    edges, where an edge fit overshoots and a cubic fit differs from a quadratic one) reads
    exactly the centred quadratic fit, also for a rep exactly one window long (10 Hz,
    0.4 s: 5 samples)."""
    t = 100.0 + np.arange(0, dur_s + 1e-9, 1 / fs)
    x = 40.0 * ((t - t.mean()) / dur_s) ** 3
    n = _window_samples(float(t[-1] - t[0]), fs)
    assert x.size >= n
    assert sustained_speed(t, x, fs, None) == pytest.approx(_quadratic_fit_slope(t, x, n), rel=1e-9)


def test_a_rep_shorter_than_the_window_reads_its_fastest_step() -> None:
    """Under one window of samples (here 2 to 4 samples, uneven timestamps) the speed is the
    fastest step |dx/dt| between consecutive samples, in the position's unit per second."""
    t = np.array([0.0, 0.1, 0.15, 0.35])
    x = np.array([0.0, 1.0, 3.0, 4.0])  # steps of 10, 40 and 5 deg/s
    assert sustained_speed(t, x, 30.0, None) == pytest.approx(40.0)
    assert sustained_speed(t[2:], x[2:], 30.0, None) == pytest.approx(5.0)
    assert sustained_speed(t[:3], x[:3], 30.0, None) == pytest.approx(40.0)


def test_no_samples_no_speed() -> None:
    """A rep with no position samples, or a single one, has no measurable speed (NaN); a
    given speed profile with no samples neither; one speed sample is that speed."""
    empty = np.array([])
    assert math.isnan(sustained_speed(empty, empty, 30.0, None))
    assert math.isnan(sustained_speed(np.array([5.0]), np.array([3.0]), 30.0, None))
    assert math.isnan(sustained_speed(empty, empty, 30.0, empty))
    assert sustained_speed(np.array([5.0]), np.array([3.0]), 30.0, np.array([7.0])) == 7.0


def test_landmark_jitter_does_not_read_as_a_fast_stretch() -> None:
    """Camera landmarks jitter by about a degree from frame to frame. Differentiated frame by
    frame that reads 20-40 deg/s, above a slow stretch's limit; the stretch velocity of a
    position signal (no speed profile given) is its fitted slope, so a 10 s stretch at
    8 deg/s with 1 deg of jitter at 30 fps reads about 8 deg/s and is not too fast for a
    15 deg/s limit."""
    fs = 30.0
    t = np.arange(0.0, 10.0, 1 / fs)
    x = 8.0 * t + np.random.default_rng(1).normal(0.0, 1.0, t.size)
    m = rep_metrics(t, x, fs, unit="deg", start_s=0.0, end_s=10.0, peak_s=10.0, max_velocity=15.0)
    assert m.stretch_velocity == pytest.approx(8.0, abs=1.0)
    assert not m.too_fast


def test_a_given_speed_profile_is_what_the_limit_is_checked_against() -> None:
    """With a speed profile (an IMU's angular speed) the limit applies to that speed, not to
    the slope of the position signal: a gyroscope reading 20 deg/s throughout is too fast for
    a 15 deg/s limit even if the position signal (e.g. a tilt that misses the rotation) moves
    at 10 deg/s; and 10 deg/s of gyroscope speed is not too fast while the position moves at
    20 deg/s."""
    fs = 50.0
    t = np.arange(0.0, 4.0, 1 / fs)
    for gyro, slope, too_fast in ((20.0, 10.0, True), (10.0, 20.0, False)):
        m = rep_metrics(
            t,
            slope * t,
            fs,
            unit="deg",
            start_s=0.0,
            end_s=4.0,
            peak_s=4.0,
            speed=np.full(t.size, gyro),
            max_velocity=15.0,
        )
        assert m.stretch_velocity == pytest.approx(gyro)
        assert m.too_fast is too_fast


def test_stretch_speed_is_measured_only_under_a_velocity_limit() -> None:
    """Without a velocity limit the stretch speed is not measured (NaN, null in JSON) and no
    rep is too fast, however fast it is."""
    t = np.arange(0.0, 1.0, 0.01)
    m = rep_metrics(t, 500.0 * t, 100.0, unit="deg", start_s=0.0, end_s=1.0, peak_s=1.0)
    assert math.isnan(m.stretch_velocity)
    assert m.to_dict()["stretch_velocity"] is None
    assert not m.too_fast
