"""Request and response bodies of the clinical API: assessments, therapies, pain, symptoms,
alerts (pydantic 2). Every field has limits; a rule that depends on the kind (a MAS grade for a
MAS assessment, muscles and units for an injection) is checked here, so a record that no
response model can show is never stored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from openrehab.services.clinical import MAS_GRADES
from openrehab.web.schemas import Note, ProgressEventOut, ShortText, Strict

Angle = Annotated[float, Field(ge=-360, le=360, allow_inf_nan=False)]
AssessmentKind = Literal["mas", "tardieu", "rom", "pain", "other"]
TherapyKind = Literal[
    "botulinum_toxin",
    "baclofen",
    "electrical_stimulation",
    "electro_acupuncture",
    "splint",
    "procedure",
    "other",
]


StimCondition = Literal[
    "pacemaker",
    "icd",
    "heart_disease",
    "dvt",
    "malignancy",
    "broken_skin",
    "impaired_sensation",
    "epilepsy",
]
StimSite = Literal[
    "anterior_neck",
    "chest",
    "upper_back",
    "abdomen",
    "low_back",
    "shoulder",
    "upper_arm",
    "forearm",
    "wrist_hand",
    "thigh",
    "lower_leg",
    "ankle_foot",
]
SiteCondition = Literal["dvt", "malignancy", "broken_skin", "impaired_sensation"]


class AssessmentIn(Strict):
    """One measurement of one muscle group or region on one side.

    ``mas``: ``value`` is the Modified Ashworth grade (0, 1, 1+, 2, 3, 4), stored with its
    ordinal code 0..5. ``tardieu``: ``r1_deg`` (catch angle at V3), ``r2_deg`` (passive range
    at V1), ``velocity`` (V1/V2/V3), ``quality_x`` (0-5) and the measured ``velocity_deg_s``.
    ``rom``: ``rom_deg`` from a goniometer or sensor. ``pain``: ``nrs`` 0-10.
    """

    kind: AssessmentKind
    region: Annotated[str, Field(min_length=1, max_length=40)]
    side: Literal["left", "right"]
    muscle: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    method: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    measured_at: datetime | None = None
    value: Annotated[str, Field(max_length=20)] | None = None
    r1_deg: Angle | None = None
    r2_deg: Angle | None = None
    rom_deg: Angle | None = None
    velocity: Literal["V1", "V2", "V3"] | None = None
    quality_x: Annotated[int, Field(ge=0, le=5)] | None = None
    velocity_deg_s: Annotated[float, Field(ge=0, le=3000, allow_inf_nan=False)] | None = None
    nrs: Annotated[int, Field(ge=0, le=10)] | None = None
    notes: Note | None = None

    # Field validators run on omitted fields too (validate_default): the error names the
    # field the kind needs, e.g. ["body", "value"] for a MAS assessment without a grade.
    @field_validator("value")
    @classmethod
    def _grade_for_mas(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind == "mas" and value not in MAS_GRADES:
            raise ValueError(f"a MAS assessment needs a grade: one of {', '.join(MAS_GRADES)}")
        if kind not in ("mas", "other", None) and value is not None:
            raise ValueError(f"value is for MAS grades and other notes, not for {kind}")
        return value

    @field_validator("rom_deg")
    @classmethod
    def _range_for_rom(cls, value: float | None, info: ValidationInfo) -> float | None:
        if info.data.get("kind") == "rom" and value is None:
            raise ValueError("a range-of-motion assessment needs rom_deg")
        return value

    @field_validator("nrs")
    @classmethod
    def _score_for_pain(cls, value: int | None, info: ValidationInfo) -> int | None:
        if info.data.get("kind") == "pain" and value is None:
            raise ValueError("a pain assessment needs nrs (0-10)")
        return value

    @model_validator(mode="after")
    def _tardieu_has_a_result(self) -> Self:
        if self.kind == "tardieu" and (self.r1_deg, self.r2_deg, self.quality_x) == (None,) * 3:
            raise ValueError("a Tardieu assessment needs r1_deg, r2_deg or quality_x")
        return self

    def store_fields(self) -> dict[str, Any]:
        """Columns and details of the stored :class:`Assessment`."""
        fields = self.model_dump(
            include={"kind", "region", "side", "muscle", "method", "measured_at", "value"}
            | {"r1_deg", "r2_deg", "rom_deg", "notes"}
        )
        if self.kind == "pain":
            fields["value"] = str(self.nrs)
        details = self.model_dump(include={"velocity", "quality_x", "velocity_deg_s"})
        fields["details"] = {key: value for key, value in details.items() if value is not None}
        return fields


class AssessmentOut(BaseModel):
    """A stored assessment, shown as stored (a list never fails on an old record)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    patient_id: int
    assessor_id: int | None
    measured_at: datetime
    kind: str
    region: str
    side: str
    muscle: str | None = None
    method: str | None = None
    value: str | None = None
    ordinal: int | None = Field(
        None, description="Ordinal code of an ordinal scale (MAS 0..5 for 0, 1, 1+, 2, 3, 4)"
    )
    r1_deg: float | None = None
    r2_deg: float | None = None
    rom_deg: float | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    notes: str | None = None


class PainReportIn(Strict):
    nrs: Annotated[int, Field(ge=0, le=10, description="Numeric rating scale, 0 = no pain")]
    location: Annotated[str, Field(max_length=60)] | None = None
    session_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    note: Note | None = None


class PainReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    patient_id: int
    reported_at: datetime
    nrs: int
    location: str | None = None
    session_id: int | None = None
    note: str | None = None
    withdrawn_at: datetime | None = Field(None, description="Set when the reporter undid it")


class SetJudgedAgainOut(BaseModel):
    set_id: int
    events: list[ProgressEventOut] = Field(description="The set's events now (as a set's end)")


class PainAdviceOut(BaseModel):
    """What to do now, in plain words (care.safety)."""

    model_config = ConfigDict(from_attributes=True)
    band: Literal["none", "mild", "moderate", "severe"]
    stop_set: bool
    stop_today: bool
    tell_therapist: bool
    ask_again_next_session: bool
    headline: str
    steps: list[str]
    urgent_signs: list[str]
    rule_ids: list[str]


class PainResultOut(PainReportOut):
    """The stored report, what to do now, and until when it can be undone."""

    advice: PainAdviceOut
    undo_until: datetime
    program_rebuilt: bool
    sets_judged_again: list[SetJudgedAgainOut] = Field(
        default_factory=list,
        description="When this score answers again for one undone within the last minutes and "
        "would not stop a set: the sets that score had stopped for pain, judged again without "
        "it (the level the pain took is back), with their new progress events",
    )


class DoseIn(Strict):
    time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM")]
    mg: Annotated[float, Field(gt=0, le=300, allow_inf_nan=False)]


class TherapyEventIn(Strict):
    """An add-on therapy. What each kind needs (docs/care.md):

    * ``botulinum_toxin``: ``muscles`` and ``units`` (``injector``, ``product`` optional);
    * ``baclofen``: ``route``; oral needs ``doses``, intrathecal ``next_refill_on``;
    * ``electrical_stimulation`` / ``electro_acupuncture``: ``site`` (checked for
      contraindications with the profile's conditions, ``conditions``, ``site_conditions``,
      ``pregnant`` and ``can_give_feedback``);
    * ``splint``: ``splint_name``, ``region`` and ``wear_hours_per_day`` (``worn_at``);
    * ``procedure``: ``procedure`` (history only).
    """

    kind: TherapyKind
    started_on: date
    ended_on: date | None = None
    muscles: list[ShortText] | None = Field(None, max_length=20)
    units: Annotated[float, Field(gt=0, le=1500, allow_inf_nan=False)] | None = None
    injector: ShortText | None = None
    product: ShortText | None = None
    route: Literal["oral", "intrathecal"] | None = None
    doses: list[DoseIn] | None = Field(None, max_length=8)
    next_refill_on: date | None = None
    site: StimSite | None = None
    site_conditions: list[SiteCondition] | None = Field(None, max_length=4)
    conditions: list[StimCondition] | None = Field(
        None, max_length=8, description="Known now, besides the profile's conditions"
    )
    pregnant: bool | None = None
    can_give_feedback: bool | None = None
    splint_name: ShortText | None = None
    region: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    wear_hours_per_day: Annotated[float, Field(gt=0, le=24, allow_inf_nan=False)] | None = None
    worn_at: Literal["night", "day", "both"] | None = None
    procedure: ShortText | None = None
    details: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=200)]] = (
        Field(default_factory=dict, max_length=20)
    )
    notes: Note | None = None

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Self:
        if self.ended_on is not None and self.ended_on < self.started_on:
            raise ValueError("ended_on must not be before started_on")
        for name in REQUIRED_BY_KIND.get(self.kind, ()):
            if getattr(self, name) in (None, []):
                raise ValueError(f"a {self.kind.replace('_', ' ')} record needs {name}")
        if self.kind == "baclofen" and self.route == "oral" and not self.doses:
            raise ValueError("oral baclofen needs doses (time and mg)")
        if self.kind == "baclofen" and self.route == "intrathecal" and not self.next_refill_on:
            raise ValueError("an intrathecal baclofen pump needs next_refill_on")
        return self

    def store_fields(self) -> dict[str, Any]:
        """Columns and details of the stored :class:`TherapyEvent`."""
        typed = self.model_dump(
            exclude={"kind", "started_on", "ended_on", "details", "notes"},
            exclude_none=True,
            mode="json",
        )
        return {
            "kind": self.kind,
            "started_on": self.started_on,
            "ended_on": self.ended_on,
            "notes": self.notes,
            "details": {**self.details, **typed},
        }


REQUIRED_BY_KIND: dict[str, tuple[str, ...]] = {
    "botulinum_toxin": ("muscles", "units"),
    "baclofen": ("route",),
    "electrical_stimulation": ("site",),
    "electro_acupuncture": ("site",),
    "splint": ("splint_name", "region", "wear_hours_per_day"),
    "procedure": ("procedure",),
}


class TherapyEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    patient_id: int
    kind: str
    started_on: date
    ended_on: date | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    notes: str | None = None


class TherapyResultOut(TherapyEventOut):
    """The stored therapy and what to keep in mind (a re-injection before 12 weeks,
    precautions of electrical stimulation)."""

    warnings: list[str] = Field(default_factory=list)


class SymptomsIn(Strict):
    about: Literal["botulinum_toxin", "splint"]
    symptoms: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        min_length=1, max_length=12
    )
    note: Note | None = None


class SymptomsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    patient_id: int
    about: str
    symptoms: list[str]
    reported_at: datetime
    note: str | None = None


class SymptomsResultOut(SymptomsOut):
    urgent: bool
    message: str


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: str
    severity: Literal["info", "warning", "urgent"]
    rule_id: str
    text: str = Field(description="Plain words for the patient, clinical words for clinicians")
    since: date
    region: str | None = None
    side: str | None = None
    action_href: str | None = None
    action_text: str | None = None
