"""Request and response bodies of the JSON API (pydantic 2).

Limits on every field (lengths, ranges) are part of the contract: they turn nonsense input into
a 422 with a reason instead of a database error.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Side = Literal["left", "right", "both"]
LimbSide = Literal["left", "right", "both", "none"]
MAS_GRADES = ("0", "1", "1+", "2", "3", "4")
ShortText = Annotated[str, Field(min_length=1, max_length=80)]
Note = Annotated[str, Field(max_length=2000)]
Seconds = Annotated[float, Field(ge=0, le=86_400)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False, ge=-1e9, le=1e9)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)


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


class RegionStatus(Strict):
    mas: Literal["0", "1", "1+", "2", "3", "4"]
    active_movement: bool = True


class ProfileIn(Strict):
    affected_side: Side = "left"
    regions: dict[Annotated[str, Field(max_length=40)], RegionStatus] = Field(
        default_factory=dict, max_length=30
    )
    conditions: list[ShortText] = Field(default_factory=list, max_length=30)
    can_sit_unsupported: bool = True
    can_stand_safely: bool = False
    hand_function: Annotated[str, Field(max_length=40)] | None = None
    pain_nrs: Annotated[int, Field(ge=0, le=10)] | None = None
    goals: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20
    )
    daily_rep_target: Annotated[int, Field(ge=0, le=5000)] = 300


class ProfileOut(ProfileIn):
    model_config = ConfigDict(extra="ignore", from_attributes=True)
    regions: dict[str, Any] = Field(default_factory=dict)  # stored JSON, returned as is
    conditions: list[Any] = Field(default_factory=list)
    goals: list[Any] = Field(default_factory=list)
    updated_at: datetime | None = None


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


class SetCreate(Strict):
    exercise_id: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z0-9_\-]+$")]
    side: LimbSide
    mode: Literal["active", "active_assisted", "passive", "stretch"] = "active"
    level: Annotated[int, Field(ge=1, le=1000)] = 1
    target_reps: Annotated[int, Field(ge=0, le=10_000)] | None = None


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


class RepetitionIn(Strict):
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

    @field_validator("end_s")
    @classmethod
    def _end_after_start(cls, end_s: float, info: Any) -> float:
        start_s = info.data.get("start_s")
        if start_s is not None and end_s < start_s:
            raise ValueError("end_s must not be before start_s")
        return end_s


class RepetitionOut(RepetitionIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")
    id: int
    set_id: int
    index: int


class RepetitionBatch(Strict):
    repetitions: list[RepetitionIn] = Field(min_length=1, max_length=1000)


class AssessmentIn(Strict):
    kind: Literal["mas", "tardieu", "rom", "other"]
    region: Annotated[str, Field(min_length=1, max_length=40)]
    side: Literal["left", "right"]
    value: Annotated[str, Field(max_length=20)] | None = None
    r1_deg: Annotated[float, Field(ge=-360, le=360, allow_inf_nan=False)] | None = None
    r2_deg: Annotated[float, Field(ge=-360, le=360, allow_inf_nan=False)] | None = None
    notes: Note | None = None

    @field_validator("value")
    @classmethod
    def _mas_grade(cls, value: str | None, info: Any) -> str | None:
        if info.data.get("kind") == "mas" and value not in MAS_GRADES:
            raise ValueError(f"MAS grade must be one of {', '.join(MAS_GRADES)}")
        return value


class AssessmentOut(AssessmentIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")
    id: int
    patient_id: int
    assessor_id: int | None
    measured_at: datetime


class TherapyEventIn(Strict):
    kind: Literal["botulinum_toxin", "baclofen", "electrical_stimulation", "splint", "other"]
    started_on: date
    ended_on: date | None = None
    details: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=200)]] = (
        Field(default_factory=dict, max_length=20)
    )
    notes: Note | None = None

    @field_validator("ended_on")
    @classmethod
    def _ends_after_start(cls, ended_on: date | None, info: Any) -> date | None:
        started_on = info.data.get("started_on")
        if ended_on is not None and started_on is not None and ended_on < started_on:
            raise ValueError("ended_on must not be before started_on")
        return ended_on


class TherapyEventOut(TherapyEventIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")
    id: int
    patient_id: int


class PainReportIn(Strict):
    nrs: Annotated[int, Field(ge=0, le=10, description="Numeric rating scale, 0 = no pain")]
    location: Annotated[str, Field(max_length=60)] | None = None
    session_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    note: Note | None = None


class PainReportOut(PainReportIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")
    id: int
    patient_id: int
    reported_at: datetime


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    version: str
