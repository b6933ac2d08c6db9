"""The therapist's program forms on a patient's page: build from the profile, change or remove
an item, add a library exercise (each with its reason, audited). The page itself is
``pages.patient_page_response``; a refused or invalid form shows it again with the reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from openrehab.accounts.access import Action
from openrehab.accounts.service import audit
from openrehab.services import NotFoundError, ServiceError
from openrehab.services import program as program_service
from openrehab.store.models import User
from openrehab.web.deps import Db, ObjectId
from openrehab.web.routes.pages import MaybeUser, error_page, page_patient, patient_page_response

router = APIRouter(include_in_schema=False)


def _prescriber(request: Request, db: Db, user: User | None, patient_id: int) -> User | Response:
    """The patient when ``user`` may prescribe for them, else the response to send."""
    return page_patient(request, user, db, patient_id, Action.prescribe)


def _reason(reason: str) -> str:
    """The therapist's reason for a change, which every change must give (it is shown)."""
    if not reason.strip():
        raise ServiceError("Please say why (it is shown with the change).", "reason")
    return reason.strip()


def _int_field(value: str, name: str, low: int, high: int) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise ServiceError(f"{name} must be a whole number", name) from None
    if not low <= number <= high:
        raise ServiceError(f"{name} must be between {low} and {high}", name)
    return number


def _after_change(patient_id: int, what: str) -> RedirectResponse:
    return RedirectResponse(f"/patients/{patient_id}?program={what}#program-h", 303)


@router.post("/patients/{patient_id}/program")
def build_program_form(
    request: Request,
    patient_id: ObjectId,
    user: MaybeUser,
    db: Db,
    daily_rep_target: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Therapist: build (or rebuild) the program from the profile."""
    patient = _prescriber(request, db, user, patient_id)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    try:
        target = _int_field(daily_rep_target, "daily_rep_target", 0, 2000)
        program = program_service.build_program(
            db,
            patient,
            by=user,
            note=f"Built from the profile by {user.display_name}.",
            daily_rep_target=target,
            set_target=target is not None,
        )
    except ServiceError as exc:
        db.rollback()
        return patient_page_response(request, db, user, patient, error=exc.message, status_code=422)
    audit(db, user, "program.build", "program", program.id)
    db.commit()
    return _after_change(patient_id, "built")


@router.post("/patients/{patient_id}/program/items/{item_id}")
def change_item_form(
    request: Request,
    patient_id: ObjectId,
    item_id: ObjectId,
    user: MaybeUser,
    db: Db,
    reason: Annotated[str, Form(max_length=500)] = "",
    action: Annotated[str, Form(max_length=10)] = "change",
    mode: Annotated[str, Form(max_length=30)] = "",
    side: Annotated[str, Form(max_length=10)] = "",
    sets: Annotated[str, Form(max_length=10)] = "",
    reps: Annotated[str, Form(max_length=10)] = "",
    level: Annotated[str, Form(max_length=10)] = "",
    rest_s: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Therapist: change or remove one item (the reason is recorded with their name)."""
    patient = _prescriber(request, db, user, patient_id)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    try:
        reason = _reason(reason)
        item = program_service.program_item(db, patient.id, item_id)
        if action == "remove":
            program = program_service.remove_item(db, patient, item, by=user, reason=reason)
        else:
            changes = {
                "mode": mode or None,
                "sets": _int_field(sets, "sets", 1, 50),
                "reps": _int_field(reps, "reps", 1, 100),
                "level": _int_field(level, "level", 1, 50),
                "rest_s": _int_field(rest_s, "rest_s", 0, 600),
            }
            # The form shows the current values: only what differs is an override.
            current = {
                "mode": item.mode,
                "sets": item.sets,
                "reps": item.reps,
                "level": item.level,
                "rest_s": item.rest_s,
            }
            changes = {k: v for k, v in changes.items() if v is not None and v != current[k]}
            if side and side != item.side:
                changes["side"] = side
            program = program_service.override_item(
                db, patient, item, by=user, reason=reason, **changes
            )
    except NotFoundError as exc:
        return error_page(request, user, 404, str(exc))
    except ServiceError as exc:
        db.rollback()
        return patient_page_response(request, db, user, patient, error=exc.message, status_code=422)
    audit(db, user, f"program.item.{action}", "program_item", item_id, {"reason": reason})
    db.commit()
    return _after_change(patient_id, "changed" if program else "unchanged")


@router.post("/patients/{patient_id}/program/items")
def add_item_form(
    request: Request,
    patient_id: ObjectId,
    user: MaybeUser,
    db: Db,
    exercise_id: Annotated[str, Form(max_length=80)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    side: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Therapist: add a library exercise to the program."""
    patient = _prescriber(request, db, user, patient_id)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    try:
        reason = _reason(reason)
        program = program_service.add_item(
            db,
            patient,
            by=user,
            exercise_id=exercise_id,
            reason=reason,
            side=side or None,
        )
    except ServiceError as exc:
        db.rollback()
        return patient_page_response(request, db, user, patient, error=exc.message, status_code=422)
    audit(db, user, "program.item.add", "program", program.id, {"exercise": exercise_id})
    db.commit()
    return _after_change(patient_id, "added")
