"""The admin's page of therapists and assignments: create a therapist (first-login sheet),
give a patient a therapist, end an assignment (``services.onboarding``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from openrehab.services import NotFoundError, ServiceError, onboarding
from openrehab.store.models import CareLink, LinkKind, Role, User
from openrehab.web.deps import Db, ObjectId
from openrehab.web.routes.pages import MaybeUser, _login_redirect, error_page, render
from openrehab.web.routes.workspace_pages import _sheet

router = APIRouter(include_in_schema=False)
IdField = Annotated[str, Form(max_length=12)]


def _admin(request: Request, user: User | None) -> Response | None:
    if user is None:
        return _login_redirect(request)
    if user.role is not Role.admin:
        return error_page(request, user, 403, "Only admins manage therapists.")
    return None


def _page(
    request: Request, db: Db, user: User, error: str | None = None, code: int = 200
) -> Response:
    therapists = list(
        db.scalars(select(User).where(User.role == Role.therapist).order_by(User.display_name))
    )
    patients = list(
        db.scalars(select(User).where(User.role == Role.patient).order_by(User.display_name))
    )
    counts = dict(
        db.execute(
            select(CareLink.carer_id, func.count(CareLink.id))
            .where(CareLink.kind == LinkKind.therapist)
            .group_by(CareLink.carer_id)
        ).all()
    )
    links = list(db.scalars(select(CareLink).where(CareLink.kind == LinkKind.therapist)))
    names = {u.id: u for u in therapists + patients}
    assignments = sorted(
        ((link, names[link.patient_id], names[link.carer_id]) for link in links),
        key=lambda row: (row[1].display_name.lower(), row[2].display_name.lower()),
    )
    return render(
        request,
        "admin_people.html",
        status_code=code,
        user=user,
        therapists=[(t, counts.get(t.id, 0)) for t in therapists],
        patients=patients,
        assignments=assignments,
        error=error,
    )


@router.get("/admin/people", response_class=HTMLResponse)
def people(request: Request, user: MaybeUser, db: Db) -> Response:
    refusal = _admin(request, user)
    if refusal is not None:
        return refusal
    assert user is not None
    return _page(request, db, user)


@router.post("/admin/therapists")
def add_therapist(
    request: Request,
    user: MaybeUser,
    db: Db,
    display_name: Annotated[str, Form(max_length=200)] = "",
    username: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    refusal = _admin(request, user)
    if refusal is not None:
        return refusal
    assert user is not None
    try:
        account = onboarding.create_therapist(
            db, user, display_name=display_name, username=username
        )
    except ServiceError as exc:
        db.rollback()
        return _page(request, db, user, exc.message, 422)
    db.commit()
    return _sheet(request, user, [account], patient=None, next_step="admin")


@router.post("/admin/assignments")
def assign(
    request: Request, user: MaybeUser, db: Db, patient_id: IdField = "", therapist_id: IdField = ""
) -> Response:
    refusal = _admin(request, user)
    if refusal is not None:
        return refusal
    assert user is not None
    try:
        onboarding.assign_patient(
            db,
            user,
            int(patient_id) if patient_id.isdigit() else None,
            int(therapist_id) if therapist_id.isdigit() else None,
        )
    except ServiceError as exc:
        db.rollback()
        return _page(request, db, user, exc.message, 422)
    db.commit()
    return RedirectResponse("/admin/people?assigned=1#assignments-h", 303)


@router.post("/admin/assignments/{link_id}/remove")
def unassign(request: Request, link_id: ObjectId, user: MaybeUser, db: Db) -> Response:
    refusal = _admin(request, user)
    if refusal is not None:
        return refusal
    assert user is not None
    try:
        onboarding.unassign_patient(db, user, link_id)
    except NotFoundError as exc:
        return _page(request, db, user, str(exc), 404)
    db.commit()
    return RedirectResponse("/admin/people?removed=1#assignments-h", 303)
