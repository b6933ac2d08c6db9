"""``openrehab plan`` keeps its contract and fails politely."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from openrehab.cli import app

RUNNER = CliRunner()
EXAMPLE = {
    "affected_side": "left",
    "regions": {
        "elbow": {"mas": "1+", "active_movement": True},
        "hand": {"mas": "3", "active_movement": False},
    },
    "can_sit_unsupported": True,
    "can_stand_safely": False,
    "conditions": ["pacemaker"],
    "pain_nrs": 2,
}


def _write(tmp_path: Path, data: object, name: str = "profile.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_json_contract(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["plan", "--profile", str(_write(tmp_path, EXAMPLE)), "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert isinstance(plan["daily_rep_target"], int) and plan["daily_rep_target"] == 300
    assert plan["reasons"] and all(isinstance(r, str) for r in plan["reasons"])
    for item in plan["items"]:
        assert {"exercise", "mode", "side", "sets", "reps", "level"} <= set(item)
    assert plan["items"][0]["mode"] in ("passive", "stretch")


def test_table_output(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["plan", "--profile", str(_write(tmp_path, EXAMPLE))])
    assert result.exit_code == 0
    assert "Daily target: 300 repetitions" in result.stdout
    assert "Open the hand" in result.stdout and "Why:" in result.stdout


def test_overrides_file(tmp_path: Path) -> None:
    overrides = _write(
        tmp_path,
        {"daily_rep_target": 200, "items": [{"action": "remove", "exercise": "elbow_flexion"}]},
        "overrides.json",
    )
    result = RUNNER.invoke(
        app,
        [
            "plan",
            "--profile",
            str(_write(tmp_path, EXAMPLE)),
            "--overrides",
            str(overrides),
            "--json",
        ],
    )
    plan = json.loads(result.stdout)
    assert plan["daily_rep_target"] == 200
    assert "elbow_flexion" not in {i["exercise"] for i in plan["items"]}


def test_invalid_profile_names_the_field(tmp_path: Path) -> None:
    bad = {**EXAMPLE, "regions": {"elbow": {"mas": "5", "active_movement": True}}}
    result = RUNNER.invoke(app, ["plan", "--profile", str(_write(tmp_path, bad))])
    assert result.exit_code == 2
    assert "field 'regions.elbow.mas'" in result.output
    assert "Traceback" not in result.output and result.output.count("\n") == 1


def test_broken_json_and_missing_file(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["plan", "--profile", str(_write(tmp_path, "{oops"))])
    assert result.exit_code == 2 and "not valid JSON" in result.output
    result = RUNNER.invoke(app, ["plan", "--profile", str(tmp_path / "none.json")])
    assert result.exit_code == 2 and "cannot read" in result.output
