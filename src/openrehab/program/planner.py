"""Build a daily program from a patient profile and the exercise library.

``build_plan(profile, library, overrides=None, progress=None)`` applies the rules of
:mod:`openrehab.program.rules`, each implemented below as a small named function, and
returns a :class:`Plan` whose ``reasons`` quote every rule that shaped it. Not a medical
device: the plan is a conservative default that a therapist reviews and can override.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from openrehab.exercises.library import Library
from openrehab.exercises.schema import (
    LOWER_LIMB,
    REGIONS,
    UPPER_LIMB,
    Exercise,
    Mode,
    Position,
)
from openrehab.program import rules
from openrehab.program.profile import PatientProfile, RegionStatus, describe_validation_error
from openrehab.program.progression import prerequisite_level

PlanSide = Literal["left", "right", "both"]
AssistedBy = Literal["unaffected_side", "caregiver"]
#: Levels reached so far, per (exercise id, side). Missing = never practised.
ProgressLevels = Mapping[tuple[str, str], int]

MODE_ORDER: dict[str, int] = {"passive": 0, "stretch": 1, "active_assisted": 2, "active": 3}
FINE_MOTOR_SIGNALS = frozenset({"pinch_aperture", "finger_tapping"})
#: Motion signals that serve each goal (task-specific practice, Veerbeek et al. 2014).
GOAL_SIGNALS: dict[str, frozenset[str]] = {
    "reach": frozenset({"reach_distance", "shoulder_flexion", "elbow_flexion"}),
    "grasp_and_release": frozenset({"finger_flexion", "finger_extension", "pinch_aperture"}),
    "eating_drinking": frozenset({"hand_to_mouth_distance", "forearm_rotation"}),
    "dressing": frozenset({"shoulder_abduction", "shoulder_external_rotation", "trunk_rotation"}),
    "standing_up": frozenset({"sit_to_stand", "trunk_forward_lean", "knee_extension"}),
    "walking": frozenset({"ankle_dorsiflexion", "hip_flexion", "weight_shift", "heel_raise"}),
    "balance": frozenset({"weight_shift", "trunk_lateral_lean", "trunk_forward_lean"}),
    "reduce_stiffness": frozenset(),
}
MAX_SETS_PER_ITEM = 10
REST_BETWEEN_SETS_S = 60
REST_BETWEEN_STRETCH_HOLDS_S = 30
MODERATE_PAIN_NRS = 4  # Serlin et al. 1995: 1-4 mild, 5-6 moderate, 7-10 severe (4 kept as
SEVERE_PAIN_NRS = 7  # the conservative lower bound of "moderate" used in many clinics)


class PlanItem(BaseModel):
    """One line of the daily program."""

    model_config = ConfigDict(extra="forbid")

    exercise: str
    name: str
    region: str
    mode: Mode
    side: PlanSide
    position: Position
    sets: int = Field(ge=1, le=50)
    reps: int = Field(ge=1, le=100)
    level: int = Field(ge=1)
    hold_s: float = Field(ge=0)
    tempo_bpm: float = Field(gt=0)
    rest_s: int = Field(ge=0)
    assisted_by: AssistedBy | None = None
    max_velocity_deg_s: float | None = None
    rules: list[str] = Field(default_factory=list)  # ids of the rules behind it
    note: str | None = None

    @property
    def total_reps(self) -> int:
        return self.sets * self.reps


class Plan(BaseModel):
    """The daily program: items in order, the repetition target and why."""

    daily_rep_target: int
    items: list[PlanItem]
    reasons: list[str]

    @property
    def planned_reps(self) -> int:
        return sum(item.total_reps for item in self.items)

    def to_json(self) -> dict[str, Any]:
        """The CLI/API shape: ``{"daily_rep_target", "items": [...], "reasons": [...]}``."""
        return {
            "daily_rep_target": self.daily_rep_target,
            "planned_reps": self.planned_reps,
            "items": [item.model_dump(mode="json") for item in self.items],
            "reasons": list(self.reasons),
        }


class ItemOverride(BaseModel):
    """One therapist change. ``side`` None = every side the item is planned on."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["add", "remove", "replace", "change"]
    exercise: str
    side: PlanSide | None = None
    replacement: str | None = None
    mode: Mode | None = None
    sets: int | None = Field(default=None, ge=1, le=50)
    reps: int | None = Field(default=None, ge=1, le=100)
    level: int | None = Field(default=None, ge=1)
    rest_s: int | None = Field(default=None, ge=0, le=600)
    hold_s: float | None = Field(default=None, ge=0, le=120)
    tempo_bpm: float | None = Field(default=None, ge=10, le=200)
    note: str | None = None

    @model_validator(mode="after")
    def _replacement_when_replacing(self) -> ItemOverride:
        if self.action == "replace" and not self.replacement:
            raise ValueError("action 'replace' needs 'replacement' (an exercise id)")
        return self


class Overrides(BaseModel):
    """Therapist overrides applied after the rules (``docs/program.md``)."""

    model_config = ConfigDict(extra="forbid")

    daily_rep_target: int | None = Field(default=None, ge=0, le=2000)
    items: list[ItemOverride] = Field(default_factory=list)


class PlanError(ValueError):
    """Overrides refer to something that does not exist; one-line message."""


def parse_overrides(data: Any, source: str = "overrides") -> Overrides:
    try:
        return Overrides.model_validate(data)
    except ValidationError as exc:
        raise PlanError(describe_validation_error(exc, source)) from None


# --- region classification ---------------------------------------------------------------
def is_severe(status: RegionStatus) -> bool:
    """No active movement or MAS 3-4: passive and stretch work first (rule R3)."""
    return not status.active_movement or status.mas_rank >= 3


def stretch_allowed(profile: PatientProfile, status: RegionStatus) -> bool:
    """Rules R5/R8: no stretch into a painful region, with severe pain, or at MAS 4.

    MAS 4 (rigid) suggests contracture that needs a therapist's assessment rather than
    home stretching.
    """
    return not (status.painful or profile.pain_nrs >= SEVERE_PAIN_NRS or status.mas == "4")


def region_modes(profile: PatientProfile, status: RegionStatus) -> list[Mode]:
    """Rule R3: modes for a region, in the order they are planned."""
    stretch: list[Mode] = ["stretch"] if stretch_allowed(profile, status) else []
    if not status.active_movement:
        return ["passive", *stretch]
    if status.mas_rank >= 3:
        return ["passive", *stretch, "active_assisted"]
    if status.mas_rank >= 2:
        return [*stretch, "active"]
    return ["active"]


# --- exclusion rules: each returns None (allowed) or why not ---------------------------
def rule_standing_safety(profile: PatientProfile, exercise: Exercise) -> str | None:
    """R1: no standing exercise unless standing is safe."""
    needs_standing = "standing_balance" in exercise.requires or exercise.positions == ("standing",)
    if needs_standing and not profile.can_stand_safely:
        return "standing is not yet safe"
    return None


def rule_sitting_balance(profile: PatientProfile, exercise: Exercise) -> str | None:
    """R2: trunk work without a backrest only with sitting balance."""
    if "sitting_balance" in exercise.requires and not profile.can_sit_unsupported:
        return "sitting without support is not yet safe"
    return None


def rule_contraindications(profile: PatientProfile, exercise: Exercise) -> str | None:
    """R7: listed contraindications exclude the exercise."""
    clash = sorted(set(exercise.contraindications) & set(profile.conditions))
    return f"contraindicated with {', '.join(clash)}" if clash else None


def rule_equipment(profile: PatientProfile, exercise: Exercise) -> str | None:
    """R12: every piece of equipment must be at hand."""
    balance = {"standing_balance", "sitting_balance"}
    missing = sorted(set(exercise.requires) - balance - set(profile.equipment))
    return f"needs {', '.join(missing)}" if missing else None


def rule_unlocked(
    exercise: Exercise, side: str, progress: ProgressLevels, library: Library
) -> str | None:
    """R11: every prerequisite must have reached its level on this side."""
    missing = [
        f"{library.get(p.exercise).name} level {p.level}"
        for p in exercise.prerequisites
        if prerequisite_level(progress, p.exercise, side) < p.level
    ]
    return f"unlocks at {' and '.join(missing)}" if missing else None


def rule_active_capacity(profile: PatientProfile, exercise: Exercise, mode: str) -> str | None:
    """R3: active work only where every involved region it moves can do it.

    Active-assisted needs some voluntary movement in each region; fully active work also
    needs spasticity below MAS 3 there.
    """
    if mode not in ("active", "active_assisted"):
        return None
    for region in exercise.regions:
        status = profile.regions.get(region)  # type: ignore[call-overload]
        if status is None:
            continue
        if not status.active_movement:
            return f"needs active movement of the {region}"
        if mode == "active" and status.mas_rank >= 3:
            return f"{region} MAS {status.mas}: assisted or passive work first"
    return None


def rule_no_stretch_into_pain(profile: PatientProfile, exercise: Exercise, mode: str) -> str | None:
    """R5/R8: a stretch is not planned if any region it stretches forbids stretching."""
    if mode != "stretch":
        return None
    for region in exercise.regions:
        status = profile.regions.get(region)  # type: ignore[call-overload]
        if status is not None and not stretch_allowed(profile, status):
            return f"no stretching of the {region} now"
    if profile.pain_nrs >= SEVERE_PAIN_NRS:
        return f"pain {profile.pain_nrs}/10"
    return None


def rule_hand_function(profile: PatientProfile, exercise: Exercise, mode: str) -> str | None:
    """R13: fine motor work needs grasp and release."""
    limited = profile.hand_function in ("none", "grasp_only")
    if exercise.sensing.signal in FINE_MOTOR_SIGNALS and mode == "active" and limited:
        return "needs grasp and release first"
    return None


def rule_assisted_by(profile: PatientProfile, exercise: Exercise, mode: str) -> AssistedBy | None:
    """R6: assisted and passive modes use the unaffected side where it can do the job."""
    if mode == "active":
        return None
    if profile.unaffected_side is not None and exercise.self_assist:
        return "unaffected_side"
    return "caregiver"


def choose_position(profile: PatientProfile, exercise: Exercise) -> Position | None:
    """First listed position that is safe for this person (R1)."""
    for position in exercise.positions:
        if position == "standing" and not profile.can_stand_safely:
            continue
        return position
    return None


# --- dose ----------------------------------------------------------------------------
def effective_rep_target(profile: PatientProfile, overrides: Overrides | None) -> tuple[int, str]:
    """R9 with R8: the day's repetition target and the sentence explaining it."""
    if overrides is not None and overrides.daily_rep_target is not None:
        return overrides.daily_rep_target, rules.OVERRIDE.cite(
            f"Daily target set by the therapist to {overrides.daily_rep_target} repetitions."
        )
    base = profile.daily_rep_target
    if profile.pain_nrs >= SEVERE_PAIN_NRS:
        target = base // 4
        return target, rules.PAIN.cite(
            f"Pain {profile.pain_nrs}/10: daily target cut from {base} to {target}; "
            "please tell your clinician about this pain."
        )
    if profile.pain_nrs >= MODERATE_PAIN_NRS:
        target = base // 2
        return target, rules.PAIN.cite(
            f"Pain {profile.pain_nrs}/10: daily target halved from {base} to {target}."
        )
    return base, rules.DOSE.cite(f"Daily target: {base} repetitions.")


def _rest_s(mode: str) -> int:
    return REST_BETWEEN_STRETCH_HOLDS_S if mode == "stretch" else REST_BETWEEN_SETS_S


def _velocity_limit(exercise: Exercise, mode: str) -> float | None:
    """R5: stretch items carry the exercise's slow-stretch velocity limit."""
    return exercise.sensing.max_velocity_deg_s if mode == "stretch" else None


def _sides_for(profile: PatientProfile, exercise: Exercise) -> list[PlanSide]:
    if exercise.laterality != "unilateral":
        return ["both"]
    return list(profile.sides)  # type: ignore[arg-type]


# --- the planner ---------------------------------------------------------------------------
class _Builder:
    def __init__(self, profile: PatientProfile, library: Library, progress: ProgressLevels) -> None:
        self.profile = profile
        self.library = library
        self.progress = progress
        self.items: list[PlanItem] = []
        self.reasons: list[str] = []
        self.excluded: dict[str, list[str]] = {}  # rule id -> "Exercise name (why)"

    def _exclude(self, rule: rules.Rule, exercise: Exercise, why: str) -> None:
        entry = f"{exercise.name} ({why})"
        bucket = self.excluded.setdefault(rule.id, [])
        if entry not in bucket:
            bucket.append(entry)

    def allowed(self, exercise: Exercise, mode: Mode, side: str) -> Position | None:
        """Position to do it in, or None after recording which rule excluded it."""
        checks: list[tuple[rules.Rule, str | None]] = [
            (rules.STANDING_SAFETY, rule_standing_safety(self.profile, exercise)),
            (rules.SITTING_BALANCE, rule_sitting_balance(self.profile, exercise)),
            (rules.CONTRAINDICATION, rule_contraindications(self.profile, exercise)),
            (rules.EQUIPMENT, rule_equipment(self.profile, exercise)),
            (rules.PASSIVE_FIRST, rule_active_capacity(self.profile, exercise, mode)),
            (rules.PAIN, rule_no_stretch_into_pain(self.profile, exercise, mode)),
            (rules.HAND_FUNCTION, rule_hand_function(self.profile, exercise, mode)),
            (rules.UNLOCK, rule_unlocked(exercise, side, self.progress, self.library)),
        ]
        for rule, why in checks:
            if why is not None:
                self._exclude(rule, exercise, why)
                return None
        return choose_position(self.profile, exercise)

    def level_for(self, exercise: Exercise, side: str, mode: Mode) -> int:
        level = self.progress.get((exercise.id, side), 1)
        if mode == "stretch" and self.profile.pain_nrs >= MODERATE_PAIN_NRS:
            return 1  # R8: gentlest stretch while in pain
        return max(1, min(level, exercise.max_level))

    def add(self, exercise: Exercise, mode: Mode, region: str, rule_ids: list[str]) -> bool:
        added = False
        for side in _sides_for(self.profile, exercise):
            if any(i.exercise == exercise.id and i.side == side for i in self.items):
                continue
            position = self.allowed(exercise, mode, side)
            if position is None:
                continue
            level_number = self.level_for(exercise, side, mode)
            level = exercise.level(level_number)
            ids = list(rule_ids)
            assisted = rule_assisted_by(self.profile, exercise, mode)
            if assisted == "unaffected_side":
                ids.append(rules.SELF_ASSIST.id)
            if mode == "stretch":
                ids.append(rules.SLOW_STRETCH.id)
            self.items.append(
                PlanItem(
                    exercise=exercise.id,
                    name=exercise.name,
                    region=region,
                    mode=mode,
                    side=side,
                    position=position,
                    sets=1,
                    reps=level.reps_per_set,
                    level=level_number,
                    hold_s=level.hold_s,
                    tempo_bpm=level.tempo_bpm,
                    rest_s=_rest_s(mode),
                    assisted_by=assisted,
                    max_velocity_deg_s=_velocity_limit(exercise, mode),
                    rules=ids,
                )
            )
            added = True
        return added

    def candidates(self, region: str, mode: Mode) -> list[Exercise]:
        """Isolated exercises for ``region`` supporting ``mode``, best first.

        Preference: the region is the exercise's main one; it serves one of the person's
        goals; it is a progression (has prerequisites, so once unlocked it is the harder
        version); it works against a spastic pattern; then library order. Locked
        candidates are skipped by :meth:`allowed` (rule R11).
        """
        pool = [
            e
            for e in self.library
            if e.kind == "isolated" and region in e.regions and mode in e.modes
        ]
        goal_signals = {sig for goal in self.profile.goals for sig in GOAL_SIGNALS[goal]}
        return sorted(
            pool,
            key=lambda e: (
                e.primary_region != region,
                e.sensing.signal not in goal_signals,
                -len(e.prerequisites),  # an unlocked progression replaces its basics
                e.works_against is None,
            ),
        )

    def plan_region(self, region: str, status: RegionStatus) -> None:
        modes = region_modes(self.profile, status)
        severe = is_severe(status)
        detail = f"{region.capitalize()}: MAS {status.mas}, " + (
            "active movement present." if status.active_movement else "no active movement."
        )
        if severe:
            self.reasons.append(
                rules.PASSIVE_FIRST.cite(
                    f"{detail} Planned as {', then '.join(m.replace('_', '-') for m in modes)}."
                )
            )
        if "stretch" not in modes and not stretch_allowed(self.profile, status):
            why = (
                "painful region"
                if status.painful
                else (
                    f"pain {self.profile.pain_nrs}/10"
                    if self.profile.pain_nrs >= SEVERE_PAIN_NRS
                    else "MAS 4: ask your therapist to assess for contracture"
                )
            )
            self.reasons.append(rules.PAIN.cite(f"{region.capitalize()}: no stretching ({why})."))
        # Two active exercises per region for a focal problem, one when many regions are
        # involved, so that the day's list stays short enough to be done.
        few_regions = len(self.profile.regions) <= 3
        wanted = {
            "passive": 1,
            "stretch": 1,
            "active_assisted": 1,
            "active": 2 if few_regions else 1,
        }
        for mode in modes:
            count = 0
            for exercise in self.candidates(region, mode):
                if count >= wanted[mode]:
                    break
                rule_ids = [rules.PASSIVE_FIRST.id] if severe else []
                if self.add(exercise, mode, region, [*rule_ids, rules.DAILY_RANGE.id]):
                    count += 1
        gentle = [i for i in self.items if i.region == region and i.mode in ("passive", "stretch")]
        if severe and not gentle:
            self.reasons.append(
                rules.PASSIVE_FIRST.cite(
                    f"{region.capitalize()}: no passive or stretch exercise is safe for you in the "
                    "library; please ask your therapist to move this region with you."
                )
            )

    def plan_functional(self) -> None:
        """Functional tasks when every arm region they use can move actively (MAS <= 2)."""
        regions = self.profile.regions
        for exercise in self.library.by_region("functional"):
            used = [r for r in exercise.regions if r in regions]
            if not used or any(is_severe(regions[r]) for r in used):
                continue
            mode: Mode = "active" if "active" in exercise.modes else exercise.modes[0]
            self.add(exercise, mode, exercise.primary_region, [rules.ORDER.id])

    def top_up(self, target: int) -> None:
        """R9: add further active exercises while the target cannot fit in the plan.

        Each item is capped at ``MAX_SETS_PER_ITEM`` sets so one movement is not repeated
        to exhaustion; variety across exercises spreads the load.
        """

        def capacity() -> int:
            fixed = sum(
                i.reps * (2 if i.mode == "passive" else 1)
                for i in self.items
                if i.mode in ("passive", "stretch")
            )
            active = sum(
                i.reps * MAX_SETS_PER_ITEM
                for i in self.items
                if i.mode not in ("passive", "stretch")
            )
            return fixed + active

        active_regions = [
            r
            for r in REGIONS
            if r in self.profile.regions and not is_severe(self.profile.regions[r])  # type: ignore[index]
        ]
        progressed = True
        while capacity() < target and progressed:
            progressed = False
            for region in active_regions:
                if capacity() >= target:
                    break
                for exercise in self.candidates(region, "active"):
                    if any(i.exercise == exercise.id for i in self.items):
                        continue
                    if self.add(exercise, "active", region, [rules.DOSE.id, rules.DAILY_RANGE.id]):
                        progressed = True
                        break

    def ensure_daily_range(self) -> None:
        """R4: every involved region appears at least once (on every affected side)."""
        for region in self.profile.regions:
            sides = [
                s
                for s in self.profile.sides
                if not any(
                    region in self.library.get(i.exercise).regions and i.side in (s, "both")
                    for i in self.items
                )
            ]
            if not sides:
                continue
            # Fall back to passive range of motion, the gentlest way to move a region.
            for exercise in self.candidates(region, "passive"):
                self.add(exercise, "passive", region, [rules.DAILY_RANGE.id])
                if all(
                    any(
                        region in self.library.get(i.exercise).regions and i.side in (s, "both")
                        for i in self.items
                    )
                    for s in sides
                ):
                    break
            else:
                self.reasons.append(
                    rules.DAILY_RANGE.cite(
                        f"{region.capitalize()}: no safe home exercise found; please ask your "
                        "therapist to move this region with you daily."
                    )
                )

    def order(self) -> None:
        """R10: passive, stretch, assisted, active; functional last; head to toe."""
        region_rank = {r: i for i, r in enumerate(REGIONS)}

        def key(item: PlanItem) -> tuple[int, int, int, str]:
            functional = self.library.get(item.exercise).kind == "functional"
            return (functional, MODE_ORDER[item.mode], region_rank[item.region], item.side)

        self.items.sort(key=key)

    def dose(self, target: int) -> None:
        """R9: spread the repetition target over the active items."""
        fixed = [i for i in self.items if i.mode in ("passive", "stretch")]
        active = [i for i in self.items if i.mode not in ("passive", "stretch")]
        for item in fixed:
            item.sets = 2 if item.mode == "passive" else 1
        remaining = max(0, target - sum(i.total_reps for i in fixed))
        if active:
            share = remaining / len(active)
            for item in active:
                item.sets = max(1, min(MAX_SETS_PER_ITEM, round(share / item.reps)))


def build_plan(
    profile: PatientProfile,
    library: Library,
    overrides: Overrides | None = None,
    progress: ProgressLevels | None = None,
) -> Plan:
    """The daily program for ``profile`` (rules in :mod:`openrehab.program.rules`)."""
    builder = _Builder(profile, library, progress or {})
    target, target_reason = effective_rep_target(profile, overrides)
    for region in REGIONS:
        status = profile.regions.get(region)  # type: ignore[call-overload]
        if status is not None:
            builder.plan_region(region, status)
    builder.plan_functional()
    builder.top_up(target)
    builder.ensure_daily_range()
    builder.order()
    builder.dose(target)
    reasons = [target_reason]
    if not profile.can_stand_safely:
        standing = [
            e.name
            for e in library
            if set(e.regions) & set(profile.regions) and rule_standing_safety(profile, e)
        ]
        listed = f" Waiting for safe standing: {', '.join(standing)}." if standing else ""
        reasons.append(rules.STANDING_SAFETY.cite(f"No standing exercises are planned.{listed}"))
    if profile.unaffected_side is not None and any(
        i.assisted_by == "unaffected_side" for i in builder.items
    ):
        reasons.append(
            rules.SELF_ASSIST.cite(
                f"Your {profile.unaffected_side} side helps in the assisted and passive items."
            )
        )
    if any(i.mode == "stretch" for i in builder.items):
        reasons.append(
            rules.SLOW_STRETCH.cite(
                "Stretches: move slowly to a gentle stretch, hold, and stop at any pain."
            )
        )
    reasons.extend(builder.reasons)
    covered = sorted(
        {
            r
            for r in profile.regions
            if any(r in library.get(i.exercise).regions for i in builder.items)
        }
    )
    reasons.append(
        rules.DAILY_RANGE.cite(
            f"Moved every day: {', '.join(covered) if covered else 'nothing yet'}."
        )
    )
    reasons.append(rules.ORDER.cite("Items are listed in the order to do them."))
    exclusion_rules = (
        rules.STANDING_SAFETY,
        rules.SITTING_BALANCE,
        rules.CONTRAINDICATION,
        rules.EQUIPMENT,
        rules.PASSIVE_FIRST,
        rules.HAND_FUNCTION,
        rules.UNLOCK,
    )
    for rule in exclusion_rules:
        names = builder.excluded.get(rule.id)
        if names:
            reasons.append(rule.cite(f"Not planned: {'; '.join(names)}."))
    items = builder.items
    if overrides is not None and overrides.items:
        items, override_reasons = apply_overrides(
            items, overrides.items, profile, library, progress or {}
        )
        reasons.extend(override_reasons)
    planned = sum(i.total_reps for i in items)
    if planned < target:
        reasons.append(
            rules.DOSE.cite(
                f"Planned {planned} of {target} repetitions: more will be added as active "
                "movement and new exercises unlock."
            )
        )
    return Plan(daily_rep_target=target, items=items, reasons=reasons)


def _safety_warnings(profile: PatientProfile, exercise: Exercise) -> list[str]:
    warnings = [
        why
        for why in (
            rule_standing_safety(profile, exercise),
            rule_sitting_balance(profile, exercise),
            rule_contraindications(profile, exercise),
        )
        if why
    ]
    return warnings


def apply_overrides(
    items: Sequence[PlanItem],
    changes: Sequence[ItemOverride],
    profile: PatientProfile,
    library: Library,
    progress: ProgressLevels,
) -> tuple[list[PlanItem], list[str]]:
    """R14: apply therapist changes in order; each one is recorded as a reason.

    Overrides are applied even when they contradict a rule (the therapist decides), but
    the contradiction is written into the reasons so it is visible on the patient's page.
    """
    out = [item.model_copy() for item in items]
    reasons: list[str] = []
    for index, change in enumerate(changes):
        for exercise_id in (change.exercise, change.replacement):
            if exercise_id is not None and exercise_id not in library:
                key = "exercise" if exercise_id == change.exercise else "replacement"
                raise PlanError(
                    f"overrides: field 'items[{index}].{key}': unknown exercise {exercise_id!r}"
                )
        note = f" Note: {change.note}" if change.note else ""

        def matches(item: PlanItem, change: ItemOverride = change) -> bool:
            return item.exercise == change.exercise and change.side in (None, item.side)

        fields = {
            k: v
            for k, v in change.model_dump(
                include={"mode", "sets", "reps", "level", "rest_s", "hold_s", "tempo_bpm"}
            ).items()
            if v is not None
        }
        if change.action == "remove":
            before = len(out)
            out = [i for i in out if not matches(i)]
            what = "removed" if len(out) < before else "asked to remove (not in plan)"
            name = library.get(change.exercise).name
            reasons.append(rules.OVERRIDE.cite(f"Therapist {what}: {name}.{note}"))
            continue
        if change.action == "change":
            hit = [i for i in out if matches(i)]
            if not hit:
                raise PlanError(
                    f"overrides: field 'items[{index}].exercise': {change.exercise!r} is not "
                    "in the plan (use action 'add')"
                )
            for item in hit:
                for key, value in fields.items():
                    setattr(item, key, value)
                item.rules.append(rules.OVERRIDE.id)
            summary = ", ".join(f"{k}={v}" for k, v in fields.items()) or "nothing"
            reasons.append(
                rules.OVERRIDE.cite(
                    f"Therapist changed {library.get(change.exercise).name}: {summary}.{note}"
                )
            )
            continue
        # add / replace
        new_id = change.replacement if change.action == "replace" else change.exercise
        assert new_id is not None
        exercise = library.get(new_id)
        positions: list[PlanItem] = []
        if change.action == "replace":
            positions = [i for i in out if matches(i)]
            if not positions:
                raise PlanError(
                    f"overrides: field 'items[{index}].exercise': {change.exercise!r} is not "
                    "in the plan"
                )
        sides: list[str] = (
            [change.side]
            if change.side
            else [p.side for p in positions] or _sides_for(profile, exercise)  # type: ignore[list-item]
        )
        mode: Mode = change.mode or (
            positions[0].mode
            if positions and positions[0].mode in exercise.modes
            else exercise.modes[0]
        )
        if mode not in exercise.modes:
            raise PlanError(
                f"overrides: field 'items[{index}].mode': {exercise.id!r} has no mode {mode!r}"
            )
        new_items = []
        for side in dict.fromkeys(sides):
            level_number = change.level or progress.get((exercise.id, side), 1)
            level = exercise.level(level_number)
            item = PlanItem(
                exercise=exercise.id,
                name=exercise.name,
                region=exercise.primary_region,
                mode=mode,
                side=side,  # type: ignore[arg-type]
                position=choose_position(profile, exercise) or exercise.positions[0],
                sets=change.sets or (positions[0].sets if positions else 2),
                reps=change.reps or level.reps_per_set,
                level=level_number,
                hold_s=change.hold_s if change.hold_s is not None else level.hold_s,
                tempo_bpm=change.tempo_bpm or level.tempo_bpm,
                rest_s=change.rest_s if change.rest_s is not None else REST_BETWEEN_SETS_S,
                assisted_by=rule_assisted_by(profile, exercise, mode),
                max_velocity_deg_s=_velocity_limit(exercise, mode),
                rules=[rules.OVERRIDE.id],
                note=change.note,
            )
            new_items.append(item)
        if change.action == "replace":
            at = out.index(positions[0])
            out = [i for i in out if not matches(i)]
            out[at:at] = new_items
            verb = f"replaced {library.get(change.exercise).name} with {exercise.name}"
        else:
            out.extend(new_items)
            verb = f"added {exercise.name}"
        warnings = _safety_warnings(profile, exercise)
        caution = (
            (
                f" Caution: {'; '.join(warnings)}; planned on the therapist's decision, "
                "do it supervised."
            )
            if warnings
            else ""
        )
        reasons.append(rules.OVERRIDE.cite(f"Therapist {verb}.{caution}{note}"))
    return out, reasons


def involved_limbs(profile: PatientProfile) -> set[str]:
    """``arm``/``leg``/``trunk`` groups present in the profile (for summaries)."""
    regions = set(profile.regions)
    out = set()
    if regions & UPPER_LIMB:
        out.add("arm")
    if regions & LOWER_LIMB:
        out.add("leg")
    if "trunk" in regions:
        out.add("trunk")
    return out
