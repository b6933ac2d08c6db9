"""What the patient page and the care page show about care: the answer to a pain tap (what to
do now, and undo for a minute), a day closed by severe pain, and the alerts, each in the
reader's words."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from openrehab.care import safety
from openrehab.clock import local_zone
from openrehab.services import care as care_service
from openrehab.services import clinical
from openrehab.store.models import ExerciseSession, PainReport, User, utc_now
from openrehab.store.records import session_start_nrs


def speaker_name(user: User, patient: User) -> str | None:
    """None when the patient reads it ("you"), else the patient's name (third person)."""
    return None if user.id == patient.id else patient.display_name


def pain_feedback(db: Session, user: User, patient: User, value: str | None) -> dict[str, Any]:
    """The answer to the pain score just given (``?pain=<report id>``), else nothing."""
    if value is None or not value.isdigit():
        return {}
    report = db.get(PainReport, int(value))
    if report is None or report.patient_id != patient.id or report.withdrawn_at is not None:
        return {}
    exercise_session = report.session_id and db.get(ExerciseSession, report.session_id)
    start = (
        session_start_nrs(db, exercise_session, before=report.reported_at)
        if exercise_session
        else None
    )
    advice = safety.pain_advice(report.nrs, start, name=speaker_name(user, patient))
    left_s = (report.reported_at + clinical.PAIN_UNDO_WINDOW - utc_now()).total_seconds()
    can_undo = report.reported_by_id == user.id and left_s > 0
    return {"report": report, "advice": advice, "can_undo": can_undo, "undo_left_s": int(left_s)}


def rest_today(db: Session, user: User, patient: User) -> str | None:
    """Rule S5: why there are no exercises for the rest of today (severe pain given today),
    with how to reopen them; None on an ordinary day."""
    report = clinical.resting_report(db, patient.id)
    if report is None:
        return None
    at = report.reported_at.astimezone(local_zone()).strftime("%H:%M")
    return safety.rest_today_text(report.nrs, at, speaker_name(user, patient))


def alert_rows(db: Session, user: User, patient: User) -> list[dict[str, Any]]:
    return [
        {"alert": alert, "text": care_service.words_for(alert, user, patient)}
        for alert in care_service.patient_alerts(db, patient)
    ]
