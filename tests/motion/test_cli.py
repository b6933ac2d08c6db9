"""CLI contract: `openrehab count PATH [--exercise ID] [--json]`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from motion_synth import SHARED_DIR, angle_session
from typer.testing import CliRunner

from openrehab.cli import app
from openrehab.motion.recordings import write_csv

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


def test_unknown_exercise_is_explained(tmp_path: Path) -> None:
    rec, _ = angle_session()
    p = write_csv(rec, tmp_path / "a.csv")
    res = runner.invoke(app, ["count", str(p), "--exercise", "no_such_exercise"])
    assert res.exit_code == 2
    assert "openrehab exercises" in res.stderr


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
