"""Pydantic schema of one exercise of the library.

Exercises are data (``data/*.yaml``), validated by these models at load time so that a
broken entry is reported with its file, field and reason instead of failing later in a
session. See ``docs/exercises.md`` for the field-by-field description.

Units: angles in degrees (``_deg``), durations in seconds (``_s``), tempo in beats per
minute (``_bpm``). ``Sensing.rest``/``Sensing.target`` are in the unit of the named motion
signal (``Sensing.unit``: ``deg``, ``m`` or ``norm``, from ``openrehab.motion.signals``);
for angle signals ``rest_deg``/``target_deg`` give the same values.
"""

from __future__ import annotations

import itertools
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from openrehab.motion.signals import SIGNAL_NAMES, SIGNALS, SignalSpec

Region = Literal["hand", "wrist", "forearm", "elbow", "shoulder", "trunk", "hip", "knee", "ankle"]
#: Regions in head-to-toe order (used for listings and for ordering a program).
REGIONS: tuple[Region, ...] = (
    "shoulder",
    "elbow",
    "forearm",
    "wrist",
    "hand",
    "trunk",
    "hip",
    "knee",
    "ankle",
)
UPPER_LIMB: frozenset[str] = frozenset({"shoulder", "elbow", "forearm", "wrist", "hand"})
LOWER_LIMB: frozenset[str] = frozenset({"hip", "knee", "ankle"})

Position = Literal["lying", "seated", "standing"]
Mode = Literal["active", "active_assisted", "passive", "stretch"]
#: Modes in which the limb is moved by someone or something else (caregiver, other hand).
ASSISTED_MODES: frozenset[str] = frozenset({"active_assisted", "passive", "stretch"})
Requirement = Literal[
    "standing_balance",  # can stand safely (holding a stable support)
    "sitting_balance",  # can sit without support
    "table",
    "chair_with_armrests",
    "sturdy_support",  # kitchen counter or a heavy chair to hold while standing
    "resistance_band",
    "towel",
    "soft_ball",
    "cup",
    "small_objects",
    "nmes_device",  # neuromuscular electrical stimulation unit, set up by a therapist
]
Condition = Literal[
    "pacemaker",
    "implanted_defibrillator",
    "epilepsy",
    "shoulder_subluxation",
    "shoulder_pain",
    "osteoporosis",
    "hip_precautions",  # after hip replacement: no flexion past 90 deg, no adduction
    "recent_fracture",
    "uncontrolled_hypertension",
    "skin_lesion",
    "pregnancy",
    # for the contraindication checks of electrical stimulation (care.therapies)
    "heart_disease",
    "dvt",  # deep vein thrombosis, not yet treated
    "malignancy",
    "impaired_sensation",
]
Kind = Literal["isolated", "functional"]
#: Modes whose movement is kept under the exercise's stretch velocity limit: a slow stretch,
#: and a limb moved by someone else (rule S3 of docs/care.md; Lance 1980: spastic resistance
#: grows with stretch velocity).
VELOCITY_LIMITED_MODES = ("stretch", "passive")
Laterality = Literal["unilateral", "bilateral", "midline"]
CameraView = Literal["front", "side", "top"]

_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Strict):
    """One difficulty level. Higher levels never ask for less.

    ``target_range_pct`` is the share of the exercise's full excursion (``Sensing.rest`` ->
    ``Sensing.target``) a rep must reach: expressing it as a percentage keeps levels
    comparable across angle, distance and normalised signals.
    """

    level: int = Field(ge=1)
    target_range_pct: float = Field(gt=0, le=100)
    hold_s: float = Field(ge=0, le=60)
    tempo_bpm: float = Field(ge=20, le=120)
    beats_per_rep: int = Field(default=4, ge=2, le=16)
    reps_per_set: int = Field(ge=1, le=50)


class Sensing(_Strict):
    """How a rep is sensed: the motion signal, view or IMU placement, rest and target."""

    signal: str
    camera_view: CameraView | None = None
    landmarks: tuple[str, ...] = ()
    imu_placement: str | None = None
    rest: float
    target: float
    #: Peak angular velocity allowed in ``stretch`` mode. Spastic reflex activity grows with
    #: stretch velocity (Lance 1980), so slow stretch stays well below it (Tardieu V1,
    #: "as slow as possible", Gracies 2005).
    max_velocity_deg_s: float | None = Field(default=None, gt=0, le=30)

    @field_validator("signal")
    @classmethod
    def _known_signal(cls, value: str) -> str:
        if value not in SIGNAL_NAMES:
            raise ValueError(
                f"unknown signal {value!r}; expected one of {', '.join(sorted(SIGNAL_NAMES))}"
            )
        return value

    @model_validator(mode="after")
    def _sensor_present(self) -> Sensing:
        if self.rest == self.target:
            raise ValueError("rest and target must differ (the rep has no excursion)")
        if self.camera_view is None and self.imu_placement is None:
            raise ValueError("give a camera_view or an imu_placement")
        if SIGNALS[self.signal].sensor == "imu" and self.imu_placement is None:
            raise ValueError(f"signal {self.signal!r} needs an IMU: give imu_placement")
        return self

    @property
    def unit(self) -> str:
        """Unit of ``rest``/``target`` (``deg``, ``m`` or ``norm``), from the signal."""
        return SIGNALS[self.signal].unit

    @property
    def rest_deg(self) -> float | None:
        return self.rest if self.unit == "deg" else None

    @property
    def target_deg(self) -> float | None:
        return self.target if self.unit == "deg" else None


class Prerequisite(_Strict):
    """Unlock rule: ``exercise`` must have reached ``level`` (on the same side)."""

    exercise: str
    level: int = Field(ge=1)


class Reference(_Strict):
    """A clinical source: who, when, where. Only details we are sure of."""

    citation: str = Field(min_length=5)


class Exercise(_Strict):
    """One exercise of the library (see ``docs/exercises.md``)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)
    name: str = Field(min_length=3, max_length=80)
    kind: Kind = "isolated"
    regions: tuple[Region, ...] = Field(min_length=1)
    laterality: Laterality = "unilateral"
    movement: str = Field(min_length=3)
    works_against: str | None = None
    positions: tuple[Position, ...] = Field(min_length=1)
    requires: tuple[Requirement, ...] = ()
    modes: tuple[Mode, ...] = Field(min_length=1)
    #: The other (unaffected) hand or leg can move the limb in assisted/passive modes.
    self_assist: bool = False
    sensing: Sensing
    levels: tuple[Level, ...] = Field(min_length=1)
    steps: tuple[str, ...] = Field(min_length=1, max_length=3)
    safety: tuple[str, ...] = Field(min_length=1)
    contraindications: tuple[Condition, ...] = ()
    prerequisites: tuple[Prerequisite, ...] = ()
    rationale: str = Field(min_length=10)
    references: tuple[Reference, ...] = ()

    @field_validator("steps")
    @classmethod
    def _short_steps(cls, steps: tuple[str, ...]) -> tuple[str, ...]:
        # Steps are read aloud: each is one short sentence, three at most in total.
        sentences = sum(max(1, len(_SENTENCE_END.findall(step.strip()))) for step in steps)
        if sentences > 3:
            raise ValueError(f"at most 3 short sentences in total, found {sentences}")
        for step in steps:
            if len(step) > 120:
                raise ValueError(f"step longer than 120 characters: {step[:40]!r}...")
        return steps

    @field_validator("levels")
    @classmethod
    def _ordered_levels(cls, levels: tuple[Level, ...]) -> tuple[Level, ...]:
        for index, level in enumerate(levels, start=1):
            if level.level != index:
                raise ValueError(
                    f"levels must be numbered 1, 2, 3...; found {level.level} at position {index}"
                )
        for lower, higher in itertools.pairwise(levels):
            never_less = (
                higher.target_range_pct >= lower.target_range_pct
                and higher.hold_s >= lower.hold_s
                and higher.reps_per_set >= lower.reps_per_set
            )
            harder = (
                higher.target_range_pct > lower.target_range_pct
                or higher.hold_s > lower.hold_s
                or higher.reps_per_set > lower.reps_per_set
                or higher.tempo_bpm != lower.tempo_bpm
            )
            if not (never_less and harder):
                raise ValueError(
                    f"level {higher.level} must be at least as hard as level {lower.level} "
                    "(range, hold and reps never decrease, one of them increases)"
                )
        return levels

    @model_validator(mode="after")
    def _consistent(self) -> Exercise:
        stretch = "stretch" in self.modes
        if stretch and (self.sensing.unit != "deg" or self.sensing.max_velocity_deg_s is None):
            raise ValueError("stretch mode needs an angle signal and sensing.max_velocity_deg_s")
        if (
            "standing" in self.positions
            and len(self.positions) == 1
            and ("standing_balance" not in self.requires)
        ):
            raise ValueError("a standing-only exercise must require standing_balance")
        if any(p.exercise == self.id for p in self.prerequisites):
            raise ValueError("an exercise cannot be its own prerequisite")
        return self

    # --- derived values -------------------------------------------------------------
    @property
    def primary_region(self) -> Region:
        return self.regions[0]

    @property
    def max_level(self) -> int:
        return len(self.levels)

    def level(self, number: int) -> Level:
        """Level ``number``, clamped to the exercise's range."""
        return self.levels[min(max(number, 1), self.max_level) - 1]

    def level_target(self, number: int) -> float:
        """Target signal value of a level, in ``sensing.unit``."""
        pct = self.level(number).target_range_pct / 100.0
        return self.sensing.rest + pct * (self.sensing.target - self.sensing.rest)

    def signal_spec(self, side: str | None, mode: str, level: int = 1) -> SignalSpec:
        """What the motion engine should count for this exercise on ``side``."""
        velocity = self.sensing.max_velocity_deg_s if mode in VELOCITY_LIMITED_MODES else None
        deg = self.sensing.unit == "deg"
        return SignalSpec(
            signal=self.sensing.signal,
            side=side if side in ("left", "right") else None,  # type: ignore[arg-type]
            max_velocity_deg_s=velocity,
            rest_deg=self.sensing.rest if deg else None,
            target_deg=self.level_target(level) if deg else None,
        )

    def public_dict(self) -> dict[str, object]:
        """Plain JSON-ready dict (the CLI ``--json`` and web API shape)."""
        data = self.model_dump(mode="json")
        data["sensing"]["unit"] = self.sensing.unit
        for level in data["levels"]:
            level["target"] = round(self.level_target(level["level"]), 3)
        return data
