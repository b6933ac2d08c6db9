"""Care pages: the pain tap (what to do now, undo for a minute), a patient's care page
(alerts, treatments, tests and their trends, a timeline) with the therapist's forms, and the
caseload's alerts. Forms are validated by the same models as the API."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from openrehab.accounts.access import Action, can_access, linked_patient_ids
from openrehab.accounts.service import audit
from openrehab.care import safety, stim, therapies
from openrehab.clock import local_date, local_zone
from openrehab.exercises.schema import REGIONS
from openrehab.services import care as care_service
from openrehab.services import clinical
from openrehab.services import timeline as timeline_service
from openrehab.services.practice_trends import practice_trends
from openrehab.store.models import Assessment, PainReport, Role, TherapyEvent, User
from openrehab.store.records import latest_for_patient
from openrehab.web import care_words, charts
from openrehab.web.care_context import alert_rows, speaker_name
from openrehab.web.care_schemas import AssessmentIn, SymptomsIn, TherapyEventIn
from openrehab.web.deps import Db, ObjectId
from openrehab.web.routes.pages import MaybeUser, _login_redirect, error_page, page_patient, render

router = APIRouter(include_in_schema=False)
MAX_FORM_FIELDS = 60


def form_reader(max_fields: int) -> Callable[[Request], Awaitable[dict[str, list[str]]]]:
    """A dependency giving every field of a posted form as lists (checkboxes repeat a name),
    stripped; a form of more than ``max_fields`` fields is refused before it is parsed."""

    async def read(request: Request) -> dict[str, list[str]]:
        form = await request.form(max_files=0, max_fields=max_fields)
        fields: dict[str, list[str]] = defaultdict(list)
        for key, value in form.multi_items():
            if isinstance(value, str):
                fields[key].append(value.strip())
        return fields

    return read


Fields = Annotated[dict[str, list[str]], Depends(form_reader(MAX_FORM_FIELDS))]


def _one(fields: dict[str, list[str]], *names: str) -> dict[str, str]:
    """The named single-value fields that were filled in."""
    return {name: fields[name][0] for name in names if fields.get(name) and fields[name][0]}


#: The care forms' fields as the form labels them.
FIELD_WORDS = {
    "value": "Grade",
    "r1_deg": "R1, catch angle",
    "r2_deg": "R2, passive range",
    "rom_deg": "Range",
    "nrs": "Pain score",
    "started_on": "Date",
    "ended_on": "End date",
    "measured_at": "Date",
    "units": "Units",
    "muscles": "Muscles",
    "site": "Site",
    "refill_due": "Refill date",
}


def problem(exc: ValidationError) -> str:
    """A validation error in a sentence: the field as the form names it and what is wrong,
    in words (not the validator's pattern or a field path like ``doses.0.time``)."""
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    reason = str(error["msg"]).removeprefix("Value error, ")
    if loc[:1] == ["doses"] and len(loc) >= 2 and loc[1].isdigit():
        field = f"Dose {int(loc[1]) + 1}" + (f" {loc[2]}" if len(loc) > 2 else "")
        if error["type"] == "string_pattern_mismatch":
            reason = "write the time as hours:minutes on the 24-hour clock, for example 08:00"
    elif loc:
        field = FIELD_WORDS.get(loc[0], loc[0].replace("_", " ").capitalize())
    else:
        return reason[:1].upper() + reason[1:]
    return f"{field}: {reason}"


# --- pain ----------------------------------------------------------------------------------
def _back_to(user: User, patient_id: int) -> str:
    return "/" if user.id == patient_id else f"/patients/{patient_id}"


@router.post("/patients/{patient_id}/pain")
def report_pain(
    request: Request,
    patient_id: ObjectId,
    user: MaybeUser,
    db: Db,
    nrs: Annotated[int, Form(ge=0, le=10)],
) -> Response:
    """A pain tap: stored, fed to the profile, answered with what to do now (care.safety)."""
    patient = page_patient(request, user, db, patient_id, Action.record)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    result = clinical.record_pain(db, patient, user, nrs)
    db.commit()
    target = f"{_back_to(user, patient_id)}?pain={result.report.id}#pain-answer-h"
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


@router.post("/patients/{patient_id}/pain/{report_id}/undo")
def undo_pain(
    request: Request, patient_id: ObjectId, report_id: ObjectId, user: MaybeUser, db: Db
) -> Response:
    """Undo a mis-tapped pain score (its reporter, within a minute)."""
    patient = page_patient(request, user, db, patient_id, Action.record)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    try:
        clinical.withdraw_pain(db, patient, user, report_id)
    except clinical.ClinicalError as exc:
        db.rollback()
        return error_page(request, user, exc.status, str(exc))
    db.commit()
    return RedirectResponse(
        f"{_back_to(user, patient_id)}?pain=undone#pain-h", status.HTTP_303_SEE_OTHER
    )


# --- the care page -------------------------------------------------------------------------
def _trends(assessments: list[Assessment], clinical_words: bool) -> list[dict[str, Any]]:
    """Assessments grouped per measure (kind, muscle or region, side), oldest first."""
    groups: dict[tuple[str, str, str], list[Assessment]] = defaultdict(list)
    for a in sorted(assessments, key=lambda a: (a.measured_at, a.id)):
        groups[(a.kind, a.muscle or a.region, a.side)].append(a)
    rows = []
    for (kind, body, side), items in sorted(groups.items()):
        points = [(local_date(a.measured_at), _trend_value(a)) for a in items]
        points = [(d, v) for d, v in points if v is not None]
        rows.append(
            {
                "title": (care_words.KIND_CLINICAL if clinical_words else care_words.KIND_PLAIN)[
                    kind
                ],
                "where": f"{body.replace('_', ' ')}, {side}",
                "items": [
                    (a, care_words.assessment_result(a, clinical_words), a.method) for a in items
                ],
                "spark": charts.sparkline_svg(points, steps=kind in ("mas", "pain")),
            }
        )
    return rows


NO_VALUE = "\u2013"  # an en dash: no measurement that day


def range_text(value: float | None, unit: str) -> str:
    """A range as people read it: whole degrees, centimetres for metres, else 2 decimals."""
    if value is None:
        return NO_VALUE
    if unit == "deg":
        return f"{value:.0f}"
    if unit == "m":
        return f"{value * 100:.0f}"
    return f"{value:.2f}"


RANGE_UNIT_WORDS = {"deg": "°", "m": "cm", "norm": "of the body's size"}


def _practice(db: Db, patient: User) -> list[dict[str, Any]]:
    """Per exercise and side: sparklines of the daily median range and smoothness, and the
    day-by-day numbers as text (ranges in degrees, centimetres or shares of body size)."""
    rows = []
    for trend in practice_trends(db, patient.id):
        rom = [(d.day, d.rom) for d in trend.days if d.rom is not None]
        sparc = [(d.day, d.sparc) for d in trend.days if d.sparc is not None]
        unit = RANGE_UNIT_WORDS.get(trend.unit, trend.unit)
        rows.append(
            {
                "trend": trend,
                "unit": unit,
                "rom_spark": charts.sparkline_svg(rom),
                "sparc_spark": charts.sparkline_svg(sparc),
                "rom_span": (
                    f"{range_text(rom[0][1], trend.unit)} → {range_text(rom[-1][1], trend.unit)}"
                    f" {unit}"
                    if rom
                    else ""
                ),
                "sparc_span": f"{sparc[0][1]:.2f} → {sparc[-1][1]:.2f}" if sparc else "",
                "days": [
                    (
                        d,
                        range_text(d.rom, trend.unit),
                        NO_VALUE if d.sparc is None else f"{d.sparc:.2f}",
                    )
                    for d in reversed(trend.days)
                ],
            }
        )
    return rows


def _trend_value(a: Assessment) -> float | None:
    if a.kind == "rom":
        return a.rom_deg
    if a.kind == "tardieu":
        return a.r1_deg if a.r1_deg is not None else a.r2_deg
    return float(a.ordinal) if a.ordinal is not None else None


def _therapy_rows(events: list[TherapyEvent], clinical_words: bool) -> list[dict[str, Any]]:
    names = care_words.THERAPY_CLINICAL if clinical_words else care_words.THERAPY_PLAIN
    rows = []
    for event in events:
        row: dict[str, Any] = {
            "event": event,
            "name": names.get(event.kind, event.kind),
            "summary": care_words.therapy_summary(event, clinical_words),
            "notes": [],
        }
        if event.kind == "botulinum_toxin":
            inj = therapies.ToxinInjection(event.started_on, (), 0.0, "")
            row["schedule"] = therapies.toxin_schedule(inj)
        if event.kind == "baclofen":
            row["notes"].append(therapies.BACLOFEN_NEVER_STOP)
        if event.kind == "splint":
            row["notes"].append(therapies.skin_check_text(care_service.splint_of(event)))
        if clinical_words:
            row["warnings"] = stored_warnings(event)
        rows.append(row)
    return rows


def stored_warnings(event: TherapyEvent) -> list[str]:
    """The warnings given when ``event`` was recorded (``care.add_therapy``)."""
    warnings = (event.details or {}).get("warnings")
    return [str(w) for w in warnings] if isinstance(warnings, list) else []


def _saved_warnings(request: Request, events: list[TherapyEvent]) -> list[str]:
    """The warnings of the therapy just saved (``?therapy=<id>`` after a save)."""
    wanted = request.query_params.get("therapy", "")
    event = next((e for e in events if str(e.id) == wanted), None)
    return stored_warnings(event) if event is not None else []


def _timeline(db: Db, patient: User, clinical_words: bool) -> dict[str, Any]:
    line = timeline_service.timeline(db, patient)
    names = care_words.THERAPY_CLINICAL if clinical_words else care_words.THERAPY_PLAIN
    markers = [charts.Marker(on, names.get(kind, kind)) for on, kind in line.events]
    svg = charts.timeline_svg(line.first, line.last, line.reps_per_day, line.rom, markers)
    weeks: dict[date, int] = defaultdict(int)
    for day, reps in line.reps_per_day:
        weeks[day - timedelta(days=day.weekday())] += reps
    return {"line": line, "svg": svg, "markers": markers, "weeks": sorted(weeks.items())}


def care_page_response(
    request: Request, db: Db, user: User, patient: User, error: str | None = None, code: int = 200
) -> Response:
    clinical_words = user.role in (Role.therapist, Role.admin)
    events = latest_for_patient(db, TherapyEvent, patient.id, TherapyEvent.started_on, 50)
    assessments = latest_for_patient(db, Assessment, patient.id, Assessment.measured_at, 200)
    kinds = {e.kind for e in events}
    return render(
        request,
        "care.html",
        status_code=code,
        user=user,
        patient=patient,
        own=user.id == patient.id,
        clinical=clinical_words,
        name=speaker_name(user, patient),
        error=error,
        alerts=alert_rows(db, user, patient),
        target=care_service.daily_target(db, patient),
        raise_pct=care_service.toxin_raise_pct(patient),
        therapy_rows=_therapy_rows(events, clinical_words),
        trends=_trends(assessments, clinical_words),
        practice=_practice(db, patient),
        timeline=_timeline(db, patient, clinical_words),
        pain=latest_for_patient(db, PainReport, patient.id, PainReport.reported_at, 20),
        pain_question=safety.pain_question(speaker_name(user, patient)),
        has_injection="botulinum_toxin" in kinds,
        has_splint="splint" in kinds,
        spread_symptoms=therapies.TOXIN_SPREAD_SYMPTOMS,
        skin_symptoms=therapies.SKIN_PROBLEMS,
        can_record=can_access(db, user, patient.id, Action.record),
        can_prescribe=can_access(db, user, patient.id, Action.prescribe),
        regions=REGIONS,
        stim_sites=stim.STIM_SITES,
        mas_grades=clinical.MAS_GRADES,
        today=local_date(),
        message=request.query_params.get("saved"),
        saved_warnings=_saved_warnings(request, events) if clinical_words else [],
    )


@router.get("/patients/{patient_id}/care", response_class=HTMLResponse)
def care_page(request: Request, patient_id: ObjectId, user: MaybeUser, db: Db) -> Response:
    patient = page_patient(request, user, db, patient_id, Action.read)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    return care_page_response(request, db, user, patient)


def _saved(patient_id: int, what: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(
        f"/patients/{patient_id}/care?saved={what}#{anchor}", status.HTTP_303_SEE_OTHER
    )


ASSESSMENT_FIELDS = (
    "kind",
    "region",
    "side",
    "muscle",
    "method",
    "measured_at",
    "value",
    "r1_deg",
    "r2_deg",
    "rom_deg",
    "velocity",
    "quality_x",
    "velocity_deg_s",
    "nrs",
    "notes",
)


def _local_noon(day_text: str) -> str:
    """A form's date as noon of that day in the clinic's zone (so it stays on that day
    whatever the zone); text that is not a date is passed on for validation to refuse."""
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        return day_text
    return datetime.combine(day, time(12), tzinfo=local_zone()).isoformat()


@router.post("/patients/{patient_id}/care/assessments")
def add_assessment_form(
    request: Request, patient_id: ObjectId, user: MaybeUser, db: Db, fields: Fields
) -> Response:
    patient = page_patient(request, user, db, patient_id, Action.prescribe)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    values: dict[str, Any] = _one(fields, *ASSESSMENT_FIELDS)
    if "measured_at" in values:
        values["measured_at"] = _local_noon(values["measured_at"])
    try:
        body = AssessmentIn.model_validate(values)
    except ValidationError as exc:
        return care_page_response(request, db, user, patient, problem(exc), 422)
    clinical.add_assessment(db, patient, user, body.store_fields())
    db.commit()
    return _saved(patient_id, "assessment", "tests-h")


THERAPY_FIELDS = (
    "kind",
    "started_on",
    "ended_on",
    "units",
    "injector",
    "product",
    "route",
    "next_refill_on",
    "site",
    "splint_name",
    "region",
    "wear_hours_per_day",
    "worn_at",
    "procedure",
    "notes",
)


def _therapy_values(fields: dict[str, list[str]]) -> dict[str, Any]:
    values: dict[str, Any] = _one(fields, *THERAPY_FIELDS)
    if fields.get("muscles") and fields["muscles"][0]:
        values["muscles"] = [m.strip() for m in fields["muscles"][0].split(",") if m.strip()]
    if fields.get("doses") and fields["doses"][0]:
        values["doses"] = _doses(fields["doses"][0])
    if fields.get("site_conditions"):
        values["site_conditions"] = [c for c in fields["site_conditions"] if c]
    if values.get("kind") in ("electrical_stimulation", "electro_acupuncture"):
        values["pregnant"] = "yes" in fields.get("pregnant", [])
        values["can_give_feedback"] = "no" not in fields.get("can_give_feedback", [])
    return values


def _doses(text: str) -> list[dict[str, Any]]:
    """ "08:00 10, 20:00 5" -> [{"time": "08:00", "mg": 10}, ...] (bad parts fail validation)."""
    doses = []
    for part in text.replace(";", ",").split(","):
        bits = part.replace("mg", " ").split()
        if bits:
            doses.append({"time": bits[0], "mg": bits[1] if len(bits) > 1 else ""})
    return doses


@router.post("/patients/{patient_id}/care/therapies")
def add_therapy_form(
    request: Request, patient_id: ObjectId, user: MaybeUser, db: Db, fields: Fields
) -> Response:
    patient = page_patient(request, user, db, patient_id, Action.prescribe)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    try:
        body = TherapyEventIn.model_validate(_therapy_values(fields))
        event, warnings = care_service.add_therapy(db, patient, user, body.store_fields())
    except ValidationError as exc:
        db.rollback()
        return care_page_response(request, db, user, patient, problem(exc), 422)
    except clinical.ClinicalError as exc:
        db.rollback()
        return care_page_response(request, db, user, patient, str(exc), exc.status)
    db.commit()
    if warnings:  # the page shows this record's warnings in its notice
        return _saved(patient_id, f"therapy-warning&therapy={event.id}", "treatments-h")
    return _saved(patient_id, "therapy", "treatments-h")


@router.post("/patients/{patient_id}/care/symptoms")
def report_symptoms_form(
    request: Request, patient_id: ObjectId, user: MaybeUser, db: Db, fields: Fields
) -> Response:
    patient = page_patient(request, user, db, patient_id, Action.record)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    values = {**_one(fields, "about", "note"), "symptoms": fields.get("symptoms", [])}
    try:
        body = SymptomsIn.model_validate(values)
        _, alert = care_service.report_symptoms(
            db, patient, user, body.about, body.symptoms, body.note
        )
    except ValidationError as exc:
        return care_page_response(request, db, user, patient, problem(exc), 422)
    except clinical.ClinicalError as exc:
        db.rollback()
        return care_page_response(request, db, user, patient, str(exc), exc.status)
    db.commit()
    urgent = alert is not None and alert.severity == "urgent"
    return _saved(patient_id, "symptoms-urgent" if urgent else "symptoms", "alerts-h")


@router.post("/patients/{patient_id}/care/dose-raise")
def set_dose_raise(
    request: Request,
    patient_id: ObjectId,
    user: MaybeUser,
    db: Db,
    raise_pct: Annotated[int, Form(ge=0, le=100)],
) -> Response:
    """Therapist: how much the daily target rises while an injection works (0 = not at all)."""
    patient = page_patient(request, user, db, patient_id, Action.prescribe)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    if patient.profile is None:
        return care_page_response(
            request, db, user, patient, "Set the clinical profile first.", 409
        )
    patient.profile.extra = {
        **(patient.profile.extra or {}),
        care_service.TOXIN_RAISE_KEY: raise_pct,
    }
    audit(db, user, "profile.toxin_raise", "patient", patient.id, {"raise_pct": raise_pct})
    db.commit()
    return _saved(patient_id, "dose", "treatments-h")


# --- the caseload's alerts -----------------------------------------------------------------
@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, user: MaybeUser, db: Db) -> Response:
    if user is None:
        return _login_redirect(request)
    if user.role is Role.patient:
        return RedirectResponse(f"/patients/{user.id}/care#alerts-h", status.HTTP_303_SEE_OTHER)
    ids = sorted(linked_patient_ids(db, user))
    rows = [
        {"patient": p, "alert": a, "text": care_service.words_for(a, user, p)}
        for p, a in care_service.caseload_alerts(db, ids)
    ]
    patients = list(db.scalars(select(User).where(User.id.in_(ids)))) if ids else []
    return render(request, "alerts.html", user=user, rows=rows, patient_count=len(patients))
