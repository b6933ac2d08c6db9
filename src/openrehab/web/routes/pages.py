"""HTML pages: login, home (a patient's own day, or a carer's patient list), patient page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from openrehab.accounts.access import Action, can_access, linked_patient_ids
from openrehab.accounts.service import (
    COOKIE_TOKEN_LIFETIME,
    audit,
    authenticate,
    issue_token,
    revoke_token,
)
from openrehab.store.models import (
    Assessment,
    ExerciseSession,
    PainReport,
    Role,
    User,
)
from openrehab.store.records import last_session_start, rep_count, reps_on_day
from openrehab.web.deps import COOKIE_NAME, Db, ObjectId, optional_user

router = APIRouter(include_in_schema=False)
MaybeUser = Annotated[User | None, Depends(optional_user)]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def error_page(request: Request, user: User | None, code: int, message: str) -> Response:
    return render(request, "error.html", status_code=code, user=user, code=code, message=message)


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={request.url.path}", status.HTTP_303_SEE_OTHER)


def _safe_next(next_path: str | None) -> str:
    # Only local paths, so the login form cannot be used to bounce users to another site.
    if next_path and next_path.startswith("/") and not next_path.startswith("//"):
        return next_path
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, user: MaybeUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)
    return render(request, "login.html", next=_safe_next(next), error=None, user=None)


@router.post("/login")
def login(
    request: Request,
    db: Db,
    username: Annotated[str, Form(max_length=80)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    user = authenticate(db, username, password) if username and password else None
    if user is None:
        audit(db, None, "login.failed", "user", None, {"username": username[:80]})
        db.commit()
        return render(
            request,
            "login.html",
            status_code=status.HTTP_401_UNAUTHORIZED,
            next=_safe_next(next),
            error="That username and password do not match. Please try again.",
            user=None,
            username=username,
        )
    secret = issue_token(db, user, kind="cookie")
    audit(db, user, "login.browser", "user", user.id)
    db.commit()
    response = RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE_NAME,
        secret,
        max_age=int(COOKIE_TOKEN_LIFETIME.total_seconds()),
        httponly=True,
        secure=_secure_cookie(request),
        samesite="lax",
        path="/",
    )
    return response


def _secure_cookie(request: Request) -> bool:
    # Browsers treat localhost as a secure context, so Secure cookies work there over HTTP too;
    # elsewhere the flag follows the scheme (a clinic serves over HTTPS behind a proxy).
    host = request.url.hostname or ""
    return request.url.scheme == "https" or host in {"localhost", "127.0.0.1", "::1"}


@router.post("/logout")
def logout(request: Request, db: Db) -> Response:
    secret = request.cookies.get(COOKIE_NAME)
    if secret:
        revoke_token(db, secret)
        db.commit()
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: MaybeUser, db: Db) -> Response:
    if user is None:
        return _login_redirect(request)
    if user.role is Role.patient:
        return _patient_page(request, db, user, user)
    ids = linked_patient_ids(db, user)
    patients = (
        list(db.scalars(select(User).where(User.id.in_(ids)).order_by(User.display_name)))
        if ids
        else []
    )
    rows = [
        {
            "patient": p,
            "reps_today": reps_on_day(db, p.id),
            "target": p.profile.daily_rep_target if p.profile else 300,
            "last_session_at": last_session_start(db, p.id),
        }
        for p in patients
    ]
    return render(request, "patients.html", user=user, rows=rows)


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(request: Request, patient_id: ObjectId, user: MaybeUser, db: Db) -> Response:
    if user is None:
        return _login_redirect(request)
    patient = db.get(User, patient_id)
    if not can_access(db, user, patient_id, Action.read):
        return error_page(request, user, 403, "You do not have access to this person's records.")
    if patient is None or patient.role is not Role.patient:
        return error_page(request, user, 404, "There is no such patient.")
    return _patient_page(request, db, user, patient)


def _patient_page(request: Request, db: Db, user: User, patient: User) -> Response:
    target = patient.profile.daily_rep_target if patient.profile else 300
    reps_today = reps_on_day(db, patient.id)
    sessions = list(
        db.scalars(
            select(ExerciseSession)
            .where(ExerciseSession.patient_id == patient.id)
            .order_by(ExerciseSession.started_at.desc())
            .limit(10)
        )
    )
    session_rows = [
        {
            "session": s,
            "sets": [(st, rep_count(db, st.id)) for st in s.sets],
        }
        for s in sessions
    ]
    pain = list(
        db.scalars(
            select(PainReport)
            .where(PainReport.patient_id == patient.id)
            .order_by(PainReport.reported_at.desc())
            .limit(5)
        )
    )
    assessments = list(
        db.scalars(
            select(Assessment)
            .where(Assessment.patient_id == patient.id)
            .order_by(Assessment.measured_at.desc())
            .limit(10)
        )
    )
    return render(
        request,
        "patient.html",
        user=user,
        patient=patient,
        reps_today=reps_today,
        target=target,
        percent=min(100, round(100 * reps_today / target)) if target else 100,
        session_rows=session_rows,
        pain=pain,
        assessments=assessments,
        can_record=can_access(db, user, patient.id, Action.record),
    )


@router.post("/patients/{patient_id}/pain")
def report_pain(
    request: Request,
    patient_id: ObjectId,
    user: MaybeUser,
    db: Db,
    nrs: Annotated[int, Form(ge=0, le=10)],
) -> Response:
    if user is None:
        return _login_redirect(request)
    if not can_access(db, user, patient_id, Action.record):
        return error_page(request, user, 403, "You cannot report pain for this person.")
    db.add(PainReport(patient_id=patient_id, reported_by_id=user.id, nrs=nrs))
    audit(db, user, "pain.report", "patient", patient_id, {"nrs": nrs})
    db.commit()
    target = "/" if user.id == patient_id else f"/patients/{patient_id}"
    return RedirectResponse(target + "?pain=saved", status.HTTP_303_SEE_OTHER)
