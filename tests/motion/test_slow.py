"""Slow rehabilitation-speed sets in IMU automatic mode (tilt counter, motion/slow.py)."""

from __future__ import annotations

import pytest
from motion_synth import imu_random_gestures, imu_slow_set, imu_slow_wandering

from openrehab.motion import engine as engine_mod
from openrehab.motion.engine import MotionEngine, analyse_recording
from openrehab.motion.recordings import Recording
from openrehab.motion.slow import SlowConfig, SlowTiltCounter


def _stream(rec: Recording) -> MotionEngine:
    eng = MotionEngine(rec.channels, rec.kind, rec.sample_rate_hz)
    for t, row in zip(rec.t_s, rec.data, strict=True):
        eng.push(float(t), row)
    eng.finish()
    return eng


@pytest.mark.parametrize("gyro", [True, False])
@pytest.mark.parametrize("period", [4.0, 5.0, 6.0, 8.0, 10.0])
def test_slow_set_is_counted_exactly(period: float, gyro: bool) -> None:
    # 8 out-and-back reps of 60 deg, 5 s rest before and after: slower than the period
    # search range (<= 4.5 s), counted by the tilt counter; at 4 s the tilt counter owns
    # the set (the period-based counter alone counted a ninth rep from the ringing).
    rec = imu_slow_set(period, gyro=gyro)
    res = analyse_recording(rec)
    assert res.count == 8
    for k, rep in enumerate(res.reps):
        assert abs(rep.start_s - (5.0 + k * period)) < 0.25 * period + 0.3
        assert abs(rep.end_s - (5.0 + (k + 1) * period)) < 0.25 * period + 0.3
        assert rep.rom == pytest.approx(60.0, abs=5.0)  # degrees of tilt (orientation.py)


@pytest.mark.parametrize("period", [2.0, 3.0])
def test_faster_sets_stay_with_the_period_counter(period: float) -> None:
    assert analyse_recording(imu_slow_set(period)).count == 8


@pytest.mark.parametrize("gyro", [True, False])
def test_slow_set_streaming_equals_file_path(gyro: bool) -> None:
    rec = imu_slow_set(6.0, gyro=gyro)
    a = analyse_recording(rec)
    b = _stream(rec).result()
    assert a.count == b.count == 8
    for ra, rb in zip(a.reps, b.reps, strict=True):
        assert ra.start_s == pytest.approx(rb.start_s, abs=1e-9)
        assert ra.end_s == pytest.approx(rb.end_s, abs=1e-9)
        assert ra.peak_s == pytest.approx(rb.peak_s, abs=1e-9)


def test_slow_set_with_gap_streaming_equals_file_path() -> None:
    rec = imu_slow_set(5.0, n_reps=10)
    cut = (rec.t_s > 31.0) & (rec.t_s < 32.5)  # a 1.5 s gap restarts detection
    rec = Recording(rec.t_s[~cut], rec.data[~cut], rec.channels, rec.kind)
    a = analyse_recording(rec)
    b = _stream(rec).result()
    assert a.count == b.count >= 8
    assert [r.start_s for r in a.reps] == pytest.approx([r.start_s for r in b.reps], abs=1e-9)


def test_two_slow_reps_are_not_a_set() -> None:
    # A set needs three consistent slow reps: two stretches alone count nothing.
    assert analyse_recording(imu_slow_set(8.0, n_reps=2)).count == 0


@pytest.mark.parametrize("gyro", [True, False])
def test_still_sensor_slow_path_gives_zero(gyro: bool) -> None:
    rec = imu_slow_set(6.0, n_reps=0, rest_s=40.0, gyro=gyro)
    assert analyse_recording(rec).count == 0
    assert _stream(rec).result().count == 0


@pytest.mark.parametrize("seed", range(6))
def test_slow_random_wandering_gives_zero(seed: int) -> None:
    assert analyse_recording(imu_slow_wandering(seed=seed)).count == 0


def test_random_gestures_give_no_slow_set(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two minutes of everyday gestures (0.5-3 s, some move-and-stay): no slow set, the
    # counts are exactly those of the period-based counter alone (test_periodic.py bounds
    # them). Without the same-posture check, move-and-stay sequences made a 3-rep set.
    recs = [imu_random_gestures(seed=s, dur=120.0) for s in range(8)]
    with_slow = [analyse_recording(r).count for r in recs]
    off = SlowConfig(min_rom_deg=1e9)
    monkeypatch.setattr(engine_mod, "SlowTiltCounter", lambda fs, n: SlowTiltCounter(fs, n, off))
    assert with_slow == [analyse_recording(r).count for r in recs]
