"""``openrehab exercises`` keeps its contract."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from openrehab.cli import app
from openrehab.exercises.library import load_library

RUNNER = CliRunner()
REQUIRED_KEYS = {"id", "name", "regions", "modes", "positions", "levels", "steps", "sensing"}


def test_json_lists_every_exercise_with_the_contract_keys() -> None:
    result = RUNNER.invoke(app, ["exercises", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["id"] for d in data] == list(load_library().ids())
    for item in data:
        assert set(item) >= REQUIRED_KEYS
        assert item["sensing"]["unit"] in ("deg", "m", "norm")
        assert all("target" in level for level in item["levels"])


def test_region_filter() -> None:
    result = RUNNER.invoke(app, ["exercises", "--region", "ankle", "--json"])
    data = json.loads(result.stdout)
    assert data and all("ankle" in d["regions"] for d in data)
    functional = json.loads(
        RUNNER.invoke(app, ["exercises", "--region", "functional", "--json"]).stdout
    )
    assert {d["kind"] for d in functional} == {"functional"}


def test_table_output_is_readable() -> None:
    result = RUNNER.invoke(app, ["exercises", "--region", "elbow"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split()[:3] == ["id", "name", "regions"]
    assert "elbow_extension" in result.stdout and "exercises." in result.stdout


def test_unknown_region_is_one_line_and_non_zero() -> None:
    result = RUNNER.invoke(app, ["exercises", "--region", "tail"])
    assert result.exit_code == 2
    assert "unknown region 'tail'" in result.output
    assert "Traceback" not in result.output
