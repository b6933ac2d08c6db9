"""``openrehab plan`` keeps its contract and fails politely."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from openrehab.cli import app
from openrehab.program.profile import load_profile

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
    assert plan["planned_reps"] == sum(i["sets"] * i["reps"] for i in plan["items"]) > 0


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


def _plan_with_overrides(tmp_path: Path, overrides: Path) -> Result:
    profile = str(_write(tmp_path, EXAMPLE))
    return RUNNER.invoke(app, ["plan", "--profile", profile, "--overrides", str(overrides)])


def test_unusable_overrides_file_is_a_one_line_error_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "none.json"
    result = _plan_with_overrides(tmp_path, missing)
    assert result.exit_code == 2
    assert result.output == (
        f"error: {missing}: cannot read the overrides (No such file or directory)\n"
    )
    broken = _write(tmp_path, '{"items": [}', "broken.json")
    result = _plan_with_overrides(tmp_path, broken)
    assert result.output == (
        f"error: {broken}: not valid JSON (line 1, column 12: Expecting value)\n"
    )
    invalid = _write(tmp_path, {"items": [{"action": "explode", "exercise": "x"}]}, "bad.json")
    result = _plan_with_overrides(tmp_path, invalid)
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {invalid}: field 'items[0].action': ")


def test_profile_and_overrides_are_read_as_utf8_whatever_the_locale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON files are UTF-8 (as JSON is); a therapist's note in German or French must
    reach the plan intact on a machine whose default text encoding is not UTF-8."""
    note = "Schulter: vorsichtig, bitte nicht über 90°"
    profile = tmp_path / "profile.json"
    data = {**EXAMPLE, "other_conditions": [note]}
    profile.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    overrides = tmp_path / "overrides.json"
    change = {"action": "remove", "exercise": "elbow_flexion", "note": note}
    overrides.write_text(json.dumps({"items": [change]}, ensure_ascii=False), encoding="utf-8")
    default = io.text_encoding
    monkeypatch.setattr(io, "text_encoding", lambda enc, *a: default(enc or "cp1252", *a))
    assert load_profile(profile).other_conditions == (note,)
    result = RUNNER.invoke(
        app, ["plan", "--profile", str(profile), "--overrides", str(overrides), "--json"]
    )
    reasons = json.loads(result.stdout)["reasons"]
    assert any(f"Note: {note} Why:" in r for r in reasons)
