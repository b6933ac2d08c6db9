"""Period-based IMU counting (automatic IMU mode): synthetic sets, handling, rests."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from motion_synth import SHARED_DIR, imu_random_gestures, imu_session, imu_set_session

from openrehab.motion.engine import MotionEngine, analyse_recording
from openrehab.motion.periodic import PeriodicConfig, PeriodicCounter, analyse_array, bridge_rows
from openrehab.motion.recordings import Recording, read_recording


def _stream(rec: Recording) -> tuple[list, MotionEngine]:
    eng = MotionEngine(rec.channels, rec.kind, rec.sample_rate_hz)
    events = []
    for t, row in zip(rec.t_s, rec.data, strict=True):
        events += eng.push(float(t), row)
    events += eng.finish()
    return events, eng


@pytest.mark.parametrize("gyro", [True, False])
def test_set_without_handling_is_counted_exactly(gyro: bool) -> None:
    rec, truth = imu_set_session(handling=False, gyro=gyro)
    res = analyse_recording(rec)
    assert res.count == len(truth)
    # Reps are reported with their real times (the first ones retroactively): the period
    # counter's turning points, corrected for the filters' phase delay, land at the
    # movement's onset (measured -0.24..+0.13 s: the rest between reps is 0.2 s) and at
    # its return to rest (measured -0.083..+0.029 s; uncorrected, 0.08 s later or more).
    for rep, (s, e) in zip(res.reps, truth, strict=True):
        assert -0.3 <= rep.start_s - s <= 0.2
        assert -0.12 <= rep.end_s - e <= 0.06
        assert s < rep.peak_s < e


@pytest.mark.parametrize("gyro", [True, False])
def test_handling_before_and_after_a_set(gyro: bool) -> None:
    # Picking the weight up and putting it down (rolls, jolts) are not periodic reps.
    rec, truth = imu_set_session(handling=True, gyro=gyro)
    assert abs(analyse_recording(rec).count - len(truth)) <= 1


@pytest.mark.parametrize("gyro", [True, False])
def test_tempo_change_within_a_set(gyro: bool) -> None:
    rec, truth = imu_set_session(periods=(1.2,) * 6 + (3.0,) * 5, gyro=gyro, handling=False)
    assert analyse_recording(rec).count == len(truth)


@pytest.mark.parametrize("periods", [(1.0,) * 12, (4.0,) * 6])
def test_fast_and_slow_sets(periods: tuple[float, ...]) -> None:
    rec, truth = imu_set_session(periods=periods, handling=False)
    assert abs(analyse_recording(rec).count - len(truth)) <= 1


@pytest.mark.parametrize("bump", [0.3, 0.5])
def test_secondary_bumps_inside_reps_do_not_add_reps(bump: float) -> None:
    # A hitch at the top of each rep (30-50 % of the amplitude) makes extra extrema: the
    # low-pass adapted to the period and the minimum cycle length absorb them.
    rec, truth = imu_set_session(bump=bump, handling=False, gyro=False)
    assert analyse_recording(rec).count == len(truth)


def test_still_sensor_gives_zero() -> None:
    still = imu_session(n_reps=0, rest_s=20)
    assert analyse_recording(still).count == 0
    assert analyse_recording(still, streaming=True).count == 0


def test_random_gestures_are_mostly_rejected() -> None:
    # Everyday gestures with random durations, amplitudes and pauses. Two gestures that
    # happen to look alike at a regular spacing can pass as a 2-rep run (a known limit,
    # docs/motion.md); most minutes of random gesturing give nothing.
    counts = [analyse_recording(imu_random_gestures(seed=s)).count for s in range(8)]
    assert sum(c == 0 for c in counts) >= 6
    assert max(counts) <= 3


def test_streaming_equals_file_path_with_gap() -> None:
    rec, _ = imu_set_session(periods=(2.0,) * 6 + (1.5,) * 6, handling=True, seed=3)
    cut = (rec.t_s > 17.0) & (rec.t_s < 21.0)  # a 4 s gap (> gap_bridge_s) restarts detection
    rec = Recording(rec.t_s[~cut], rec.data[~cut], rec.channels, rec.kind)
    a = analyse_recording(rec)
    events, eng = _stream(rec)
    b = eng.result()
    assert a.count == b.count > 0
    for ra, rb in zip(a.reps, b.reps, strict=True):
        assert ra.start_s == pytest.approx(rb.start_s, abs=1e-9)
        assert ra.end_s == pytest.approx(rb.end_s, abs=1e-9)
        assert ra.peak_s == pytest.approx(rb.peak_s, abs=1e-9)
    done = [e for e in events if e.kind == "rep_completed"]
    assert [e.count for e in done] == list(range(1, len(done) + 1))


def test_first_reps_retroactive_then_live_latency() -> None:
    rec, truth = imu_set_session(periods=(2.0,) * 10, handling=False)
    _events, eng = _stream(rec)
    lat = np.array(eng.latencies_s)
    assert len(lat) == len(truth)
    # The first reps wait for the set to be established (a few periods) ...
    assert lat[0] > 1.0
    # ... later ones are reported within half a period (2 s here) of their end: the
    # closing extremum is confirmed once the low-passed signal has moved away from it.
    assert np.all(lat[1:] < 1.0)


@pytest.mark.parametrize("gyro", [True, False])
def test_established_set_reps_are_reported_within_300_ms(gyro: bool) -> None:
    # Streamed sample by sample: once a set has 2 counted reps, each later rep is reported
    # early (turning point of the band-passed projection) within 0.3 s of its end, with its
    # real time, and counted once.
    rec, truth = imu_set_session(periods=(2.5,) * 10, handling=False, gyro=gyro)
    events, eng = _stream(rec)
    assert eng.result().count == len(truth)
    done = [e for e in events if e.kind == "rep_completed"]
    assert [e.count for e in done] == list(range(1, len(truth) + 1))
    lat = np.array(eng.latencies_s)
    first_live = next(i for i, t in enumerate(lat) if t < 1.5)
    assert first_live <= 3
    assert np.all(lat[first_live + 2 :] <= 0.3)
    assert np.all(lat[first_live + 2 :] > 0.0)
    # Early ends agree with the detector's (first reps) convention for the rep end.
    err = [e.rep.end_s - te for e, (_s, te) in zip(done, truth, strict=True)]  # type: ignore[union-attr]
    assert np.all(np.abs(np.array(err[first_live + 2 :]) - err[first_live]) < 0.15)
    # The file path reports the same reps at the same times.
    a = analyse_recording(rec)
    ends = [e.rep.end_s for e in done]  # type: ignore[union-attr]
    assert [r.end_s for r in a.reps] == pytest.approx(ends, abs=1e-9)
    assert a.latencies_s == pytest.approx(list(lat), abs=1e-9)


def test_counter_cost_is_bounded() -> None:
    # Window statistics on a fixed-size window: memory does not grow with the stream.
    pc = PeriodicCounter(100.0, 3, 3, PeriodicConfig())
    rng = np.random.default_rng(0)
    for i in range(6000):
        pc.push(i / 100.0, rng.normal(size=6))
    assert len(pc.zwin) <= pc.nw
    assert len(pc.tracker.buf) <= pc.n_replay


@pytest.mark.parametrize("gyro", [True, False])
def test_edge_reps_of_a_short_set_are_counted(gyro: bool) -> None:
    # A 5-rep set between handling: its first or last rep is only half a cycle of the
    # band-passed signal. The end-of-stretch reconciliation counts it (n matching
    # half-cycles make n // 2 reps); both paths agree.
    rec, truth = imu_set_session(periods=(1.5,) * 5, handling=True, gyro=gyro)
    a = analyse_recording(rec)
    assert a.count == len(truth)
    _events, eng = _stream(rec)
    assert [r.start_s for r in eng.result().reps] == pytest.approx([r.start_s for r in a.reps])
    for rep in a.reps:
        assert truth[0][0] - 1.5 < rep.start_s < rep.end_s < truth[-1][1] + 1.5
    starts = [r.start_s for r in a.reps]
    assert starts == sorted(starts)  # reported in time order, whichever edge was added


def test_edge_reps_need_an_established_set() -> None:
    # Without two counted reps the reconciliation adds nothing: still and random
    # gestures are unchanged.
    from openrehab.motion.periodic import CycleTracker

    tr = CycleTracker(12.5, PeriodicConfig(), 125)
    tr.seg_reps = [(1.0, 3.0)]
    tr.seg_ext.extend([(-1, 1.0, -1.0), (1, 2.0, 1.0), (-1, 3.0, -1.0), (1, 4.0, 1.0)])
    out: list = []
    tr._edge_reps(5.0, out)
    assert out == []
    tr.seg_reps = [(1.0, 3.0), (3.0, 5.0)]
    tr.seg_ext.extend([(-1, 5.0, -1.0), (1, 6.0, 1.0)])
    tr._edge_reps(7.0, out)
    assert len(out) == 1 and out[0]["t_start_raw"] == 5.0


def test_accelerometer_only_speed_has_two_peaks_per_rep() -> None:
    # Without a gyroscope the speed profile is the rate of change of the sensor's tilt
    # (deg/s): an out-and-back rep, between its turning points, has two speed peaks.
    rec, truth = imu_set_session(handling=False, gyro=False)
    res = analyse_recording(rec)
    assert res.count == len(truth)
    assert [r.velocity_peaks for r in res.reps] == [2] * len(truth)
    assert all(r.ldlj_kind == "accel" for r in res.reps)


def _fast_set_amid_gestures(seed: int, gyro: bool) -> tuple[Recording, int]:
    fs = 50.0
    before = imu_random_gestures(seed=seed, gyro=gyro, dur=20.0)
    rec, truth = imu_set_session(
        periods=(1.0,) * 5, handling=False, gyro=gyro, seed=seed, lead_s=1.0, tail_s=1.0
    )
    after = imu_random_gestures(seed=seed + 10, gyro=gyro, dur=20.0)
    data = np.concatenate(
        [before.data[: int(12 * fs)], rec.data, after.data[int(2 * fs) : int(12 * fs)]]
    )
    return Recording(np.arange(data.shape[0]) / fs, data, rec.channels, "imu"), len(truth)


def test_short_fast_set_amid_gestures_uses_the_short_window() -> None:
    # 5 fast reps between bouts of random gestures: over the 10 s window the set is not
    # periodic enough; over the 5 s window it is (autocorrelation >= short_on_corr).
    rec, n = _fast_set_amid_gestures(seed=3, gyro=False)
    assert abs(analyse_recording(rec).count - n) <= 1
    _events, eng = _stream(rec)
    assert eng.result().count == analyse_recording(rec).count
    long_only = PeriodicCounter(50.0, 3, 0, PeriodicConfig(short_window_s=10.0))
    assert long_only.Ls == 0  # short window disabled when it is not shorter


def _with_gap(rec: Recording, t0: float, dur: float) -> Recording:
    cut = (rec.t_s > t0) & (rec.t_s < t0 + dur)
    return Recording(rec.t_s[~cut], rec.data[~cut], rec.channels, rec.kind)


@pytest.mark.parametrize("gyro", [True, False])
@pytest.mark.parametrize(("t0", "dur"), [(16.3, 2.0), (17.0, 2.5), (15.0, 1.5)])
def test_short_dropout_inside_a_set_is_bridged(gyro: bool, t0: float, dur: float) -> None:
    # A 1.5-2.5 s dropout (wireless sensor) swallowing most of a rep of a 12-rep set: the
    # rows are interpolated, the set goes on and the cycle spanning the gap counts as the
    # set's cycles it spans. Without bridging the gap restarts detection and reps are lost.
    rec, truth = imu_set_session(periods=(2.0,) * 12, handling=False, gyro=gyro)
    rec = _with_gap(rec, t0, dur)
    a = analyse_recording(rec)
    assert a.count == len(truth)
    _events, eng = _stream(rec)
    assert [r.start_s for r in eng.result().reps] == pytest.approx([r.start_s for r in a.reps])
    starts = [r.start_s for r in a.reps]
    assert starts == sorted(starts)

    # Reps through the gap are counted but not measured (their angle was not seen); the
    # others keep their 100 deg.
    def overlap(r) -> float:  # seconds of the gap inside the rep
        return max(0.0, min(r.end_s, t0 + dur) - max(r.start_s, t0))

    through = [r for r in a.reps if overlap(r) > 1.0]
    assert through and all(math.isnan(r.rom) and r.to_dict()["rom"] is None for r in through)
    others = [r.rom for r in a.reps[1:-1] if overlap(r) == 0.0]
    assert others and all(r == pytest.approx(100.0, abs=10.0) for r in others)
    n_gyr = 3 if gyro else 0
    no_bridge = PeriodicConfig(gap_bridge_s=1.0)
    assert len(analyse_array(rec.t_s, rec.data, 50.0, 3, n_gyr, no_bridge)[0]) < len(truth)


def test_bridged_gap_adds_nothing_to_still_or_random_motion() -> None:
    still = _with_gap(imu_session(n_reps=0, rest_s=20), 8.0, 2.5)
    assert analyse_recording(still).count == 0
    assert analyse_recording(still, streaming=True).count == 0
    for s in range(4):
        rec = imu_random_gestures(seed=s)
        base = analyse_recording(rec).count
        assert analyse_recording(_with_gap(rec, 30.0, 2.5)).count <= max(base, 1)


def test_bridge_rows_interpolate_acceleration_and_hold_orientation() -> None:
    x0 = np.array([0.0, 9.8, 0.0, 1.0, -1.0, 0.5])
    x1 = np.array([1.0, 9.0, 2.0, 2.0, 0.0, 0.5])
    tf, xf = bridge_rows(10.0, x0, 12.0, x1, 50.0, 3)
    assert tf.size == 99 and 10.0 < tf[0] < tf[-1] < 12.0
    np.testing.assert_allclose(np.diff(tf), 0.02)
    np.testing.assert_allclose(xf[49, :3], 0.5 * (x0[:3] + x1[:3]))
    assert not xf[:, 3:].any()  # angular velocity unknown: no rotation


_IMU_SETS = [SHARED_DIR / "datasets" / d for d in ("barbell-wrist-imu", "muvr-wrist-accel")]


@pytest.mark.shared_data
@pytest.mark.skipif(not all(d.exists() for d in _IMU_SETS), reason="no shared data")
def test_real_imu_sets_stream_exactly_like_the_file_path() -> None:
    # Real recordings (gaps, handling, early reports held to their end, slow sets): a live
    # session and the file analysis give the same reps with the same metrics.
    files = sorted(p for d in _IMU_SETS for p in d.glob("*.csv.gz"))[::12]
    assert len(files) >= 20
    for p in files:
        rec = read_recording(p)
        a = analyse_recording(rec)
        b = analyse_recording(rec, streaming=True)
        assert a.count == b.count, p.name
        for ra, rb in zip(a.reps, b.reps, strict=True):
            assert (ra.start_s, ra.end_s) == pytest.approx((rb.start_s, rb.end_s), abs=1e-9)
            assert (ra.rom, ra.peak_velocity, ra.sparc) == pytest.approx(
                (rb.rom, rb.peak_velocity, rb.sparc), rel=1e-9, abs=1e-9, nan_ok=True
            ), p.name
            assert ra.velocity_peaks == rb.velocity_peaks, p.name


@pytest.mark.parametrize("gyro", [True, False])
@pytest.mark.parametrize("periods", [(1.5,) * 10, (2.5,) * 10, (2.0, 2.5, 3.0, 2.5, 2.0, 2.5, 3.0)])
def test_consecutive_reps_do_not_overlap(gyro: bool, periods: tuple[float, ...]) -> None:
    # A rep starts where the previous one ended, although early reports and the detector
    # time their shared turning point with different filter corrections. Every rep of the
    # set is counted, by exactly one reported rep spanning its peak (not a vacuous check
    # on no reps); at most one more, an edge rep (see the xfail test below).
    for seed in range(3):
        rec, truth = imu_set_session(periods=periods, gyro=gyro, handling=False, seed=seed)
        reps = analyse_recording(rec).reps
        assert len(truth) <= len(reps) <= len(truth) + 1
        for s, e in truth:
            assert sum(r.start_s <= (s + e) / 2 <= r.end_s for r in reps) == 1, (s, e)
        assert all(b.start_s >= a.end_s - 1e-9 for a, b in itertools.pairwise(reps))
        assert all(0.0 <= r.time_to_peak_velocity_s <= r.duration_s for r in reps)


@pytest.mark.xfail(
    strict=True,
    reason="known defect: the edge reconciliation adds a rep in the rest after a set of "
    "1.4-1.6 s reps (rom 0-2 deg); remove this marker when fixed",
)
@pytest.mark.parametrize("gyro", [True, False])
def test_no_rep_is_counted_in_the_rest_after_a_set(gyro: bool) -> None:
    # Ten 100 deg reps every 1.5 s, then 6 s still: 10 reps, none of them after the set.
    rec, truth = imu_set_session(periods=(1.5,) * 10, gyro=gyro, handling=False)
    reps = analyse_recording(rec).reps
    assert all(r.start_s < truth[-1][1] for r in reps)
    assert len(reps) == len(truth)


@pytest.mark.parametrize(
    ("since_s", "period_s", "resume_s", "expected"),
    [
        (10.0, 3.4, 20.0, 0.25),  # shortly after a 2.6 s set, a like pace: resumes easily
        (10.0, 1.7, 20.0, 0.25),  # 2.6 / 1.6 = 1.63: still like it
        (10.0, 1.6, 20.0, 0.5),  # faster than 1.6 x: a new movement, the usual threshold
        (10.0, 4.3, 20.0, 0.5),  # slower than 1.6 x
        (20.5, 2.6, 20.0, 0.5),  # too long after the last rep
        (10.0, 2.6, 0.0, 0.5),  # resuming off
    ],
)
def test_a_set_resumes_after_a_pause_at_a_lower_periodicity(
    since_s: float, period_s: float, resume_s: float, expected: float
) -> None:
    from openrehab.motion.periodic import CycleTracker, WindowStats

    cfg = PeriodicConfig(resume_s=resume_s)
    tr = CycleTracker(12.5, cfg, 125)
    tr._set_period = 2.6
    tr.last_end = 100.0
    st = WindowStats(period_s, 0.3, True, np.ones(3), np.ones(3), 1.0)
    assert tr._on_level(100.0 + since_s, st) == expected


@pytest.mark.skipif(not (SHARED_DIR / "datasets" / "barbell-wrist-imu").exists(), reason="no data")
def test_presses_after_a_mid_set_pause_count() -> None:
    # Audited as an engine miss: about 10 presses, a 2 s pause after the sixth; the window's
    # periodicity stays near 0.3 after it (the reps are less regular), so without resuming
    # the count stopped at 6.
    path = (
        SHARED_DIR / "datasets" / "barbell-wrist-imu" / "B_ohp_medium2_2019-01-11T165553154.csv.gz"
    )
    res = analyse_recording(read_recording(path))
    assert res.count >= 8
    assert max(r.end_s for r in res.reps) > 20.0
