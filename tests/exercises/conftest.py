"""The packaged library as written in its YAML files: the oracle for queries over it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from openrehab.exercises.library import DATA_DIR
from openrehab.exercises.schema import REGIONS


@pytest.fixture(scope="session")
def region_index() -> dict[str, set[str]]:
    """For every region (and ``functional``), the ids of the YAML entries that list it.

    Read straight from the data files, not through ``Library``, so a query that drops an
    exercise cannot also drop it from what the test expects."""
    entries: list[dict[str, Any]] = [
        entry
        for path in sorted(DATA_DIR.glob("*.yaml"))
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["exercises"]
    ]
    index = {region: {e["id"] for e in entries if region in e["regions"]} for region in REGIONS}
    index["functional"] = {e["id"] for e in entries if e.get("kind") == "functional"}
    return index
