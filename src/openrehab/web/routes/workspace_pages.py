"""The therapist's workspace pages: a new patient (and caregiver) with a printable first-login
sheet, the clinical profile form, the people linked to a patient, and the admin's page of
therapists and assignments. The rules are those of ``services.onboarding``; the forms are
validated by the same models as the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from openrehab.accounts.access import Action
from openrehab.accounts.service import audit
from openrehab.exercises.schema import REGIONS
from openrehab.services import NotFoundError, ServiceError, notes, onboarding
from openrehab.services import program as program_service
from openrehab.store.models import CareLink, LinkKind, Role, User
from openrehab.store.models import PatientProfile as ProfileRow
from openrehab.web import profile_form
from openrehab.web.deps import Db, ObjectId
from openrehab.web.routes.care_pages import form_reader
from openrehab.web.routes.pages import MaybeUser, _login_redirect, error_page, page_patient, render

router = APIRouter(include_in_schema=False)
#: The profile form has about 80 fields (9 regions x 4, the condition, goal and equipment
#: boxes); a post with more is refused before it is parsed.
MAX_PROFILE_FIELDS = 150


ProfileFields = Annotated[dict[str, list[str]], Depends(form_reader(MAX_PROFILE_FIELDS))]
Name = Annotated[str, Form(max_length=200)]
Username = Annotated[str, Form(max_length=80)]


def _sheet(
    request: Request, user: User, accounts: list[onboarding.NewAccount], **context: Any
) -> Response:
    """The printable first-login sheet (rendered once, straight from the POST: the passwords
    are not stored anywhere the page could be fetched again)."""
    return render(
        request,
        "first_login.html",
        status_code=status.HTTP_201_CREATED,
        user=user,
        accounts=accounts,
        address=str(request.base_url).rstrip("/"),
        **context,
    )


def _clinician(request: Request, user: User | None) -> Response | None:
    if user is None:
        return _login_redirect(request)
    if user.role not in (Role.therapist, Role.admin):
        return error_page(request, user, 403, "Only therapists and admins can add patients.")
    return None


def _therapists(db: Db) -> list[User]:
    return list(
        db.scalars(select(User).where(User.role == Role.therapist).order_by(User.display_name))
    )


# --- a new patient -------------------------------------------------------------------------
@router.get("/patients/new", response_class=HTMLResponse)
def new_patient_form(request: Request, user: MaybeUser, db: Db) -> Response:
    refusal = _clinician(request, user)
    if refusal is not None:
        return refusal
    return render(
        request, "patient_new.html", user=user, form={}, error=None, therapists=_therapists(db)
    )


@router.post("/patients/new")
def new_patient(
    request: Request,
    user: MaybeUser,
    db: Db,
    display_name: Name = "",
    username: Username = "",
    therapist_id: Annotated[str, Form(max_length=12)] = "",
    caregiver_name: Name = "",
    caregiver_username: Username = "",
) -> Response:
    """Create the patient (and caregiver); show their first-login sheet."""
    refusal = _clinician(request, user)
    if refusal is not None:
        return refusal
    assert user is not None
    try:
        patient, caregiver = onboarding.onboard_patient(
            db,
            user,
            display_name=display_name,
            username=username,
            therapist_id=int(therapist_id) if therapist_id.isdigit() else None,
            caregiver_name=caregiver_name,
            caregiver_username=caregiver_username,
        )
    except ServiceError as exc:
        db.rollback()
        form = {
            "display_name": display_name,
            "username": username,
            "therapist_id": therapist_id,
            "caregiver_name": caregiver_name,
            "caregiver_username": caregiver_username,
        }
        return render(
            request,
            "patient_new.html",
            status_code=422,
            user=user,
            form=form,
            error=exc.message,
            therapists=_therapists(db),
        )
    db.commit()
    accounts = [patient] + ([caregiver] if caregiver else [])
    return _sheet(request, user, accounts, patient=patient.user, next_step="profile")


# --- the clinical profile ------------------------------------------------------------------
def _profile_page(
    request: Request,
    user: User,
    patient: User,
    values: dict[str, Any],
    errors: list[str],
    code: int = 200,
) -> Response:
    return render(
        request,
        "profile_form.html",
        status_code=code,
        user=user,
        patient=patient,
        v=values,
        errors=errors,
        regions=REGIONS,
        mas_grades=profile_form.MAS_GRADES,
        conditions=profile_form.CONDITIONS,
        goals=profile_form.GOALS,
        equipment=profile_form.EQUIPMENT,
        hand_functions=profile_form.HAND_FUNCTIONS,
        words=profile_form.words,
        goal_words=profile_form.goal_words,
    )


@router.get("/patients/{patient_id}/profile", response_class=HTMLResponse)
def profile_page(request: Request, patient_id: ObjectId, user: MaybeUser, db: Db) -> Response:
    patient = page_patient(request, user, db, patient_id, Action.prescribe)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    values = profile_form.form_values(program_service.profile_data(patient.profile))
    return _profile_page(request, user, patient, values, [])


@router.post("/patients/{patient_id}/profile")
def save_profile(
    request: Request, patient_id: ObjectId, user: MaybeUser, db: Db, fields: ProfileFields
) -> Response:
    """Save the profile; with ``then=build`` also (re)build the program from it."""
    patient = page_patient(request, user, db, patient_id, Action.prescribe)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    data, equipment_given = profile_form.posted_profile(fields)
    try:
        profile = profile_form.validate(data)
    except ValidationError as exc:
        values = profile_form.form_values(data)
        return _profile_page(request, user, patient, values, profile_form.problems(exc), 422)
    if patient.profile is None:
        patient.profile = ProfileRow()
    program_service.store_profile(patient.profile, profile, equipment_given)
    audit(db, user, "profile.update", "patient", patient.id, {"via": "page"})
    if (fields.get("then") or [""])[0] == "build":
        try:
            program = program_service.build_program(
                db, patient, by=user, note=f"Built from the profile by {user.display_name}."
            )
        except ServiceError as exc:
            db.rollback()
            values = profile_form.form_values(data)
            return _profile_page(request, user, patient, values, [exc.message], 422)
        audit(db, user, "program.build", "program", program.id)
        db.commit()
        return RedirectResponse(f"/patients/{patient.id}?program=built#program-h", 303)
    db.commit()
    return RedirectResponse(f"/patients/{patient.id}?profile=saved#program-h", 303)


# --- people linked to a patient ------------------------------------------------------------
def _people_page(
    request: Request, db: Db, user: User, patient: User, error: str | None = None, code: int = 200
) -> Response:
    links = list(
        db.scalars(select(CareLink).where(CareLink.patient_id == patient.id).order_by(CareLink.id))
    )
    people = [(link, db.get_one(User, link.carer_id)) for link in links]
    return render(
        request,
        "people.html",
        status_code=code,
        user=user,
        patient=patient,
        caregivers=[(link, u) for link, u in people if link.kind is LinkKind.caregiver],
        therapists=[(link, u) for link, u in people if link.kind is LinkKind.therapist],
        error=error,
    )


@router.get("/patients/{patient_id}/people", response_class=HTMLResponse)
def people_page(request: Request, patient_id: ObjectId, user: MaybeUser, db: Db) -> Response:
    patient = page_patient(request, user, db, patient_id, Action.prescribe)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    return _people_page(request, db, user, patient)


@router.post("/patients/{patient_id}/people/caregivers")
def add_caregiver(
    request: Request,
    patient_id: ObjectId,
    user: MaybeUser,
    db: Db,
    display_name: Name = "",
    username: Username = "",
    existing: Username = "",
) -> Response:
    """Link an existing caregiver (``existing`` username) or create a new one (sheet)."""
    patient = page_patient(request, user, db, patient_id, Action.prescribe)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    try:
        if existing.strip():
            onboarding.link_caregiver(db, user, patient, existing)
            db.commit()
            return RedirectResponse(f"/patients/{patient.id}/people?linked=1", 303)
        caregiver = onboarding.add_caregiver(
            db, user, patient, display_name=display_name, username=username
        )
    except ServiceError as exc:
        db.rollback()
        return _people_page(request, db, user, patient, exc.message, 422)
    db.commit()
    return _sheet(request, user, [caregiver], patient=patient, next_step="people")


@router.post("/patients/{patient_id}/people/{link_id}/remove")
def remove_caregiver(
    request: Request, patient_id: ObjectId, link_id: ObjectId, user: MaybeUser, db: Db
) -> Response:
    patient = page_patient(request, user, db, patient_id, Action.prescribe)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    try:
        onboarding.unlink_caregiver(db, user, patient, link_id)
    except NotFoundError as exc:
        return _people_page(request, db, user, patient, str(exc), 404)
    db.commit()
    return RedirectResponse(f"/patients/{patient.id}/people?removed=1", 303)


@router.post("/patients/{patient_id}/people/{account_id}/first-login")
def reset_first_login(
    request: Request, patient_id: ObjectId, account_id: ObjectId, user: MaybeUser, db: Db
) -> Response:
    """A new temporary password for the patient or one of their caregivers (a new sheet)."""
    patient = page_patient(request, user, db, patient_id, Action.prescribe)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    linked = db.scalar(
        select(CareLink.id).where(
            CareLink.patient_id == patient.id,
            CareLink.carer_id == account_id,
            CareLink.kind == LinkKind.caregiver,
        )
    )
    target = db.get(User, account_id) if account_id == patient.id or linked else None
    if target is None:
        return _people_page(request, db, user, patient, "That account is not this person's.", 404)
    try:
        account = onboarding.new_first_login(db, user, target)
    except ServiceError as exc:
        return _people_page(request, db, user, patient, exc.message, 403)
    db.commit()
    return _sheet(request, user, [account], patient=patient, next_step="people", reset=True)


# --- notes ---------------------------------------------------------------------------------
@router.post("/patients/{patient_id}/notes")
def add_note(
    request: Request,
    patient_id: ObjectId,
    user: MaybeUser,
    db: Db,
    text: Annotated[str, Form(max_length=notes.MAX_NOTE_CHARS + 100)] = "",
) -> Response:
    """A therapist's note about the patient (shown to clinicians, listed in the report)."""
    patient = page_patient(request, user, db, patient_id, Action.prescribe)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    try:
        notes.add_note(db, patient, user, text)
    except ServiceError as exc:
        return error_page(request, user, 422, exc.message)
    db.commit()
    return RedirectResponse(f"/patients/{patient.id}?note=added#notes-h", 303)
