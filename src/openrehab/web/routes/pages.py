"""HTML pages: login, home (a patient's today page, or a carer's patient list), the patient's
today page with the program and progress (therapists override it here), the exercise library.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from openrehab.accounts.access import Action, can_access
from openrehab.accounts.service import (
    audit,
    issue_token,
    revoke_all_tokens,
    revoke_token,
    user_for_token,
)
from openrehab.accounts.service import login as account_login
from openrehab.accounts.throttle import ThrottledError
from openrehab.care import safety
from openrehab.clock import local_date
from openrehab.exercises.library import load_library
from openrehab.exercises.schema import REGIONS
from openrehab.services import care as care_service
from openrehab.services import notes as notes_service
from openrehab.services import program as program_service
from openrehab.services import progress as progress_service
from openrehab.store.models import (
    Assessment,
    ExerciseSession,
    PainReport,
    Role,
    User,
)
from openrehab.store.records import (
    latest_for_patient,
    rep_count,
)
from openrehab.web import care_words
from openrehab.web.care_context import alert_rows, pain_feedback, rest_today, speaker_name
from openrehab.web.deps import (
    COOKIE_NAME,
    Db,
    ObjectId,
    client_address,
    insecure_connection,
    optional_user,
    set_session_cookie,
)
from openrehab.web.errors import REFUSAL_CODES, record_refusal
from openrehab.web.patient_list import patient_list

router = APIRouter(include_in_schema=False)
MaybeUser = Annotated[User | None, Depends(optional_user)]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def error_page(
    request: Request, user: User | None, code: int, message: str, heading: str | None = None
) -> Response:
    """The friendly error page (``heading``: its title, else one for the code); a refusal
    (401, 403) is also written to the audit log."""
    if code in REFUSAL_CODES:
        record_refusal(
            request.app.state.session_factory,
            user.id if user else None,
            code,
            request.method,
            request.url.path,
            message,
        )
    return render(
        request,
        "error.html",
        status_code=code,
        user=user,
        code=code,
        message=message,
        heading=heading,
    )


REFUSED = {
    Action.read: "You do not have access to this person's records.",
    Action.record: "You cannot record exercises for this person.",
    Action.prescribe: "Only this person's therapist can do that.",
}


def page_patient(
    request: Request,
    user: User | None,
    db: Db,
    patient_id: int,
    action: Action,
    login_redirect: Callable[[Request], Response] | None = None,
) -> User | Response:
    """The patient a page is about when ``user`` may ``action`` them, else the page to show
    instead: the login, 403 when not allowed, 404 when the id is not a patient's."""
    if user is None:
        return (login_redirect or _login_redirect)(request)
    if not can_access(db, user, patient_id, action):
        return error_page(request, user, 403, REFUSED[action])
    patient = db.get(User, patient_id)
    if patient is None or patient.role is not Role.patient:
        return error_page(request, user, 404, "There is no such patient.")
    return patient


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
    return render(
        request,
        "login.html",
        next=_safe_next(next),
        error=None,
        user=None,
        insecure=insecure_connection(request),
    )


@router.post("/login")
def login(
    request: Request,
    db: Db,
    username: Annotated[str, Form(max_length=80)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    def again(code: int, error: str) -> Response:
        return render(
            request,
            "login.html",
            status_code=code,
            next=_safe_next(next),
            error=error,
            user=None,
            username=username,
            insecure=insecure_connection(request),
        )

    try:
        user = (
            account_login(db, username, password, client_address(request))
            if username and password
            else None
        )
    except ThrottledError as exc:
        return again(status.HTTP_429_TOO_MANY_REQUESTS, str(exc))
    if user is None:
        db.commit()
        return again(
            status.HTTP_401_UNAUTHORIZED,
            "That username and password do not match. Please try again.",
        )
    secret = issue_token(db, user, kind="cookie")
    audit(db, user, "login.browser", "user", user.id)
    db.commit()
    response = RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)
    set_session_cookie(response, request, secret)
    return response


@router.post("/logout")
def logout(
    request: Request, db: Db, everywhere: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    """Log out of this browser, or (``everywhere``) end every login of the account."""
    secret = request.cookies.get(COOKIE_NAME)
    user = user_for_token(db, secret) if secret else None
    if secret:
        revoke_token(db, secret)
    if user is not None and everywhere:
        ended = revoke_all_tokens(db, user)
        audit(db, user, "logout.everywhere", "user", user.id, {"tokens": ended})
    elif user is not None:
        audit(db, user, "logout", "user", user.id)
    db.commit()
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, user: MaybeUser) -> Response:
    """Who is logged in, and logging out here or everywhere."""
    if user is None:
        return _login_redirect(request)
    return render(request, "account.html", user=user)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    user: MaybeUser,
    db: Db,
    q: Annotated[str, Query(max_length=200)] = "",
    sort: Annotated[str, Query(max_length=40)] = "name",
    order: Annotated[str, Query(max_length=40)] = "",
    show: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    if user is None:
        return _login_redirect(request)
    if user.role is Role.patient:
        return patient_page_response(request, db, user, user)
    context = patient_list(db, user, q=q, sort=sort, order=order, show=show)
    return render(request, "patients.html", user=user, **context)


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(request: Request, patient_id: ObjectId, user: MaybeUser, db: Db) -> Response:
    patient = page_patient(request, user, db, patient_id, Action.read)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    return patient_page_response(request, db, user, patient)


MODE_WORDS = {
    "active": "on your own",
    "active_assisted": "with help",
    "passive": "moved for you",
    "stretch": "slow stretch",
}
HELPER_WORDS = {"unaffected_side": "your other side helps", "caregiver": "a carer helps"}
#: Events listed on the today page (the "+XP" line of every set would be clutter).
SHOWN_EVENTS = (
    "level_up",
    "level_down",
    "level_hold",
    "pain",
    "rest_prompt",
    "unlock",
    "limb_level_up",
    "overall_level_up",
    "therapist_level",
)


def _program_rows(program: Any) -> list[dict[str, Any]]:
    library = load_library()
    rows = []
    for item in program.items if program else []:
        exercise = library.get(item.exercise_id) if item.exercise_id in library else None
        rows.append(
            {
                "item": item,
                "exercise": exercise,
                "name": exercise.name if exercise else item.exercise_id,
                "mode_words": MODE_WORDS.get(item.mode, item.mode),
                "helper": HELPER_WORDS.get(item.assisted_by or ""),
                "max_level": exercise.max_level if exercise else item.level,
                "modes": exercise.modes if exercise else (item.mode,),
                "sides": (
                    ("left", "right")
                    if exercise is None or exercise.laterality == "unilateral"
                    else ("both",)
                ),
            }
        )
    return rows


def _event_rows(events: list[Any]) -> list[dict[str, Any]]:
    library = load_library()
    rows = []
    for event in events:
        name = None
        if event.exercise_id and event.exercise_id in library:
            name = library.get(event.exercise_id).name
        rows.append({"event": event, "name": name})
    return rows


def patient_page_response(
    request: Request,
    db: Db,
    user: User,
    patient: User,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    program = program_service.active_program(db, patient.id)
    target = care_service.daily_target(db, patient)
    overview = progress_service.overview(db, patient, daily_target=target.reps, events_limit=0)
    events = progress_service.recent_events(db, patient.id, 8, kinds=SHOWN_EVENTS)
    sessions = latest_for_patient(db, ExerciseSession, patient.id, ExerciseSession.started_at, 10)
    library = load_library()
    session_rows = [
        {
            "session": s,
            "sets": [
                (
                    st,
                    library.get(st.exercise_id).name
                    if st.exercise_id in library
                    else st.exercise_id,
                    rep_count(db, st.id),
                )
                for st in s.sets
            ],
        }
        for s in sessions
    ]
    pain = latest_for_patient(db, PainReport, patient.id, PainReport.reported_at, 5)
    assessments = latest_for_patient(db, Assessment, patient.id, Assessment.measured_at, 10)
    can_prescribe = can_access(db, user, patient.id, Action.prescribe)
    clinical = user.role in (Role.therapist, Role.admin)
    return render(
        request,
        "patient.html",
        status_code=status_code,
        user=user,
        patient=patient,
        today=overview["today"],
        overall=overview["overall"],
        limbs=overview["limbs"],
        streak=overview["streak"],
        program=program,
        planned=program_service.planned_reps(program) if program else 0,
        program_rows=_program_rows(program),
        event_rows=_event_rows(events),
        session_rows=session_rows,
        pain=pain,
        assessment_rows=[
            (
                a,
                (care_words.KIND_CLINICAL if clinical else care_words.KIND_PLAIN).get(
                    a.kind, a.kind
                ),
                care_words.where(a),
                care_words.assessment_result(a, clinical),
            )
            for a in assessments
        ],
        can_record=can_access(db, user, patient.id, Action.record),
        can_prescribe=can_prescribe,
        profile_problems=program_service.profile_problems(patient.profile) if can_prescribe else [],
        library_by_region=_library_by_region() if can_prescribe else [],
        mode_words=MODE_WORDS,
        error=error,
        target_raise=target.raise_,
        alerts=alert_rows(db, user, patient),
        pain_answer=pain_feedback(db, user, patient, request.query_params.get("pain")),
        rest_today=rest_today(db, user, patient),
        pain_question=safety.pain_question(speaker_name(user, patient)),
        notes=notes_service.notes_of(db, patient.id) if can_prescribe else [],
        report_from=(local_date() - timedelta(days=27)).isoformat(),
        report_to=local_date().isoformat(),
    )


def _library_by_region() -> list[tuple[str, list[Any]]]:
    library = load_library()
    groups = [(region, list(library.by_region(region))) for region in REGIONS]
    groups.append(("functional", list(library.by_region("functional"))))
    return [(region, sorted(exs, key=lambda e: e.name)) for region, exs in groups if exs]
