"""The daily program (read; therapists rebuild and override it) and the progress overview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from openrehab.accounts.service import audit
from openrehab.exercises.library import load_library
from openrehab.services import NotFoundError, ServiceError
from openrehab.services import program as program_service
from openrehab.services import progress as progress_service
from openrehab.store.models import Program
from openrehab.web.deps import CurrentUser, Db, ObjectId, PatientPrescribe, PatientRead
from openrehab.web.schemas import (
    ProgramBuild,
    ProgramItemAdd,
    ProgramItemChange,
    ProgramItemOut,
    ProgramOut,
    ProgressEventOut,
    ProgressOut,
)

router = APIRouter(prefix="/api/patients/{patient_id}", tags=["program"])


def service_error(exc: ServiceError) -> HTTPException:
    """422 naming the field (409 when the profile is not complete yet)."""
    if exc.field == "profile":
        return HTTPException(status.HTTP_409_CONFLICT, detail=exc.message)
    loc = ["body", *exc.field.split(".")] if exc.field else ["body"]
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": loc, "msg": exc.message, "type": "value_error"}],
    )


def program_out(program: Program) -> ProgramOut:
    library = load_library()
    items = []
    for item in program.items:
        known = item.exercise_id in library
        exercise = library.get(item.exercise_id) if known else None
        items.append(
            ProgramItemOut(
                id=item.id,
                position=item.position,
                exercise_id=item.exercise_id,
                name=exercise.name if exercise else item.exercise_id,
                region=exercise.primary_region if exercise else "",
                mode=item.mode,
                side=item.side,
                body_position=item.body_position,
                sets=item.sets,
                reps=item.reps,
                total_reps=item.sets * item.reps,
                level=item.level,
                max_level=exercise.max_level if exercise else item.level,
                hold_s=item.hold_s,
                tempo_bpm=item.tempo_bpm,
                rest_s=item.rest_s,
                assisted_by=item.assisted_by,
                max_velocity_deg_s=item.max_velocity_deg_s,
                rules=list(item.rules or []),
                overridden_by_id=item.overridden_by_id,
                note=item.note,
            )
        )
    return ProgramOut(
        id=program.id,
        patient_id=program.patient_id,
        created_at=program.created_at,
        created_by_id=program.created_by_id,
        active=program.active,
        note=program.note,
        daily_rep_target=program.daily_rep_target,
        planned_reps=program_service.planned_reps(program),
        items=items,
        reasons=list(program.reasons or []),
        overrides=dict(program.overrides or {}),
    )


def _active(db: Db, patient_id: int) -> Program:
    program = program_service.active_program(db, patient_id)
    if program is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail="No program yet: a therapist builds it from the profile "
            "(POST /api/patients/{patient_id}/program).",
        )
    return program


@router.get("/program", response_model=ProgramOut)
def get_program(patient: PatientRead, db: Db) -> ProgramOut:
    """Today's program in order, with the reasons behind every item."""
    return program_out(_active(db, patient.id))


@router.post("/program", response_model=ProgramOut, status_code=status.HTTP_201_CREATED)
def build_program(
    patient: PatientPrescribe, user: CurrentUser, db: Db, body: ProgramBuild | None = None
) -> ProgramOut:
    """(Re)build the program from the profile and progress (therapists); keeps overrides."""
    body = body or ProgramBuild()
    try:
        program = program_service.build_program(
            db,
            patient,
            by=user,
            note=body.note or f"Built from the profile by {user.display_name}.",
            daily_rep_target=body.daily_rep_target,
            set_target="daily_rep_target" in body.model_fields_set,
            new_overrides=[o.model_dump(exclude_none=True) for o in body.overrides or []],
            replace_overrides=body.overrides is not None,
        )
    except ServiceError as exc:
        raise service_error(exc) from None
    audit(db, user, "program.build", "program", program.id)
    db.commit()
    return program_out(program)


@router.patch("/program/items/{item_id}", response_model=ProgramOut)
def change_item(
    item_id: ObjectId, body: ProgramItemChange, patient: PatientPrescribe, user: CurrentUser, db: Db
) -> ProgramOut:
    """Change one item (mode, side, sets, reps, level, rest); returns the updated program."""
    try:
        item = program_service.program_item(db, patient.id, item_id)
        program = program_service.override_item(
            db, patient, item, by=user, **body.model_dump(exclude_none=True)
        )
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except ServiceError as exc:
        raise service_error(exc) from None
    audit(db, user, "program.item.change", "program_item", item_id, {"reason": body.reason})
    db.commit()
    return program_out(program)


@router.delete("/program/items/{item_id}", response_model=ProgramOut)
def remove_item(
    item_id: ObjectId,
    patient: PatientPrescribe,
    user: CurrentUser,
    db: Db,
    reason: Annotated[str, Query(min_length=1, max_length=500)] = "Removed by the therapist",
) -> ProgramOut:
    """Remove one item; the removal stays across rebuilds. Returns the updated program."""
    try:
        item = program_service.program_item(db, patient.id, item_id)
        program = program_service.remove_item(db, patient, item, by=user, reason=reason)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except ServiceError as exc:
        raise service_error(exc) from None
    audit(db, user, "program.item.remove", "program_item", item_id, {"reason": reason})
    db.commit()
    return program_out(program)


@router.post("/program/items", response_model=ProgramOut, status_code=status.HTTP_201_CREATED)
def add_item(
    body: ProgramItemAdd, patient: PatientPrescribe, user: CurrentUser, db: Db
) -> ProgramOut:
    """Add a library exercise to the program; returns the updated program."""
    try:
        program = program_service.add_item(
            db, patient, by=user, **body.model_dump(exclude_none=True)
        )
    except ServiceError as exc:
        raise service_error(exc) from None
    audit(db, user, "program.item.add", "program", program.id, {"exercise": body.exercise_id})
    db.commit()
    return program_out(program)


@router.get("/progress", response_model=ProgressOut)
def get_progress(
    patient: PatientRead, db: Db, events: Annotated[int, Query(ge=0, le=200)] = 20
) -> ProgressOut:
    """Levels per exercise and side, limb and overall levels, streak, reps today vs target,
    and the latest events with their reasons ("Level 2 -> 3 because ...")."""
    data = progress_service.overview(db, patient, events_limit=events)
    data["events"] = [ProgressEventOut.model_validate(e) for e in data["events"]]
    return ProgressOut.model_validate(data)
