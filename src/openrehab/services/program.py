"""The patient's daily program, built from the stored profile and progress and persisted.

A program is always ``build_plan(profile, library, overrides, progress levels)``: the stored
:class:`~openrehab.store.models.Program` keeps the items, the reasons and the therapist's
overrides (in the planner's override shape, docs/program.md), so that rebuilding it (after
new progress or a new profile) keeps every therapist change that still applies. Only one
program per patient is active; older ones stay as history.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from openrehab.exercises.library import Library, load_library
from openrehab.exercises.schema import Exercise
from openrehab.program import rules
from openrehab.program.planner import (
    ItemOverride,
    Overrides,
    Plan,
    PlanError,
    build_plan,
)
from openrehab.program.profile import (
    PatientProfile,
    ProfileError,
    describe_validation_error,
    parse_profile,
)
from openrehab.services import NotFoundError, ServiceError
from openrehab.services import progress as progress_service
from openrehab.store.models import PatientProfile as ProfileRow
from openrehab.store.models import Program, ProgramItem, User
from openrehab.store.records import lock_patient

#: Keys of a stored override that are ours, not the planner's.
_META_KEYS = ("by", "by_name", "at")
_ITEM_INDEX = re.compile(r"items\[(\d+)\]")


# --- profile -------------------------------------------------------------------------------
def profile_data(row: ProfileRow | None) -> dict[str, Any]:
    """The stored profile in the program's profile shape (docs/profile.md)."""
    if row is None:
        return {}
    data: dict[str, Any] = {
        "affected_side": row.affected_side,
        "regions": row.regions or {},
        "can_sit_unsupported": row.can_sit_unsupported,
        "can_stand_safely": row.can_stand_safely,
        "hand_function": row.hand_function,
        "conditions": list(row.conditions or []),
        "other_conditions": list(row.other_conditions or []),
        "goals": list(row.goals or []),
        "daily_rep_target": row.daily_rep_target,
    }
    if row.pain_nrs is not None:
        data["pain_nrs"] = row.pain_nrs
    if row.equipment is not None:
        data["equipment"] = list(row.equipment)
    return data


def patient_profile(patient: User) -> PatientProfile:
    """The validated profile of ``patient``; :class:`ServiceError` says what is missing."""
    try:
        return parse_profile(profile_data(patient.profile), "profile")
    except ProfileError as exc:
        raise ServiceError(
            f"The clinical profile is not complete yet ({exc}); a therapist fills it in first.",
            field="profile",
        ) from None


def profile_problems(row: ProfileRow | None) -> list[str]:
    """Why the stored profile cannot be used to build a program (empty when it can)."""
    try:
        PatientProfile.model_validate(profile_data(row))
    except ValidationError as exc:
        return [part.strip() for part in describe_validation_error(exc).split(":", 1)[1].split(";")]
    return []


def store_profile(row: ProfileRow, profile: PatientProfile, equipment_given: bool) -> None:
    """Write a validated profile into its row (equipment None = the household defaults)."""
    data = profile.model_dump(mode="json")
    row.affected_side = data["affected_side"]
    row.regions = data["regions"]
    row.can_sit_unsupported = data["can_sit_unsupported"]
    row.can_stand_safely = data["can_stand_safely"]
    row.hand_function = data["hand_function"]
    row.conditions = data["conditions"]
    row.other_conditions = data["other_conditions"]
    row.pain_nrs = data["pain_nrs"]
    row.goals = data["goals"]
    row.equipment = data["equipment"] if equipment_given else None
    row.daily_rep_target = data["daily_rep_target"]


# --- reading -------------------------------------------------------------------------------
def active_program(db: Session, patient_id: int) -> Program | None:
    return db.scalar(
        select(Program)
        .where(Program.patient_id == patient_id, Program.active.is_(True))
        .order_by(Program.id.desc())
        .limit(1)
    )


def program_item(db: Session, patient_id: int, item_id: int) -> ProgramItem:
    """An item of the patient's active program (:class:`NotFoundError` otherwise)."""
    program = active_program(db, patient_id)
    item = db.get(ProgramItem, item_id)
    if program is None or item is None or item.program_id != program.id:
        raise NotFoundError(
            f"No item {item_id} in this patient's current program (it may have been rebuilt; "
            "reload it)."
        )
    return item


def planned_reps(program: Program) -> int:
    return sum(item.sets * item.reps for item in program.items)


# --- building ------------------------------------------------------------------------------
def _planner_change(stored: Mapping[str, Any]) -> ItemOverride:
    return ItemOverride.model_validate({k: v for k, v in stored.items() if k not in _META_KEYS})


def _plan(
    profile: PatientProfile,
    library: Library,
    stored: dict[str, Any],
    levels: Mapping[tuple[str, str], int],
    first_new: int,
) -> tuple[Plan, list[dict[str, Any]], list[str]]:
    """Build the plan applying the stored overrides; drop old ones that no longer apply.

    Overrides from index ``first_new`` on are the caller's new request: if one of those
    cannot be applied, :class:`ServiceError` names it instead of dropping it.
    """
    items = list(stored.get("items", []))
    dropped: list[str] = []
    while True:
        overrides = Overrides(
            daily_rep_target=stored.get("daily_rep_target"),
            items=[_planner_change(item) for item in items],
        )
        try:
            return build_plan(profile, library, overrides, levels), items, dropped
        except PlanError as exc:
            message = str(exc).removeprefix("overrides: ")
            match = _ITEM_INDEX.search(message)
            if match is None:
                raise ServiceError(message, field="overrides") from None
            index = int(match.group(1))
            if index >= first_new:
                new_index = index - first_new
                raise ServiceError(
                    _ITEM_INDEX.sub(f"items[{new_index}]", message, count=1),
                    field=f"overrides[{new_index}]",
                ) from None
            gone = items.pop(index)
            dropped.append(
                rules.OVERRIDE.cite(
                    f"An earlier therapist change ({gone['action']} {gone['exercise']}) no "
                    f"longer applies and was set aside: {message.split(': ', 1)[-1]}."
                )
            )


def build_program(
    db: Session,
    patient: User,
    *,
    by: User | None,
    note: str | None = None,
    daily_rep_target: int | None = None,
    set_target: bool = False,
    new_overrides: Sequence[Mapping[str, Any]] = (),
    replace_overrides: bool = False,
    library: Library | None = None,
) -> Program:
    """(Re)build and persist the patient's active program; the previous one is deactivated.

    Stored overrides are kept (``replace_overrides`` clears them first) and
    ``new_overrides`` (planner override dicts) are added after them. ``set_target`` replaces
    the therapist's daily repetition target with ``daily_rep_target`` (None = the profile's).
    An override's ``level`` sets the progress level (an explained event) rather than pinning
    the item, so progression carries on from there.
    """
    lock_patient(db, patient.id)
    library = library or load_library()
    profile = patient_profile(patient)
    previous = active_program(db, patient.id)
    stored: dict[str, Any] = {"daily_rep_target": None, "items": []}
    if previous is not None and previous.overrides:
        stored = {
            "daily_rep_target": previous.overrides.get("daily_rep_target"),
            "items": [] if replace_overrides else list(previous.overrides.get("items", [])),
        }
    elif replace_overrides:
        stored["items"] = []
    if set_target:
        stored["daily_rep_target"] = daily_rep_target
    first_new = len(stored["items"])
    now = datetime.now(UTC)
    level_changes: list[tuple[str, str | None, int, str | None]] = []
    for index, raw in enumerate(new_overrides):
        try:
            change = _planner_change(raw)
        except ValidationError as exc:
            raise ServiceError(
                describe_validation_error(exc, f"overrides[{index}]"), field=f"overrides[{index}]"
            ) from None
        for key, exercise_id in (
            ("exercise", change.exercise),
            ("replacement", change.replacement),
        ):
            if exercise_id is not None and exercise_id not in library:
                raise ServiceError(
                    f"unknown exercise {exercise_id!r} (see GET /api/exercises)",
                    field=f"overrides[{index}].{key}",
                )
        entry = change.model_dump(mode="json", exclude_none=True)
        if change.level is not None and change.action != "remove":
            target_id = change.replacement if change.action == "replace" else change.exercise
            assert target_id is not None
            level_changes.append((target_id, change.side, change.level, change.note))
            entry.pop("level")
        entry.update(
            {
                "by": by.id if by else None,
                "by_name": by.display_name if by else None,
                "at": now.isoformat(),
            }
        )
        stored["items"].append(entry)
    for exercise_id, side, level, why in level_changes:
        exercise = library.get(exercise_id)
        sides = [side] if side else _sides(profile, exercise.laterality)
        for one_side in sides:
            progress_service.set_level(
                db, patient.id, exercise_id, one_side, level, by=by, reason=why, library=library
            )
    levels = progress_service.progress_levels(db, patient.id)
    plan, kept, dropped = _plan(profile, library, stored, levels, first_new)
    db.execute(
        update(Program)
        .where(Program.patient_id == patient.id, Program.active.is_(True))
        .values(active=False)
    )
    program = Program(
        patient_id=patient.id,
        created_by_id=by.id if by else None,
        created_at=now,
        active=True,
        daily_rep_target=plan.daily_rep_target,
        reasons=[*plan.reasons, *dropped],
        overrides={"daily_rep_target": stored["daily_rep_target"], "items": kept},
        note=note,
    )
    for position, item in enumerate(plan.items, start=1):
        who = _overridden_by(kept, item.exercise, item.side) if "R14" in item.rules else None
        program.items.append(
            ProgramItem(
                position=position,
                exercise_id=item.exercise,
                mode=item.mode,
                side=item.side,
                sets=item.sets,
                reps=item.reps,
                level=item.level,
                rest_s=item.rest_s,
                body_position=item.position,
                hold_s=item.hold_s,
                tempo_bpm=item.tempo_bpm,
                assisted_by=item.assisted_by,
                max_velocity_deg_s=item.max_velocity_deg_s,
                rules=list(dict.fromkeys(item.rules)),
                overridden_by_id=who.get("by") if who else None,
                note=(who.get("note") if who else None) or item.note,
            )
        )
    db.add(program)
    db.flush()
    return program


def _sides(profile: PatientProfile, laterality: str) -> list[str]:
    return list(profile.sides) if laterality == "unilateral" else ["both"]


def _overridden_by(kept: Sequence[Mapping[str, Any]], exercise_id: str, side: str) -> dict | None:
    for entry in reversed(kept):
        target = entry.get("replacement") if entry["action"] == "replace" else entry["exercise"]
        if target == exercise_id and entry.get("side") in (None, side):
            return dict(entry)
    return None


# --- therapist changes to one item ---------------------------------------------------------
def override_item(
    db: Session,
    patient: User,
    item: ProgramItem,
    *,
    by: User,
    reason: str,
    mode: str | None = None,
    side: str | None = None,
    sets: int | None = None,
    reps: int | None = None,
    level: int | None = None,
    rest_s: int | None = None,
) -> Program:
    """Change one item (R14); recorded with who and why, kept across rebuilds."""
    library = load_library()
    exercise = library.get(item.exercise_id)
    _check_choices(exercise, mode, side, level)
    fields = {"mode": mode, "sets": sets, "reps": reps, "rest_s": rest_s, "level": level}
    fields = {k: v for k, v in fields.items() if v is not None}
    if side is not None and side != item.side:
        if any(i.exercise_id == item.exercise_id and i.side == side for i in item.program.items):
            raise ServiceError(f"{exercise.name} is already planned on the {side} side", "side")
        changes = [
            {"action": "remove", "exercise": item.exercise_id, "side": item.side, "note": reason},
            {
                "action": "add",
                "exercise": item.exercise_id,
                "side": side,
                "mode": fields.get("mode", item.mode),
                "sets": fields.get("sets", item.sets),
                "reps": fields.get("reps", item.reps),
                "rest_s": fields.get("rest_s", item.rest_s),
                "note": reason,
                **({"level": level} if level is not None else {}),
            },
        ]
    else:
        if not fields:
            raise ServiceError("Nothing to change: give mode, side, sets, reps, level or rest_s")
        changes = [
            {
                "action": "change",
                "exercise": item.exercise_id,
                "side": item.side,
                "note": reason,
                **fields,
            }
        ]
    return build_program(
        db,
        patient,
        by=by,
        note=f"Changed by {by.display_name}: {reason}",
        new_overrides=changes,
        library=library,
    )


def remove_item(db: Session, patient: User, item: ProgramItem, *, by: User, reason: str) -> Program:
    change = {"action": "remove", "exercise": item.exercise_id, "side": item.side, "note": reason}
    return build_program(
        db, patient, by=by, note=f"Changed by {by.display_name}: {reason}", new_overrides=[change]
    )


def add_item(
    db: Session,
    patient: User,
    *,
    by: User,
    exercise_id: str,
    reason: str,
    side: str | None = None,
    mode: str | None = None,
    sets: int | None = None,
    reps: int | None = None,
    level: int | None = None,
    rest_s: int | None = None,
) -> Program:
    """Add an exercise to the program (R14); side None = each affected side."""
    library = load_library()
    if exercise_id not in library:
        raise ServiceError(
            f"unknown exercise {exercise_id!r} (see GET /api/exercises)", field="exercise_id"
        )
    exercise = library.get(exercise_id)
    _check_choices(exercise, mode, side, level)
    lock_patient(db, patient.id)
    program = active_program(db, patient.id)
    if program is not None and any(
        i.exercise_id == exercise_id and side in (None, i.side) for i in program.items
    ):
        raise ServiceError(
            f"{exercise.name} is already in the program; change that item instead",
            field="exercise_id",
        )
    change = {
        "action": "add",
        "exercise": exercise_id,
        "side": side,
        "mode": mode,
        "sets": sets,
        "reps": reps,
        "level": level,
        "rest_s": rest_s,
        "note": reason,
    }
    return build_program(
        db,
        patient,
        by=by,
        note=f"Changed by {by.display_name}: {reason}",
        new_overrides=[{k: v for k, v in change.items() if v is not None}],
        library=library,
    )


def _check_choices(
    exercise: Exercise, mode: str | None, side: str | None, level: int | None
) -> None:
    """Refuse a mode, side or level that the exercise does not have (422 naming the field)."""
    if mode is not None and mode not in exercise.modes:
        raise ServiceError(
            f"{exercise.name} has no mode {mode!r}; it has {', '.join(exercise.modes)}",
            field="mode",
        )
    _check_side(exercise.laterality, side)
    if level is not None and level > exercise.max_level:
        raise ServiceError(f"{exercise.name} has levels 1 to {exercise.max_level}", field="level")


def _check_side(laterality: str, side: str | None) -> None:
    if side is None:
        return
    if laterality == "unilateral" and side not in ("left", "right"):
        raise ServiceError("this exercise is done on one side: give 'left' or 'right'", "side")
    if laterality != "unilateral" and side != "both":
        raise ServiceError("this exercise uses both sides (or the trunk): give 'both'", "side")


def rebuild_after_progress(db: Session, patient: User, why: Sequence[str]) -> Program | None:
    """Refresh the active program after a level change or unlock (keeps overrides).

    Nothing happens without an active program or with an incomplete profile.
    """
    if active_program(db, patient.id) is None:
        return None
    try:
        return build_program(
            db, patient, by=None, note="Updated after your progress: " + " ".join(why)
        )
    except ServiceError:
        return None
