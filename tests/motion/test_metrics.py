"""Smoothness metrics against the reference SPARC/LDLJ oracles (Balasubramanian 2015)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openrehab.motion.metrics import (
    count_velocity_peaks,
    ldlj,
    ldlj_a,
    minimum_jerk_speed,
    rep_metrics,
    sparc,
)


def gaussian_speed() -> np.ndarray:
    t = np.arange(-1, 1, 0.01)
    return np.exp(-5 * t**2)


def test_sparc_gaussian_oracle() -> None:
    assert sparc(gaussian_speed(), 100.0) == pytest.approx(-1.41403, abs=1e-5)


def test_ldlj_gaussian_oracle() -> None:
    assert ldlj(gaussian_speed(), 100.0) == pytest.approx(-5.81636, abs=1e-5)


@pytest.mark.parametrize("fs", [50.0, 100.0, 200.0])
def test_sparc_minimum_jerk_is_rate_independent(fs: float) -> None:
    assert sparc(minimum_jerk_speed(1.0, fs), fs) == pytest.approx(-1.406, abs=2e-3)


def _two_submovements(fs: float) -> np.ndarray:
    t = np.arange(0, 2 + 1e-9, 1 / fs)

    def mj(t0: float) -> np.ndarray:
        tau = np.clip(t - t0, 0, 1)
        return 30 * tau**2 - 60 * tau**3 + 30 * tau**4

    return mj(0.0) + mj(1.0)


def test_two_submovements() -> None:
    v = _two_submovements(100.0)
    assert sparc(v, 100.0) == pytest.approx(-2.245, abs=5e-3)
    assert count_velocity_peaks(v) == 2
    assert count_velocity_peaks(minimum_jerk_speed(1.0, 100.0)) == 1


def test_sensor_noise_ripples_are_not_submovements() -> None:
    # A gyroscope's noise (about 1 % of the peak speed) makes many local maxima on a smooth
    # profile: still one peak, and two sub-movements stay two.
    rng = np.random.default_rng(3)
    one = minimum_jerk_speed(1.0, 100.0)
    two = _two_submovements(100.0)
    for v, n in ((one, 1), (two, 2)):
        noisy = v + rng.normal(0, 0.01 * v.max(), v.size)
        assert count_velocity_peaks(np.abs(noisy)) == n
    # a rep cut by its window while fast still has its edge peak
    assert count_velocity_peaks(one[one.size // 2 :]) == 1
    assert count_velocity_peaks(np.zeros(10)) == 0


def test_less_smooth_scores_lower() -> None:
    one = minimum_jerk_speed(1.0, 100.0)
    assert sparc(_two_submovements(100.0), 100.0) < sparc(one, 100.0)
    assert ldlj(_two_submovements(100.0), 100.0) < ldlj(one, 100.0)


def test_degenerate_profiles_are_nan() -> None:
    assert np.isnan(sparc(np.zeros(50), 100.0))
    assert np.isnan(ldlj(np.array([1.0, 2.0]), 100.0))
    assert np.isnan(ldlj_a(np.zeros((20, 3)), 100.0))


@settings(max_examples=40, deadline=None)
@given(scale=st.floats(min_value=1e-3, max_value=1e4))
def test_metrics_invariant_to_amplitude_scaling(scale: float) -> None:
    v = _two_submovements(100.0)
    assert sparc(scale * v, 100.0) == pytest.approx(sparc(v, 100.0), rel=1e-9)
    assert ldlj(scale * v, 100.0) == pytest.approx(ldlj(v, 100.0), rel=1e-9)
    a = np.column_stack([np.sin(np.linspace(0, 6, 200)), np.cos(np.linspace(0, 3, 200))])
    assert ldlj_a(scale * a, 100.0) == pytest.approx(ldlj_a(a, 100.0), rel=1e-9)
    t = np.arange(0, 2, 0.01)
    x = 50 * (1 - np.cos(np.pi * t))
    m1 = rep_metrics(t, x, 100.0, unit="deg", start_s=0, end_s=2, peak_s=1)
    m2 = rep_metrics(t, scale * x, 100.0, unit="deg", start_s=0, end_s=2, peak_s=1)
    assert m2.sparc == pytest.approx(m1.sparc, rel=1e-9)
    assert m2.ldlj == pytest.approx(m1.ldlj, rel=1e-9)
    assert m2.rom == pytest.approx(scale * m1.rom, rel=1e-9)
    assert m2.velocity_peaks == m1.velocity_peaks


def test_rep_metrics_rom_velocity_and_too_fast() -> None:
    t = np.arange(0, 2, 0.01)
    x = 45 * (1 - np.cos(np.pi * t))  # 0 -> 90 -> 0 deg in 2 s
    m = rep_metrics(t, x, 100.0, unit="deg", start_s=0.0, end_s=2.0, peak_s=1.0, max_velocity=100.0)
    assert m.rom == pytest.approx(90.0, abs=0.1)
    assert m.peak_velocity == pytest.approx(45 * np.pi, rel=0.01)  # 141 deg/s
    assert m.too_fast
    assert m.duration_s == pytest.approx(2.0)
    assert m.velocity_peaks == 2  # out and back
    slow = rep_metrics(
        t, x, 100.0, unit="deg", start_s=0.0, end_s=2.0, peak_s=1.0, max_velocity=200.0
    )
    assert not slow.too_fast


def test_stretch_speed_never_reads_above_the_real_speed() -> None:
    # A 14 deg stretch at a constant 12 deg/s, then a 10 s hold (review finding: the edge of
    # a Savitzky-Golay fit read 17.9 deg/s and flagged it as too fast for a 15 deg/s limit).
    from openrehab.motion.metrics import rep_metrics

    fs = 30.0
    t = np.arange(0, 11.2, 1 / fs)
    x = np.minimum(12.0 * t, 14.0)
    m = rep_metrics(t, x, fs, unit="deg", start_s=0.0, end_s=t[-1], peak_s=1.2, max_velocity=15.0)
    assert m.stretch_velocity <= 12.0 + 1e-6
    assert not m.too_fast
    fast = rep_metrics(
        t,
        np.minimum(40.0 * t, 40.0),
        fs,
        unit="deg",
        start_s=0.0,
        end_s=t[-1],
        peak_s=1.0,
        max_velocity=15.0,
    )
    # 40 deg in 1 s, averaged over the 2 s window: 20 deg/s, still above the limit.
    assert 15.0 < fast.stretch_velocity <= 40.0 + 1e-6 and fast.too_fast
