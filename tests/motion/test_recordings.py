"""Reading and validating recordings (CSV, CSV.gz, landmark JSONL)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from motion_synth import imu_session, imu_slow_set, pose_elbow_session

from openrehab.motion.engine import MotionEngine, analyse_recording
from openrehab.motion.recordings import (
    Recording,
    RecordingError,
    read_recording,
    write_csv,
    write_landmarks_jsonl,
)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _csv(rows: list[str], header: str = "t,angle") -> str:
    return header + "\n" + "\n".join(rows) + "\n"


def _good_rows(n: int = 50) -> list[str]:
    return [f"{i * 0.02:.2f},{10 + i % 7}" for i in range(n)]


def test_reads_csv_and_gz(tmp_path: Path) -> None:
    rec = imu_session(n_reps=2)
    p = write_csv(rec, tmp_path / "imu.csv.gz")
    back = read_recording(p)
    assert back.kind == "imu"
    assert back.channels == rec.channels
    assert back.n_samples == rec.n_samples
    assert back.sample_rate_hz == pytest.approx(50.0, rel=1e-3)
    assert back.warnings == []


def test_bad_cell_names_file_row_and_column(tmp_path: Path) -> None:
    rows = _good_rows()
    rows[9] = "0.18,abc"
    p = _write(tmp_path / "bad.csv", _csv(rows))
    with pytest.raises(RecordingError) as err:
        read_recording(p)
    msg = str(err.value)
    assert "bad.csv" in msg and "row 11" in msg and "'abc'" in msg
    assert "\n" not in msg


def test_wrong_number_of_values(tmp_path: Path) -> None:
    rows = _good_rows()
    rows[3] = "0.06,1,2"
    with pytest.raises(RecordingError, match="row 5: expected 2 values"):
        read_recording(_write(tmp_path / "x.csv", _csv(rows)))


def test_time_going_backwards_is_an_error(tmp_path: Path) -> None:
    rows = _good_rows()
    rows[20] = "0.10,12"
    with pytest.raises(RecordingError, match=r"row 22: time goes backwards"):
        read_recording(_write(tmp_path / "x.csv", _csv(rows)))


def test_duplicate_timestamps_are_dropped_with_warning(tmp_path: Path) -> None:
    rows = _good_rows()
    rows.insert(5, rows[4])
    rec = read_recording(_write(tmp_path / "x.csv", _csv(rows)))
    assert rec.n_samples == 50
    assert any("duplicate timestamp" in w for w in rec.warnings)


def test_short_missing_values_are_interpolated(tmp_path: Path) -> None:
    rows = _good_rows()
    rows[10] = "0.20,"
    rows[11] = "0.22,nan"
    rec = read_recording(_write(tmp_path / "x.csv", _csv(rows)))
    assert not np.isnan(rec.data).any()
    assert any("interpolated" in w for w in rec.warnings)


def test_long_missing_run_is_an_error(tmp_path: Path) -> None:
    rows = _good_rows(200)
    for i in range(20, 100):
        rows[i] = f"{i * 0.02:.2f},"
    with pytest.raises(RecordingError, match="missing for"):
        read_recording(_write(tmp_path / "x.csv", _csv(rows)))


def test_gap_warning(tmp_path: Path) -> None:
    rows = _good_rows() + [f"{5 + i * 0.02:.2f},{i % 5}" for i in range(20)]
    rec = read_recording(_write(tmp_path / "x.csv", _csv(rows)))
    assert any("gap" in w for w in rec.warnings)


def test_too_short_and_empty(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="too short"):
        read_recording(_write(tmp_path / "a.csv", _csv(_good_rows(5))))
    with pytest.raises(RecordingError, match="no data rows"):
        read_recording(_write(tmp_path / "b.csv", "t,angle\n"))
    with pytest.raises(RecordingError, match="first column must be 't'"):
        read_recording(_write(tmp_path / "c.csv", "time_ms;angle\n1;2\n"))
    with pytest.raises(RecordingError, match="file not found"):
        read_recording(tmp_path / "missing.csv")
    with pytest.raises(RecordingError, match="unknown file type"):
        read_recording(_write(tmp_path / "d.txt", "x"))


def test_constant_channels(tmp_path: Path) -> None:
    rows = [f"{i * 0.02:.2f},5,{i % 3}" for i in range(60)]
    rec = read_recording(_write(tmp_path / "x.csv", _csv(rows, "t,a,b")))
    assert any("constant" in w and "a" in w for w in rec.warnings)
    rows = [f"{i * 0.02:.2f},5,7" for i in range(60)]
    with pytest.raises(RecordingError, match="all channels are constant"):
        read_recording(_write(tmp_path / "y.csv", _csv(rows, "t,a,b")))


# Unit rule (docs/recordings.md): the engine works in m/s^2, rad/s, metres and seconds; a
# file in g, deg/s or millimetres is converted by the exact factor (standard gravity
# 9.80665, pi/180, 1/1000), not only warned about: every ROM and speed downstream scales
# with it (a gyroscope left in deg/s makes rotations 57x too large).


def test_accelerometer_in_g_is_converted(tmp_path: Path) -> None:
    rec = imu_session(n_reps=2, g_units=True)
    back = read_recording(write_csv(rec, tmp_path / "g.csv"))
    mag = np.linalg.norm(back.data[:, :3], axis=1)
    assert np.median(mag) == pytest.approx(9.81, rel=0.05)
    assert any("looks like g" in w for w in back.warnings)
    np.testing.assert_allclose(back.data[:, :3], rec.data[:, :3] * 9.80665, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(back.data[:, 3:], rec.data[:, 3:], rtol=1e-5, atol=1e-6)


def test_gyro_in_deg_per_s_is_converted(tmp_path: Path) -> None:
    rec = imu_session(n_reps=2)
    rad_s = rec.data[:, 3:] * 5  # a fast movement: above 35 in deg/s
    rec.data[:, 3:] = np.degrees(rad_s)
    back = read_recording(write_csv(rec, tmp_path / "d.csv"))
    assert any("deg/s" in w for w in back.warnings)
    np.testing.assert_allclose(back.data[:, 3:], rad_s, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(back.data[:, :3], rec.data[:, :3], rtol=1e-5, atol=1e-5)


def test_skeleton_in_millimetres_is_converted(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(0, 3, 1 / 30)
    metres = rng.uniform(-0.8, 2.5, (t.size, 6))
    chans = ("waist_x", "waist_y", "waist_z", "head_x", "head_y", "head_z")
    rec = Recording(t, metres * 1000.0, chans, "skeleton")
    back = read_recording(write_csv(rec, tmp_path / "mm.csv"))
    assert back.kind == "skeleton"
    assert any("millimetres" in w for w in back.warnings)
    np.testing.assert_allclose(back.data, metres, rtol=1e-5)
    same = read_recording(write_csv(Recording(t, metres, chans, "skeleton"), tmp_path / "m.csv"))
    np.testing.assert_allclose(same.data, metres, rtol=1e-5)
    assert not any("millimetres" in w for w in same.warnings)


@pytest.mark.parametrize("unit", ["rad/s", "deg/s"])
def test_slow_movement_gyro_unit_is_told_by_gravity(tmp_path: Path, unit: str) -> None:
    # A slow stretch (60 deg in 4 s: at most about 30 deg/s) logged in deg/s stays below any
    # magnitude threshold; the gravity direction turning about 57x slower than the
    # gyroscope reads gives it away. In rad/s nothing changes.
    rec = imu_slow_set(8.0, n_reps=4)
    if unit == "deg/s":
        rec.data[:, 3:] = np.degrees(rec.data[:, 3:])
        assert np.abs(rec.data[:, 3:]).max() < 35.0
    back = read_recording(write_csv(rec, tmp_path / "slow.csv"))
    converted = any("look like deg/s" in w for w in back.warnings)
    assert converted == (unit == "deg/s")
    res = analyse_recording(back)
    assert res.count == 4
    assert all(r.rom == pytest.approx(60.0, abs=6.0) for r in res.reps)


def test_millisecond_timestamps_are_converted(tmp_path: Path) -> None:
    rec = imu_session(n_reps=3)
    ms = Recording(rec.t_s * 1000.0, rec.data, rec.channels, rec.kind)
    back = read_recording(write_csv(ms, tmp_path / "ms.csv"))
    assert back.sample_rate_hz == pytest.approx(rec.sample_rate_hz, rel=1e-3)
    assert any("milliseconds" in w for w in back.warnings)
    assert analyse_recording(back).count == analyse_recording(rec).count


def test_too_low_sample_rate_is_a_clear_error(tmp_path: Path) -> None:
    rows = [f"{i},{(i % 4) * 20}" for i in range(40)]  # 1 Hz, or 0.04 s if in ms
    p = _write(tmp_path / "slow.csv", _csv(rows, "t,angle"))
    with pytest.raises(RecordingError, match="sample rate 1 Hz is too low"):
        read_recording(p)
    with pytest.raises(ValueError, match="out of range"):
        MotionEngine(("angle",), "angle", 1.0)
    # A slow file in seconds is not mistaken for milliseconds (1 Hz is not 1000 Hz)...
    rows = [f"{i},{(i % 4) * 20}" for i in range(600)]
    with pytest.raises(RecordingError, match="too low"):
        read_recording(_write(tmp_path / "slow_long.csv", _csv(rows, "t,angle")))
    # ... and samples bunched at nearly the same times are broken timestamps, not 1 MHz.
    rows = [f"{k * 2.9 + j * 1e-6:.7f},{j}" for k in range(3) for j in range(10)]
    with pytest.raises(RecordingError, match="implausibly high"):
        read_recording(_write(tmp_path / "bunched.csv", _csv(rows, "t,angle")))


def test_infinite_values_are_missing_values(tmp_path: Path) -> None:
    rows = [f"{i / 50},{'inf' if i == 7 else 30 + i % 25}" for i in range(200)]
    rec = read_recording(_write(tmp_path / "inf.csv", _csv(rows, "t,angle")))
    assert np.isfinite(rec.data).all()
    assert any("infinite" in w for w in rec.warnings)


def test_long_and_epoch_timestamps_survive_writing(tmp_path: Path) -> None:
    # A day-long or epoch-based 't' keeps its sample spacing through write_csv.
    rec = imu_session(n_reps=1)
    for t0 in (86_000.0, 1.7e9):
        shifted = Recording(rec.t_s + t0, rec.data, rec.channels, rec.kind)
        back = read_recording(write_csv(shifted, tmp_path / "long.csv"))
        assert back.n_samples == rec.n_samples
        assert np.diff(back.t_s) == pytest.approx(np.diff(rec.t_s), abs=2e-6)


def test_landmarks_round_trip(tmp_path: Path) -> None:
    t, frames = pose_elbow_session(n_reps=1)
    p = write_landmarks_jsonl(zip(t, frames, strict=True), tmp_path / "lm.jsonl", aspect=1.0)
    rec = read_recording(p)
    assert rec.kind == "pose" and rec.n_samples == len(t)
    assert np.isnan(rec.data[40]).all()
    assert any("without a pose" in w for w in rec.warnings)
    p2 = write_landmarks_jsonl(rec, tmp_path / "lm2.jsonl.gz")
    rec2 = read_recording(p2)
    np.testing.assert_allclose(rec2.data, rec.data, atol=1e-5)
    with gzip.open(p2, "rt") as fh:
        first = json.loads(fh.readline())
    assert set(first) == {"t", "landmarks", "aspect"} and len(first["landmarks"]) == 33
    assert rec2.aspect == rec.aspect == 1.0


def test_landmarks_as_mediapipe_objects(tmp_path: Path) -> None:
    # MediaPipe Tasks' own JSON shape: a list of poses of {"x", "y", "z", "visibility"}
    # objects, and an empty list when no pose was found.
    t, frames = pose_elbow_session(n_reps=1)
    ref = read_recording(
        write_landmarks_jsonl(zip(t, frames, strict=True), tmp_path / "a.jsonl", aspect=1.0)
    )
    lines = []
    for i, (tt, fr) in enumerate(zip(t, frames, strict=True)):
        pose = (
            None
            if fr is None
            else [
                dict(zip(("x", "y", "z", "visibility"), map(float, lm), strict=True)) for lm in fr
            ]
        )
        # no pose: []; otherwise this person, then a second one (ignored: the first counts)
        poses = [] if pose is None else ([pose, pose[::-1]] if i % 2 else [pose])
        obj = {"t": float(tt), "landmarks": poses} | ({"aspect": 1.0} if i == 0 else {})
        lines.append(json.dumps(obj))
    rec = read_recording(_write(tmp_path / "tasks.jsonl", "\n".join(lines)))
    np.testing.assert_allclose(rec.data, ref.data, atol=1e-5)


def test_landmark_image_aspect(tmp_path: Path) -> None:
    # x and y are fractions of the image's width and height: the ratio comes from the file
    # ("width"/"height" or "aspect"), the caller, or a 16:9 default with a warning.
    t, frames = pose_elbow_session(n_reps=1)
    bare = write_landmarks_jsonl(zip(t, frames, strict=True), tmp_path / "bare.jsonl")
    rec = read_recording(bare)
    assert rec.aspect == pytest.approx(16 / 9)
    assert any("assuming a 16:9" in w for w in rec.warnings)
    assert read_recording(bare, aspect=4 / 3).aspect == pytest.approx(4 / 3)
    lines = bare.read_text().splitlines()
    first = json.loads(lines[0]) | {"width": 720, "height": 1280}  # a portrait phone video
    sized = _write(tmp_path / "sized.jsonl", "\n".join([json.dumps(first), *lines[1:]]))
    rec = read_recording(sized)
    assert rec.aspect == pytest.approx(720 / 1280)
    assert not any("assuming" in w for w in rec.warnings)
    first["width"] = "wide"
    with pytest.raises(RecordingError, match="must be numbers"):
        read_recording(_write(tmp_path / "bad.jsonl", "\n".join([json.dumps(first), *lines[1:]])))


def test_bad_landmark_lines(tmp_path: Path) -> None:
    good = json.dumps({"t": 0.0, "landmarks": [[0.5, 0.5, 0, 1]] * 33})
    with pytest.raises(RecordingError, match="row 2: invalid JSON"):
        read_recording(_write(tmp_path / "a.jsonl", good + "\n{oops\n"))
    bad = json.dumps({"t": 0.1, "landmarks": [[0.5, 0.5, 0, 1]] * 5})
    with pytest.raises(RecordingError, match="row 2: expected 33 landmarks, found 5"):
        read_recording(_write(tmp_path / "b.jsonl", good + "\n" + bad + "\n"))
