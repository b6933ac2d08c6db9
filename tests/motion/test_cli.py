"""CLI contract: `openrehab count PATH [--exercise ID] [--json]`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from motion_synth import SHARED_DIR, angle_session, pose_elbow_session
from typer.testing import CliRunner

from openrehab.cli import app
from openrehab.motion.commands import resolve_spec
from openrehab.motion.recordings import MEDIAPIPE_LANDMARKS, write_csv, write_landmarks_jsonl

runner = CliRunner()
KEYS = {
    "start_s",
    "end_s",
    "peak_s",
    "rom",
    "rom_unit",
    "duration_s",
    "peak_velocity",
    "sparc",
    "ldlj",
    "velocity_peaks",
    "too_fast",
}


def test_count_json_contract(tmp_path: Path) -> None:
    rec, truth = angle_session()
    p = write_csv(rec, tmp_path / "knee.csv.gz")
    res = runner.invoke(app, ["count", str(p), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["reps"] == len(truth) == len(out["repetitions"])
    assert set(out["repetitions"][0]) >= KEYS
    assert out["repetitions"][0]["rom_unit"] == "deg"
    assert out["signal"] == "angle"
    assert out["sample_rate_hz"] == pytest.approx(50, rel=1e-3)


def test_count_table_and_signal_option(tmp_path: Path) -> None:
    rec, truth = angle_session()
    p = write_csv(rec, tmp_path / "knee.csv")
    res = runner.invoke(app, ["count", str(p), "--exercise", "knee_extension:left"])
    assert res.exit_code == 0, res.output
    assert f"reps: {len(truth)}" in res.stdout
    assert "SPARC" in res.stdout


def test_bad_file_exits_2_with_one_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("t,angle\n0,1\n0.1,oops\n" + "".join(f"{0.2 + i / 10},{i}\n" for i in range(20)))
    res = runner.invoke(app, ["count", str(p), "--json"])
    assert res.exit_code == 2
    assert res.stdout == ""
    err = res.stderr.strip()
    assert "\n" not in err and "bad.csv" in err and "row 3" in err
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    ("name", "says"),
    [("no_such_exercise", "openrehab exercises"), ("squatt", "did you mean squat")],
)
def test_unknown_exercise_is_explained(tmp_path: Path, name: str, says: str) -> None:
    rec, _ = angle_session()
    p = write_csv(rec, tmp_path / "a.csv")
    res = runner.invoke(app, ["count", str(p), "--exercise", name])
    assert res.exit_code == 2
    assert says in res.stderr


@pytest.mark.parametrize(
    ("name", "signal"),
    [
        ("Biceps Curls", "elbow_flexion"),
        ("push-ups", "elbow_flexion"),
        ("Press-Ups", "elbow_flexion"),
        ("deep_squat", "knee_extension"),
        ("standing_shoulder_abduction", "shoulder_abduction"),
        ("seated knee extension", "knee_extension"),
        ("calf raises", "heel_raise"),
        ("russian twist", "trunk_rotation"),
    ],
)
def test_everyday_exercise_names_are_understood(name: str, signal: str) -> None:
    assert resolve_spec(name).signal == signal


def test_hidden_joints_are_reported(tmp_path: Path) -> None:
    # The left arm is never visible: counting it explicitly says so instead of a silent 0.
    t, frames = pose_elbow_session(n_reps=2)
    for fr in frames:
        if fr is not None:
            fr[[MEDIAPIPE_LANDMARKS.index(n) for n in ("left_elbow", "left_wrist")], 3] = 0.0
    p = write_landmarks_jsonl(zip(t, frames, strict=True), tmp_path / "side.jsonl", aspect=1.0)
    res = runner.invoke(app, ["count", str(p), "--exercise", "elbow_flexion:left", "--json"])
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    assert out["reps"] == 0
    assert any("could not be computed" in w for w in out["warnings"])
    both = json.loads(runner.invoke(app, ["count", str(p), "--json", "-e", "elbow_flexion"]).stdout)
    assert both["reps"] == 2 and not any("could not be computed" in w for w in both["warnings"])


def test_image_size_option(tmp_path: Path) -> None:
    t, frames = pose_elbow_session(n_reps=2)
    p = write_landmarks_jsonl(zip(t, frames, strict=True), tmp_path / "v.jsonl")
    res = runner.invoke(app, ["count", str(p), "--json", "--image-size", "1000x1000"])
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    assert out["reps"] == 2 and not any("16:9" in w for w in out["warnings"])
    res = runner.invoke(app, ["count", str(p), "--image-size", "wide"])
    assert res.exit_code == 2 and "WIDTHxHEIGHT" in res.stderr


def test_missing_file() -> None:
    res = runner.invoke(app, ["count", "/nonexistent/x.csv"])
    assert res.exit_code == 2 and "file not found" in res.stderr


@pytest.mark.shared_data
@pytest.mark.skipif(not (SHARED_DIR / "datasets" / "ui-prmd").exists(), reason="no shared data")
def test_shared_ui_prmd_and_plank() -> None:
    p = SHARED_DIR / "datasets" / "ui-prmd" / "m07_s01_correct.csv.gz"
    res = runner.invoke(app, ["count", str(p), "--exercise", "shoulder_abduction", "--json"])
    assert res.exit_code == 0
    assert abs(json.loads(res.stdout)["reps"] - 10) <= 1
    plank = SHARED_DIR / "videos" / "landmarks" / "plank_correct_001.jsonl"
    if plank.exists():
        res = runner.invoke(app, ["count", str(plank), "--json"])
        assert json.loads(res.stdout)["reps"] == 0
