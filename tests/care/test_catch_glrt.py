"""The matched-filter (GLRT) test for a catch-shaped velocity dip on raw angle samples
(care.catch_glrt), on synthetic pushes with white noise (fixed seeds)."""

from __future__ import annotations

import numpy as np

from openrehab.care.catch_glrt import DIP_DEPTH_FRACTION, DIP_Z, best_dip, catch_template

RATE_HZ = 60.0
V_DEG_S = 300.0


def _push(dip_deg_s: float, noise_deg: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A 300 deg/s push sampled at 60 Hz, slowing down a little (a smooth trend), with a
    Hann velocity dip of ``dip_deg_s`` lasting 0.14 s from t = 0.5 s, plus white noise."""
    t = np.arange(0.0, 1.0, 1.0 / RATE_HZ)
    angle = V_DEG_S * t - 40.0 * t**2 - dip_deg_s * catch_template(t - 0.5, 0.14)
    return t, angle + np.random.default_rng(seed).normal(0.0, noise_deg, t.size)


def test_the_template_is_the_integral_of_a_hann_dip() -> None:
    u = np.linspace(-0.1, 0.3, 401)
    lost = catch_template(u, 0.14)
    dip = np.gradient(lost, u)
    assert lost[0] == 0.0 and abs(lost[-1] - 0.07) < 1e-12
    assert abs(dip.max() - 1.0) < 1e-3 and abs(u[int(np.argmax(dip))] - 0.07) < 2e-3


def test_a_noisy_catch_dip_is_found_where_it_is_with_about_the_angle_it_loses() -> None:
    """A 150 deg/s dip over 0.14 s (10.5 deg lost) in 2 deg of noise at 60 Hz: found, its
    middle within 40 ms, the angle lost (depth x duration / 2) within a factor ~1.6 (depth
    and duration trade off under noise: a longer, shallower dip often fits as well)."""
    for seed in range(10):
        t, angle = _push(150.0, 2.0, seed)
        dip = best_dip(t, angle, 2.0, (0.35, 0.65), 1.0)
        assert dip is not None and dip.z >= DIP_Z
        assert abs(dip.onset_s + dip.duration_s / 2 - 0.57) <= 0.04
        assert 7.0 <= dip.depth_deg_s * dip.duration_s / 2 <= 17.0


def test_a_smooth_noisy_push_shows_no_deep_dip() -> None:
    """Noise alone may reach the z bar somewhere in a scan, rarely with a dip as deep as a
    catch's (the depth bar: DIP_DEPTH_FRACTION of the peak velocity)."""
    passed = 0
    for seed in range(40):
        t, angle = _push(0.0, 2.0, seed)
        dip = best_dip(t, angle, 2.0, (0.35, 0.65), 1.0)
        assert dip is not None
        passed += dip.z >= DIP_Z and dip.depth_deg_s >= DIP_DEPTH_FRACTION * V_DEG_S
    assert passed <= 2
