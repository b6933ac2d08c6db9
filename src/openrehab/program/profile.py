"""The patient profile a program is built from (JSON; schema in ``docs/profile.md``).

Example::

    {"affected_side": "left",
     "regions": {"elbow": {"mas": "1+", "active_movement": true},
                 "hand": {"mas": "3", "active_movement": false}},
     "can_sit_unsupported": true, "can_stand_safely": false,
     "conditions": ["pacemaker"], "pain_nrs": 2}

Spasticity per region is the Modified Ashworth Scale grade (Bohannon & Smith 1987,
Phys Ther 67:206): 0, 1, 1+, 2, 3, 4. Pain is the 0-10 numeric rating scale (NRS).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from openrehab.exercises.schema import Condition, Region, Requirement

MAS = Literal["0", "1", "1+", "2", "3", "4"]
#: Numeric value of each MAS grade for comparisons ("1+" sits between 1 and 2).
MAS_RANK: dict[str, float] = {"0": 0, "1": 1, "1+": 1.5, "2": 2, "3": 3, "4": 4}
AffectedSide = Literal["left", "right", "both"]
HandFunction = Literal["none", "grasp_only", "grasp_and_release", "fine"]
Goal = Literal[
    "reach",
    "grasp_and_release",
    "eating_drinking",
    "dressing",
    "standing_up",
    "walking",
    "balance",
    "reduce_stiffness",
]
#: Household items assumed present unless the profile lists its own equipment.
DEFAULT_EQUIPMENT: tuple[Requirement, ...] = (
    "table",
    "towel",
    "cup",
    "small_objects",
    "chair_with_armrests",
    "sturdy_support",
)
DEFAULT_DAILY_REP_TARGET = 300


class RegionStatus(BaseModel):
    """Spasticity and voluntary movement of one body region on the affected side(s)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mas: MAS
    active_movement: bool
    painful: bool = False

    @field_validator("mas", mode="before")
    @classmethod
    def _mas_as_text(cls, value: Any) -> Any:
        # JSON authors often write 2 rather than "2"; "1+" must stay a string.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @property
    def mas_rank(self) -> float:
        return MAS_RANK[self.mas]


class PatientProfile(BaseModel):
    """Everything the planner needs to know about the person (see ``docs/profile.md``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    affected_side: AffectedSide
    regions: dict[Region, RegionStatus] = Field(min_length=1)
    can_sit_unsupported: bool
    can_stand_safely: bool
    hand_function: HandFunction | None = None
    # Lengths are bounded so a profile stays a profile (the lists name known items; 50 is
    # more than there are).
    conditions: tuple[Condition, ...] = Field(default=(), max_length=50)
    other_conditions: tuple[Annotated[str, Field(max_length=200)], ...] = Field(
        default=(), max_length=20
    )
    pain_nrs: int = Field(default=0, ge=0, le=10)
    goals: tuple[Goal, ...] = Field(default=(), max_length=50)
    equipment: tuple[Requirement, ...] = Field(default=DEFAULT_EQUIPMENT, max_length=50)
    daily_rep_target: int = Field(default=DEFAULT_DAILY_REP_TARGET, ge=0, le=2000)

    @property
    def sides(self) -> tuple[str, ...]:
        return ("left", "right") if self.affected_side == "both" else (self.affected_side,)

    @property
    def unaffected_side(self) -> str | None:
        if self.affected_side == "both":
            return None
        return "right" if self.affected_side == "left" else "left"


class ProfileError(ValueError):
    """The profile is unreadable or invalid; the message names the field in one line."""


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(profile)"


def describe_validation_error(exc: ValidationError, source: str = "profile") -> str:
    """One line naming each invalid field and why, for people, not for programmers."""
    messages = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        # Pydantic adds "[key]" parts for dict keys; a bad region key is reported as such.
        if error["type"] == "literal_error" and len(loc) >= 2 and loc[-1] == "[key]":
            loc = loc[:-1]
        field = _field_path(loc)
        reason = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "literal_error":
            reason = f"{reason}, got {error.get('input')!r}"
        elif error["type"] == "missing":
            reason = "required field is missing"
        elif error["type"] == "extra_forbidden":
            reason = "unknown field (see docs/profile.md)"
        messages.append(f"field '{field}': {reason}")
    return f"{source}: " + "; ".join(messages)


def parse_profile(data: Any, source: str = "profile") -> PatientProfile:
    """Validate a decoded JSON object; :class:`ProfileError` names the failing field."""
    try:
        return PatientProfile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(describe_validation_error(exc, source)) from None


def load_profile(path: Path | str) -> PatientProfile:
    """Read and validate a profile JSON file."""
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{target}: cannot read the profile ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(
            f"{target}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return parse_profile(data, str(target))


def profile_json_schema() -> dict[str, Any]:
    """The JSON Schema of the profile (exported to ``docs/profile.md``)."""
    return PatientProfile.model_json_schema()
