"""Request and response bodies of the JSON API (pydantic 2).

Limits on every field (lengths, ranges) are part of the contract: they turn nonsense input into
a 422 with a reason instead of a database error.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from openrehab.exercises.library import load_library
from openrehab.exercises.schema import Mode
from openrehab.program.planner import ItemOverride
from openrehab.program.profile import PatientProfile

Side = Literal["left", "right", "both"]
LimbSide = Literal["left", "right", "both", "none"]
MAS_GRADES = ("0", "1", "1+", "2", "3", "4")
ShortText = Annotated[str, Field(min_length=1, max_length=80)]
Note = Annotated[str, Field(max_length=2000)]
Seconds = Annotated[float, Field(ge=0, le=86_400)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False, ge=-1e9, le=1e9)]


@cache
def _accepts_bool(annotation: Any) -> bool:
    if annotation is bool or annotation is Any:
        return True
    return any(_accepts_bool(arg) for arg in get_args(annotation) if not isinstance(arg, str))


class Strict(BaseModel):
    """Base of every request body: unknown fields are refused, and so is ``true``/``false``
    where a number is meant (pydantic would read ``"nrs": false`` as 0).

    Validators run on defaults too (``validate_default``): a MAS assessment without a
    ``value`` is refused, not stored as a record that no response model can show.
    """

    # validate_default: a field validator also runs when the field is left out (its default
    # must pass the same rules as a value sent).
    model_config = ConfigDict(extra="forbid", from_attributes=True, validate_default=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_as_number(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, bool) and field is not None and not _accepts_bool(field.annotation):
            raise ValueError("must be a number or text, not true or false")
        return value


class TokenRequest(Strict):
    username: Annotated[str, Field(min_length=1, max_length=80)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in_s: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: str
    active: bool


class UserCreate(Strict):
    username: Annotated[str, Field(min_length=2, max_length=80)]
    password: Annotated[str, Field(min_length=8, max_length=200)]
    role: Literal["patient", "caregiver", "therapist", "admin"]
    display_name: Annotated[str, Field(min_length=1, max_length=120)] | None = None


class LinkCreate(Strict):
    patient_id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    carer_id: Annotated[int, Field(ge=1, le=2**31 - 1)]


class LinkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    patient_id: int
    carer_id: int
    kind: str


class ProfileIn(PatientProfile):
    """The clinical profile: exactly the program's profile (docs/profile.md).

    Invalid input is a 422 whose ``loc`` names the field, e.g. ``["body", "regions", "elbow",
    "mas"]``. ``equipment`` left out means the household defaults.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, title="ProfileIn")


class ProfileOut(BaseModel):
    """The stored profile; ``complete`` says whether a program can be built from it."""

    affected_side: str
    regions: dict[str, Any]
    can_sit_unsupported: bool
    can_stand_safely: bool
    hand_function: str | None
    conditions: list[str]
    other_conditions: list[str]
    pain_nrs: int | None
    goals: list[str]
    equipment: list[str] | None = Field(description="None = the household defaults")
    daily_rep_target: int
    updated_at: datetime | None
    complete: bool
    problems: list[str] = Field(description="Why a program cannot be built yet (if not complete)")


class PatientSummary(BaseModel):
    id: int
    username: str
    display_name: str
    affected_side: str | None
    reps_today: int
    last_session_at: datetime | None


class SessionCreate(Strict):
    source: Literal["camera", "imu", "file", "manual"] = "camera"
    notes: Note | None = None


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    patient_id: int
    started_at: datetime
    ended_at: datetime | None
    source: str
    notes: str | None


class SessionEndOut(SessionOut):
    events: list[ProgressEventOut] = Field(default_factory=list)


class SetCreate(Strict):
    """A set of one library exercise; the library decides the valid modes, sides and levels."""

    exercise_id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=80,
            pattern=r"^[a-z0-9_\-]+$",
            description="An id from GET /api/exercises",
        ),
    ]
    side: LimbSide = Field(
        description="left/right for one-sided exercises, both for bilateral and midline ones"
    )
    mode: Literal["active", "active_assisted", "passive", "stretch"] = "active"
    level: Annotated[int, Field(ge=1, le=1000)] = 1
    target_reps: Annotated[int, Field(ge=0, le=10_000)] | None = None

    @field_validator("exercise_id")
    @classmethod
    def _in_library(cls, exercise_id: str) -> str:
        if exercise_id not in load_library():
            raise ValueError(f"unknown exercise {exercise_id!r}; see GET /api/exercises")
        return exercise_id

    @field_validator("side")
    @classmethod
    def _side_fits(cls, side: str, info: Any) -> str:
        exercise_id = info.data.get("exercise_id")
        if exercise_id is None:
            return side
        laterality = load_library().get(exercise_id).laterality
        if laterality == "unilateral" and side not in ("left", "right"):
            raise ValueError("this exercise is done on one side: use 'left' or 'right'")
        if laterality != "unilateral" and side != "both":
            raise ValueError("this exercise uses both sides (or the trunk): use 'both'")
        return side

    @field_validator("mode")
    @classmethod
    def _mode_fits(cls, mode: str, info: Any) -> str:
        exercise_id = info.data.get("exercise_id")
        if exercise_id is not None:
            modes = load_library().get(exercise_id).modes
            if mode not in modes:
                raise ValueError(f"this exercise has modes {', '.join(modes)}; not {mode!r}")
        return mode

    @field_validator("level")
    @classmethod
    def _level_fits(cls, level: int, info: Any) -> int:
        exercise_id = info.data.get("exercise_id")
        if exercise_id is not None:
            top = load_library().get(exercise_id).max_level
            if level > top:
                raise ValueError(f"this exercise has levels 1 to {top}")
        return level


class SetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    session_id: int
    exercise_id: str
    side: str
    mode: str
    level: int
    target_reps: int | None
    started_at: datetime
    ended_at: datetime | None
    rep_count: int = 0
    source: str | None = None
    summary: dict[str, Any] = Field(default_factory=dict)


class SetEnd(Strict):
    """Optional body when ending a set."""

    pain_reported: bool = Field(
        default=False, description="The set hurt: the level drops and the therapist is told"
    )


class ProgressEventOut(BaseModel):
    """An explained progression event, e.g. "Level 2 -> 3 because ..."."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    kind: str = Field(
        description="set, level_up, level_down, level_hold, pain, rest_prompt, unlock, "
        "limb_level_up, overall_level_up or therapist_level"
    )
    exercise_id: str | None
    side: str | None
    set_id: int | None
    from_level: int | None
    to_level: int | None
    xp: int
    reason: str


class SetJudgementOut(BaseModel):
    """How the set was judged against its level (recomputed from the stored reps)."""

    level: int
    reps_target: int
    reps_completed: int
    reps_reached: int
    reps_measured: int
    needed_excursion: float = Field(description="Excursion a rep must reach, in `unit`")
    unit: str
    success: bool
    pain_reported: bool


class SetEndOut(SetOut):
    result: SetJudgementOut | None = None
    events: list[ProgressEventOut] = Field(default_factory=list)


ClientId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class RepetitionFields(BaseModel):
    """One repetition as the motion engine reports it (times in s from the set start)."""

    start_s: Seconds
    end_s: Seconds
    peak_s: Seconds | None = None
    rom: FiniteFloat | None = None
    rom_unit: Literal["deg", "m", "norm", "m/s^2", "rad/s"] | None = None
    duration_s: Seconds | None = None
    peak_velocity: FiniteFloat | None = None
    mean_velocity: FiniteFloat | None = None
    sparc: FiniteFloat | None = None
    ldlj: FiniteFloat | None = None
    velocity_peaks: Annotated[int, Field(ge=0, le=10_000)] | None = None
    too_fast: bool = False
    client_id: ClientId | None = Field(
        default=None,
        description="The sender's own id for this rep (e.g. a UUID). Sending a rep again with "
        "the same id returns the stored one instead of storing it twice.",
    )


class RepetitionIn(RepetitionFields, Strict):
    @model_validator(mode="after")
    def _times_in_order(self) -> Self:
        if self.end_s < self.start_s:
            raise ValueError("end_s must not be before start_s")
        if self.peak_s is not None and not self.start_s <= self.peak_s <= self.end_s:
            raise ValueError("peak_s must lie within the rep (start_s <= peak_s <= end_s)")
        return self


class RepetitionOut(BaseModel):
    """A stored repetition, shown as stored."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    set_id: int
    index: int
    start_s: float
    end_s: float
    peak_s: float | None = None
    rom: float | None = None
    rom_unit: str | None = None
    duration_s: float | None = None
    peak_velocity: float | None = None
    mean_velocity: float | None = None
    sparc: float | None = None
    ldlj: float | None = None
    velocity_peaks: int | None = None
    too_fast: bool = False
    client_id: str | None = None
    metrics: dict[str, Any] = Field(
        default_factory=dict,
        description="Other measures, e.g. a rhythm-game note's judgement, error_ms and finger",
    )


class RepetitionBatch(Strict):
    repetitions: list[RepetitionIn] = Field(min_length=1, max_length=1000)


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    version: str


# --- exercise library ----------------------------------------------------------------------
class SensingOut(BaseModel):
    signal: str
    camera_view: str | None
    landmarks: list[str]
    imu_placement: str | None
    rest: float
    target: float
    unit: str
    max_velocity_deg_s: float | None


class LevelOut(BaseModel):
    level: int
    target_range_pct: float
    hold_s: float
    tempo_bpm: float
    beats_per_rep: int
    reps_per_set: int
    target: float = Field(description="Target signal value of the level, in sensing.unit")


class PrerequisiteOut(BaseModel):
    exercise: str
    level: int


class ReferenceOut(BaseModel):
    citation: str


class ExerciseOut(BaseModel):
    """One exercise of the library (docs/exercises.md)."""

    id: str
    name: str
    kind: str
    regions: list[str]
    laterality: str
    movement: str
    works_against: str | None
    positions: list[str]
    requires: list[str]
    modes: list[str]
    self_assist: bool
    sensing: SensingOut
    levels: list[LevelOut]
    steps: list[str]
    safety: list[str]
    contraindications: list[str]
    prerequisites: list[PrerequisiteOut]
    rationale: str
    references: list[ReferenceOut]
    diagram_url: str


# --- program -------------------------------------------------------------------------------
class ProgramItemOut(BaseModel):
    id: int
    position: int = Field(description="Order in the day (1 = first)")
    exercise_id: str
    name: str
    region: str
    mode: str
    side: str
    body_position: str | None
    sets: int
    reps: int
    total_reps: int
    level: int
    max_level: int
    hold_s: float
    tempo_bpm: float | None
    rest_s: int
    assisted_by: str | None
    max_velocity_deg_s: float | None
    rules: list[str]
    overridden_by_id: int | None
    note: str | None


class ProgramOut(BaseModel):
    id: int
    patient_id: int
    created_at: datetime
    created_by_id: int | None
    active: bool
    note: str | None
    daily_rep_target: int
    planned_reps: int
    items: list[ProgramItemOut]
    reasons: list[str] = Field(description="Every rule and therapist change that shaped it")
    overrides: dict[str, Any] = Field(description="Therapist overrides kept across rebuilds")


Reason = Annotated[str, Field(min_length=1, max_length=500, description="Why (shown to all)")]
Sets = Annotated[int, Field(ge=1, le=50)]
Reps = Annotated[int, Field(ge=1, le=100)]
LevelNumber = Annotated[int, Field(ge=1, le=50)]
RestSeconds = Annotated[int, Field(ge=0, le=600)]


class ProgramBuild(Strict):
    """(Re)build the program from the profile and the progress so far."""

    daily_rep_target: Annotated[int, Field(ge=0, le=2000)] | None = Field(
        default=None, description="Therapist's daily target; omit to keep the current one"
    )
    overrides: list[ItemOverride] | None = Field(
        default=None,
        max_length=100,
        description="Replace the stored overrides (docs/program.md); omit to keep them",
    )
    note: Annotated[str, Field(max_length=500)] | None = None


class ProgramItemChange(Strict):
    """A therapist's change to one item; the reason is recorded with their name."""

    reason: Reason
    mode: Mode | None = None
    side: Literal["left", "right", "both"] | None = None
    sets: Sets | None = None
    reps: Reps | None = None
    level: LevelNumber | None = None
    rest_s: RestSeconds | None = None


class ProgramItemAdd(Strict):
    """Add a library exercise to the program (side omitted = each affected side)."""

    exercise_id: Annotated[str, Field(min_length=1, max_length=80)]
    reason: Reason
    side: Literal["left", "right", "both"] | None = None
    mode: Mode | None = None
    sets: Sets | None = None
    reps: Reps | None = None
    level: LevelNumber | None = None
    rest_s: RestSeconds | None = None


# --- progress ------------------------------------------------------------------------------
class XpLevel(BaseModel):
    xp: int
    level: int
    xp_to_next: int


class StreakOut(BaseModel):
    current_days: int
    best_days: int
    last_day: date | None


class TodayOut(BaseModel):
    date: date
    reps: int
    target: int
    percent: int


class ExerciseProgressOut(BaseModel):
    exercise_id: str
    name: str
    side: str
    level: int
    max_level: int
    xp: int
    sets_done: int
    last_set_success: bool | None


class ProgressOut(BaseModel):
    overall: XpLevel
    limbs: dict[str, XpLevel] = Field(description="left_arm, right_arm, left_leg, right_leg, trunk")
    streak: StreakOut
    today: TodayOut
    exercises: list[ExerciseProgressOut]
    events: list[ProgressEventOut] = Field(description="Latest first")
