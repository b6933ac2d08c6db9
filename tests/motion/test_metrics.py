"""Smoothness metrics against the reference SPARC/LDLJ oracles (Balasubramanian 2015)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import find_peaks

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


def _sparc_reference(
    v: np.ndarray, fs: float, padlevel: int = 4, fc: float = 10.0, amp_th: float = 0.05
) -> float:
    """SPARC as published (Balasubramanian et al. 2015, JNER 12:112, and its reference
    code), straight from the definition: the magnitude spectrum of the zero-padded profile
    (FFT length ``2 ** (ceil(log2 n) + padlevel)``) normalised by its maximum, kept up to
    the cut-off ``fc``, then from the first to the last frequency at or above ``amp_th``;
    minus the arc length of that curve with the frequency axis normalised to [0, 1]."""
    nfft = int(2 ** (np.ceil(np.log2(v.size)) + padlevel))
    f = np.arange(0, fs, fs / nfft)
    mag = np.abs(np.fft.fft(v, nfft))
    mag = mag / mag.max()
    f, mag = f[f <= fc], mag[f <= fc]
    above = np.flatnonzero(mag >= amp_th)
    f, mag = f[above[0] : above[-1] + 1], mag[above[0] : above[-1] + 1]
    df = np.diff(f) / (f[-1] - f[0])
    return float(-np.sum(np.sqrt(df**2 + np.diff(mag) ** 2)))


def _bell_with_oscillation(
    freq_hz: float, spectral_peak: float, fs: float = 100.0, dur_s: float = 3.0
) -> tuple[np.ndarray, np.ndarray]:
    """A smooth speed bell (Gaussian, 0.4 s: its normalised spectrum is under 0.05 above
    about 2 Hz) and the same bell plus an oscillation at ``freq_hz`` (a Gaussian burst of
    0.8 s) whose spectral peak is ``spectral_peak`` x the bell's (normalised spectrum)."""
    t = np.arange(0, dur_s, 1 / fs)
    bell = np.exp(-(((t - dur_s / 2) / 0.4) ** 2))
    osc = np.sin(2 * np.pi * freq_hz * t) * np.exp(-(((t - dur_s / 2) / 0.8) ** 2))
    nfft = 2 ** (int(np.ceil(np.log2(t.size))) + 4)
    scale = spectral_peak * abs(np.fft.rfft(bell, nfft)[0]) / np.abs(np.fft.rfft(osc, nfft)).max()
    return bell, bell + scale * osc


@pytest.mark.parametrize(
    ("freq_hz", "counted"),
    [(f, True) for f in (3.0, 5.0, 8.0, 9.5)] + [(f, False) for f in (10.5, 12.0, 15.0, 19.0)],
)
def test_sparc_cut_off_is_10_hz(freq_hz: float, counted: bool) -> None:
    """SPARC (Balasubramanian 2012/2015) reads the spectrum up to fc = 10 Hz: human
    movement lies below it, above it is tremor, sensor noise and landmark jitter, which
    must not make a rep score less smooth. An oscillation at 20 % of the bell's spectral
    peak below 10 Hz lowers SPARC; the same one just above 10 Hz (up to 20 Hz) leaves it
    that of the bell alone."""
    bell, v = _bell_with_oscillation(freq_hz, 0.2)
    smooth = sparc(bell, 100.0)
    if counted:
        assert sparc(v, 100.0) < smooth - 0.2
    else:
        assert sparc(v, 100.0) == pytest.approx(smooth, abs=1e-3)


@pytest.mark.parametrize("freq_hz", [3.0, 8.0])
def test_sparc_amplitude_threshold_is_5_percent(freq_hz: float) -> None:
    """Only frequencies whose normalised magnitude reaches amp_th = 0.05 extend the
    adaptive cut-off: an oscillation peaking at 4 % of the spectrum leaves SPARC that of
    the bell alone, one at 6 % lowers it."""
    bell, below = _bell_with_oscillation(freq_hz, 0.04)
    _, above = _bell_with_oscillation(freq_hz, 0.06)
    smooth = sparc(bell, 100.0)
    assert sparc(below, 100.0) == pytest.approx(smooth, abs=1e-3)
    assert sparc(above, 100.0) < smooth - 0.2


@settings(max_examples=40, deadline=None)
@given(
    fs=st.sampled_from([50.0, 100.0, 200.0]),
    dur_s=st.floats(min_value=0.4, max_value=3.0),
    freq_hz=st.floats(min_value=1.0, max_value=24.0),
    spectral_peak=st.floats(min_value=0.0, max_value=0.5),
    padlevel=st.integers(min_value=0, max_value=5),
    fc=st.sampled_from([5.0, 10.0, 20.0, 30.0]),
    amp_th=st.sampled_from([0.02, 0.05, 0.1]),
)
def test_sparc_matches_the_published_definition(
    fs: float,
    dur_s: float,
    freq_hz: float,
    spectral_peak: float,
    padlevel: int,
    fc: float,
    amp_th: float,
) -> None:
    """The fast implementation (one-sided spectrum, cut at fc) equals the published
    definition: with its defaults (padlevel 4, fc 10 Hz, amp_th 0.05) and with any
    padding, cut-off (above Nyquist too) and threshold."""
    _, v = _bell_with_oscillation(freq_hz, spectral_peak, fs, dur_s)
    assert sparc(v, fs) == pytest.approx(_sparc_reference(v, fs), rel=1e-9)
    assert sparc(v, fs, padlevel=padlevel, fc=fc, amp_th=amp_th) == pytest.approx(
        _sparc_reference(v, fs, padlevel, fc, amp_th), rel=1e-9
    )


@pytest.mark.parametrize("speed", [[0.0, 1.0, 0.0], [2.0, 5.0, 1.0], [1.0, 2.0, 3.0, 0.5]])
def test_sparc_is_defined_from_three_samples(speed: list[float]) -> None:
    """SPARC needs 3 samples (fewer, or a profile at rest, is NaN); from 3 on it is the
    published definition."""
    v = np.array(speed)
    assert sparc(v, 30.0) == pytest.approx(_sparc_reference(v, 30.0), rel=1e-9)
    assert np.isnan(sparc(v[:2], 30.0))


@pytest.mark.parametrize("fs", [50.0, 100.0])
def test_sparc_of_a_signed_velocity_matches_the_definition(fs: float) -> None:
    """SPARC of a signed profile (a velocity out and back, mean near 0) normalises by the
    spectrum's maximum wherever it lies, as published, not by its 0 Hz bin (which is the
    maximum only for a non-negative speed)."""
    t = np.arange(0, 2.0, 1 / fs)
    v = np.sin(2 * np.pi * t / 2.0) * np.exp(-(((t - 1.0) / 0.6) ** 2))
    assert sparc(v, fs) == pytest.approx(_sparc_reference(v, fs), rel=1e-9)


def _tone(freq_hz: float, rel_magnitude: float) -> np.ndarray:
    """One second at 64 Hz (64 samples: no zero padding at padlevel 0, 1 Hz bins): a
    constant speed plus a tone at ``freq_hz`` whose normalised spectral magnitude is
    ``rel_magnitude``; every other bin is 0."""
    k = np.arange(64)
    return 1.0 + 2 * rel_magnitude * np.cos(2 * np.pi * freq_hz * k / 64)


def test_sparc_arc_includes_the_cut_off_frequency() -> None:
    """The spectrum is read up to and including fc (10 Hz): a tone exactly at 10 Hz makes the
    arc (SPARC < 0, the published value), one at 11 Hz is ignored, and a spectrum with a
    single frequency left (a constant speed) has an arc of length 0: SPARC 0."""
    at_fc = _tone(10.0, 0.2)
    assert sparc(at_fc, 64.0, padlevel=0) == pytest.approx(
        _sparc_reference(at_fc, 64.0, padlevel=0), rel=1e-9
    )
    assert sparc(at_fc, 64.0, padlevel=0) < -1.0
    assert sparc(_tone(11.0, 0.2), 64.0, padlevel=0) == 0.0
    assert sparc(np.ones(64), 64.0, padlevel=0) == 0.0


def test_sparc_arc_includes_magnitudes_at_the_threshold() -> None:
    """A frequency whose normalised magnitude equals amp_th exactly extends the arc; just
    above the threshold it does not (and the arc is a single point: SPARC 0)."""
    v = _tone(4.0, 0.05)
    spec = np.abs(np.fft.rfft(v, 64))
    at = float(spec[4] / spec[0])  # 0.05 up to rounding, as sparc computes it
    assert sparc(v, 64.0, padlevel=0, amp_th=at) == pytest.approx(
        _sparc_reference(v, 64.0, padlevel=0, amp_th=at), rel=1e-9
    )
    assert sparc(v, 64.0, padlevel=0, amp_th=at) < -1.0
    assert sparc(v, 64.0, padlevel=0, amp_th=math.nextafter(at, 1.0)) == 0.0


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


# LDLJ = -ln(T^3 / v_peak^2 * integral(jerk^2 dt)) (Hogan & Sternad 2009) and LDLJ-A =
# -ln(T / a_peak^2 * integral(|da/dt|^2 dt)) (Melendez-Calderon 2021), against closed forms.
# Sampled at 50-200 Hz the integrals differ from the closed forms by about 2/n in the log.


@pytest.mark.parametrize("fs", [50.0, 100.0, 200.0])
def test_ldlj_of_a_minimum_jerk_movement_is_its_closed_form(fs: float) -> None:
    """A minimum-jerk movement's speed A/T (30 tau^2 - 60 tau^3 + 30 tau^4) has jerk
    A/T^3 (60 - 360 tau + 360 tau^2), so integral(jerk^2) = 720 A^2/T^5, v_peak = 1.875 A/T
    and LDLJ = -ln(720 / 1.875^2) = -ln(204.8), at any sample rate."""
    assert ldlj(minimum_jerk_speed(1.0, fs), fs) == pytest.approx(-np.log(204.8), abs=0.05)


@pytest.mark.parametrize("fs", [50.0, 100.0])
@pytest.mark.parametrize("jerk", [0.1, 2.0, 20.0])
def test_ldlj_of_a_constant_jerk_speed_is_its_closed_form(jerk: float, fs: float) -> None:
    """A speed 1 + c t^2 / 2 over T = 2 s has constant jerk c: LDLJ = -ln(T^4 c^2 / v_peak^2),
    positive when that is under 1 (a nearly constant speed is smoother than any reach)."""
    t = np.arange(0, 2.0 + 1e-9, 1 / fs)
    vpeak = 1 + jerk * 2.0**2 / 2
    expected = -np.log(2.0**4 * jerk**2 / vpeak**2)
    assert ldlj(1 + jerk * t**2 / 2, fs) == pytest.approx(expected, abs=0.05)


def test_ldlj_needs_three_samples_and_some_jerk() -> None:
    """Jerk is the second difference of the speed: 3 samples give one (0, 1, 0 at any rate:
    T = 3/fs, jerk -2 fs^2, LDLJ = -ln(27 * 4)), fewer give NaN; a constant or linearly
    rising speed has no jerk, so its dimensionless jerk is 0 and its log undefined (NaN)."""
    assert ldlj(np.array([0.0, 1.0, 0.0]), 30.0) == pytest.approx(-np.log(108.0))
    assert np.isnan(ldlj(np.array([0.0, 1.0]), 30.0))
    assert np.isnan(ldlj(np.full(20, 3.0), 30.0))
    assert np.isnan(ldlj(np.arange(1.0, 21.0), 30.0))


@pytest.mark.parametrize("fs", [50.0, 100.0, 200.0])
@pytest.mark.parametrize(("omega", "dur_s"), [(0.25, 2.0), (3.0, 2.0), (2 * np.pi, 1.5)])
def test_ldlj_a_of_a_circular_acceleration_is_its_closed_form(
    omega: float, dur_s: float, fs: float
) -> None:
    """An acceleration of constant size turning at omega rad/s, (cos wt, sin wt, 0), has
    |da/dt| = omega |a|: LDLJ-A = -ln(omega^2 T^2), positive when omega T < 1."""
    t = np.arange(0, dur_s, 1 / fs)
    a = np.column_stack([np.cos(omega * t), np.sin(omega * t), np.zeros(t.size)])
    assert ldlj_a(a, fs) == pytest.approx(-np.log((omega * dur_s) ** 2), abs=0.05)


@pytest.mark.parametrize("fs", [50.0, 100.0])
def test_ldlj_a_of_one_axis_is_its_closed_form(fs: float) -> None:
    """A one-axis acceleration (shape (n,)) A sin(2 pi f t) over whole periods:
    integral(|da/dt|^2) = (2 pi f A)^2 T / 2, so LDLJ-A = -ln(2 pi^2 f^2 T^2)."""
    t = np.arange(0, 2.0, 1 / fs)
    expected = -np.log(2 * np.pi**2 * 1.0**2 * 2.0**2)
    assert ldlj_a(3.0 * np.sin(2 * np.pi * t), fs) == pytest.approx(expected, abs=0.05)


def test_ldlj_a_needs_three_samples_and_some_jerk() -> None:
    """3 samples are enough (0, 1, 0: T = 3/fs, integral(|da/dt|^2) = 2 fs, LDLJ-A = -ln 6),
    fewer give NaN; a constant acceleration has no jerk: NaN."""
    assert ldlj_a(np.array([0.0, 1.0, 0.0]), 30.0) == pytest.approx(-np.log(6.0))
    assert np.isnan(ldlj_a(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), 30.0))
    assert np.isnan(ldlj_a(np.tile([0.5, -1.0, 2.0], (20, 1)), 30.0))


@pytest.mark.parametrize(("dur_s", "fs", "amplitude"), [(1.0, 100.0, 1.0), (2.5, 30.0, 40.0)])
def test_minimum_jerk_speed_covers_the_amplitude_in_the_duration(
    dur_s: float, fs: float, amplitude: float
) -> None:
    """The minimum-jerk speed profile (Flash & Hogan 1985) samples [0, T] at fs, both ends
    included; it travels the amplitude (1 by default) and peaks at 1.875 A/T mid-way."""
    v = minimum_jerk_speed(dur_s, fs, amplitude)
    assert v.size == round(dur_s * fs) + 1
    assert np.trapezoid(v, dx=1 / fs) == pytest.approx(amplitude, rel=1e-3)
    assert v.max() == pytest.approx(1.875 * amplitude / dur_s, rel=1e-3)
    if amplitude == 1.0:
        assert np.array_equal(minimum_jerk_speed(dur_s, fs), v)


def test_minimum_jerk_speed_has_at_least_its_two_ends() -> None:
    """A duration of one sample period or less still gives the two ends (both at rest)."""
    assert np.array_equal(minimum_jerk_speed(0.01, 100.0), [0.0, 0.0])
    assert np.array_equal(minimum_jerk_speed(0.001, 100.0), [0.0, 0.0])


def _topographic_peak_count(v: np.ndarray, rel_height: float, rel_prominence: float) -> int:
    """Sub-movements as topographic peaks (scipy.signal.find_peaks): local maxima (a flat top
    once) of the profile padded with a zero at each end, at least rel_height x the maximum
    high and rel_prominence x the maximum prominent."""
    if v.size == 0 or not v.max() > 0:
        return 0
    padded = np.concatenate(([0.0], v, [0.0]))
    peaks, _ = find_peaks(padded, height=rel_height * v.max(), prominence=rel_prominence * v.max())
    return int(peaks.size)


@settings(max_examples=100, deadline=None)
@given(
    v=st.lists(st.sampled_from([0.0, 1.0, 5.0, 9.0, 10.0, 30.0, 60.0, 95.0, 100.0]), max_size=14)
    | st.lists(st.floats(min_value=0.0, max_value=100.0), max_size=40),
    thresholds=st.sampled_from([(0.1, 0.05), (0.3, 0.2), (0.05, 0.01)]),
)
def test_velocity_peaks_are_the_topographic_peaks(
    v: list[float], thresholds: tuple[float, float]
) -> None:
    """The number of sub-movements is the number of topographic peaks of the speed (edges
    at zero, plateaus once) of at least 10 % of the peak speed and 5 % of it prominent, or
    the thresholds given; short and all-zero profiles included."""
    speed = np.array(v, dtype=float)
    assert count_velocity_peaks(speed, *thresholds) == _topographic_peak_count(speed, *thresholds)
    if thresholds == (0.1, 0.05):
        assert count_velocity_peaks(speed) == _topographic_peak_count(speed, *thresholds)


@pytest.mark.parametrize(
    ("speed", "peaks"),
    [
        ([0, 50, 100, 50, 0, 5, 10, 5, 0], 2),  # a second movement at 10 % of the peak
        ([0, 50, 100, 50, 0, 5, 9.99, 5, 0], 1),  # just under 10 %
        ([0, 100, 75, 80, 0], 2),  # the lower peak 5 % of the peak above the dip
        ([0, 80, 75.01, 100, 0], 1),  # just under 5 %
        ([0, 100, 75, 80, 75, 90, 0], 3),  # three peaks, each 5 % above its dips
        ([0, 100, 75, 80, 75.01, 90, 0], 2),  # the middle one just under 5 %
        ([0, 100, 100, 100, 0], 1),  # a plateau is one peak
        ([0, 100, 99, 100, 0], 2),  # two equal peaks are both prominent
        ([100, 60, 20, 0], 1),  # a rep cut by its window while fast
        ([0, 20, 100], 1),
        ([100, 0, 100], 2),  # three samples: two edge peaks
        ([0, 100, 0], 1),
        ([7.0], 1),
        ([0.0, 3.0], 1),
        ([0.0, 0.0], 0),
        ([], 0),
    ],
)
def test_velocity_peak_thresholds_at_their_boundaries(speed: list[float], peaks: int) -> None:
    """A sub-movement counts from exactly 10 % of the peak speed, and when it stands at
    least 5 % of the peak speed above the dip separating it from a higher peak."""
    assert count_velocity_peaks(np.array(speed, dtype=float)) == peaks
