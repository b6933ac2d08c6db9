"""Builders shared by the planner tests: a mild left-arm profile with changes."""

from __future__ import annotations

from typing import Any

from openrehab.exercises.library import load_library
from openrehab.program.profile import PatientProfile, parse_profile

LIBRARY = load_library()
ARM = ("shoulder", "elbow", "wrist", "hand")


def profile(**changes: Any) -> PatientProfile:
    """Left arm, MAS 1 with active movement everywhere, can sit and stand; ``changes`` win."""
    data: dict[str, Any] = {
        "affected_side": "left",
        "regions": {r: {"mas": "1", "active_movement": True} for r in ARM},
        "can_sit_unsupported": True,
        "can_stand_safely": True,
    }
    data.update(changes)
    return parse_profile(data)


def exercise_of(item: Any) -> Any:
    return LIBRARY.get(item.exercise)
