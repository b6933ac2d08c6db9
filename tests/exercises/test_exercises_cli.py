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


def test_region_filter_lists_all_and_only_the_exercises_of_the_region(
    region_index: dict[str, set[str]],
) -> None:
    """``--region R`` prints every exercise that lists R among its regions (a secondary one
    too), and nothing else; ``functional`` prints the functional tasks. Checked for every
    region against the YAML data."""
    library_order = load_library().ids()
    for region, expected in region_index.items():
        result = RUNNER.invoke(app, ["exercises", "--region", region, "--json"])
        assert result.exit_code == 0, result.output
        ids = [d["id"] for d in json.loads(result.stdout)]
        assert ids == [i for i in library_order if i in expected], region


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
