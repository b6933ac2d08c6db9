"""The clinical profile as a page form: what the form shows, and the profile it posts.

The form's fields map one to one onto the program's profile (``program.profile``,
docs/profile.md); the same model validates both, so a profile saved from the page is exactly
one the API would accept. A region is included when its "involved" box is ticked.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import ValidationError

from openrehab.exercises.schema import REGIONS, Condition, Requirement
from openrehab.program.profile import (
    DEFAULT_DAILY_REP_TARGET,
    DEFAULT_EQUIPMENT,
    MAS_RANK,
    Goal,
    HandFunction,
    PatientProfile,
)

MAS_GRADES = tuple(MAS_RANK)
CONDITIONS: tuple[str, ...] = get_args(Condition)
GOALS: tuple[str, ...] = get_args(Goal)
EQUIPMENT: tuple[str, ...] = tuple(
    r for r in get_args(Requirement) if r not in ("standing_balance", "sitting_balance")
)
HAND_FUNCTIONS: tuple[str, ...] = get_args(HandFunction)
WORDS = {
    "grasp_only": "can grasp, cannot let go",
    "grasp_and_release": "can grasp and let go",
    "fine": "fine finger movements",
    "none": "no hand movement",
    "dvt": "DVT (deep vein thrombosis, not yet treated)",
    "implanted_defibrillator": "implanted defibrillator (ICD)",
    "nmes_device": "electrical stimulation unit",
    "sturdy_support": "sturdy support to hold",
}


def goal_words(key: str) -> str:
    """How a goal reads on the form."""
    return key.replace("_", " ")


def words(key: str) -> str:
    """How a profile value reads on the form."""
    return WORDS.get(key, key.replace("_", " "))


def form_values(data: dict[str, Any]) -> dict[str, Any]:
    """The form's initial values from a stored profile (``services.program.profile_data``)."""
    regions = data.get("regions") or {}
    equipment = data.get("equipment")
    return {
        "affected_side": data.get("affected_side"),
        "regions": {
            region: {
                "involved": region in regions,
                "mas": regions.get(region, {}).get("mas", "0"),
                "active_movement": regions.get(region, {}).get("active_movement", False),
                "painful": regions.get(region, {}).get("painful", False),
            }
            for region in REGIONS
        },
        "can_sit_unsupported": data.get("can_sit_unsupported"),
        "can_stand_safely": data.get("can_stand_safely"),
        "hand_function": data.get("hand_function"),
        "conditions": set(data.get("conditions") or ()),
        "other_conditions": "\n".join(data.get("other_conditions") or ()),
        "goals": set(data.get("goals") or ()),
        "equipment": set(DEFAULT_EQUIPMENT if equipment is None else equipment),
        "pain_nrs": data.get("pain_nrs", 0),
        "daily_rep_target": data.get("daily_rep_target", DEFAULT_DAILY_REP_TARGET),
    }


def _ticked(fields: dict[str, list[str]], name: str) -> bool:
    """A checkbox is ticked when it was sent with a value (browsers omit unticked ones)."""
    return any(fields.get(name, []))


def _yes_no(fields: dict[str, list[str]], name: str) -> bool | None:
    value = (fields.get(name) or [""])[0]
    return {"yes": True, "no": False}.get(value)


def _number(fields: dict[str, list[str]], name: str) -> Any:
    value = (fields.get(name) or [""])[0]
    try:
        return int(value)
    except ValueError:
        return value or None


def posted_profile(fields: dict[str, list[str]]) -> tuple[dict[str, Any], bool]:
    """The profile dict a posted form describes, and whether its equipment differs from the
    household defaults (else equipment is stored as "the defaults")."""
    regions = {
        region: {
            "mas": (fields.get(f"{region}_mas") or ["0"])[0],
            "active_movement": _ticked(fields, f"{region}_active"),
            "painful": _ticked(fields, f"{region}_painful"),
        }
        for region in REGIONS
        if _ticked(fields, f"{region}_involved")
    }
    other = [
        line.strip()
        for text in fields.get("other_conditions", [])
        for line in text.splitlines()
        if line.strip()
    ]
    equipment = [e for e in EQUIPMENT if e in fields.get("equipment", [])]
    data: dict[str, Any] = {
        "affected_side": (fields.get("affected_side") or [""])[0] or None,
        "regions": regions,
        "can_sit_unsupported": _yes_no(fields, "can_sit_unsupported"),
        "can_stand_safely": _yes_no(fields, "can_stand_safely"),
        "hand_function": (fields.get("hand_function") or [""])[0] or None,
        "conditions": [c for c in CONDITIONS if c in fields.get("conditions", [])],
        "other_conditions": other,
        "goals": [g for g in GOALS if g in fields.get("goals", [])],
        "equipment": equipment,
        "pain_nrs": _number(fields, "pain_nrs") if fields.get("pain_nrs", [""])[0] else 0,
        "daily_rep_target": _number(fields, "daily_rep_target"),
    }
    return data, set(equipment) != set(DEFAULT_EQUIPMENT)


NUMBERS = ("pain_nrs", "daily_rep_target")
FIELD_WORDS = {
    "affected_side": "Affected side",
    "regions": "Regions",
    "can_sit_unsupported": "Can sit without support",
    "can_stand_safely": "Can stand safely",
    "hand_function": "Hand function",
    "pain_nrs": "Pain now",
    "daily_rep_target": "Daily repetition target",
    "other_conditions": "Other conditions",
}


def problems(exc: ValidationError) -> list[str]:
    """Each invalid field of the form in plain words (field name first)."""
    out = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        field = FIELD_WORDS.get(loc[0], loc[0].replace("_", " ")) if loc else "Form"
        if loc and loc[0] == "regions" and len(loc) > 1:
            field = f"{loc[1].replace('_', ' ').capitalize()} {' '.join(loc[2:])}".strip()
        if error["type"] == "missing" or error.get("input") is None:
            reason = "please give a number" if loc and loc[0] in NUMBERS else "please choose one"
        elif loc == ["regions"] and error["type"] == "too_short":
            reason = "tick at least one involved region"
        else:
            reason = str(error["msg"]).removeprefix("Value error, ")
        out.append(f"{field}: {reason}")
    return out


def validate(data: dict[str, Any]) -> PatientProfile:
    """The profile model of a posted form (raises :class:`pydantic.ValidationError`)."""
    return PatientProfile.model_validate(data)
