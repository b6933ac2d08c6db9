"""Clinical records as services: pain (with what to do now, and undo), assessments, therapies,
symptom reports.

Routes (API and pages) call these so both apply the same rules: a pain report updates the
profile's current pain and may rebuild the program (rule R8), says what to do now (care.safety),
and can be undone by its reporter for a minute; an assessment on an ordinal scale is stored
with its ordinal code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.accounts.service import audit
from openrehab.care import safety
from openrehab.clock import day_bounds, local_date
from openrehab.program.planner import MODERATE_PAIN_NRS, SEVERE_PAIN_NRS
from openrehab.services import program as program_service
from openrehab.services import progress as progress_service
from openrehab.store.models import (
    Assessment,
    ExerciseSession,
    ExerciseSet,
    PainReport,
    ProgressEvent,
    SymptomReport,
    TherapyEvent,
    User,
    utc_now,
)
from openrehab.store.records import RecordError, lock_patient, session_start_nrs

#: A pain tap can be undone by whoever made it for this long (one-hand users mis-tap).
PAIN_UNDO_WINDOW = timedelta(seconds=60)
#: The score given again after an undo decides for the sets the undone one stopped when it
#: comes within this time of the undo (the live page asks again at once; some need longer).
PAIN_CORRECTION_WINDOW = timedelta(minutes=5)
MAS_GRADES = ("0", "1", "1+", "2", "3", "4")


class ClinicalError(RecordError):
    """A clinical write refused; ``status`` is the HTTP status a route should answer with."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PainResult:
    report: PainReport
    advice: safety.PainAdvice
    program_rebuilt: bool
    #: Sets judged again without pain (set id, its new events): see ``record_pain``.
    sets_judged_again: list[tuple[int, list[ProgressEvent]]] = field(default_factory=list)


def pain_band(nrs: int | None) -> int:
    """0 none or mild, 1 moderate, 2 severe: the bands the planner's rule R8 acts on."""
    if nrs is None or nrs < MODERATE_PAIN_NRS:
        return 0
    return 1 if nrs < SEVERE_PAIN_NRS else 2


def active_pain(db: Session, patient_id: int, since: datetime | None = None) -> list[PainReport]:
    """A patient's pain reports that were not undone, oldest first (optionally since a time)."""
    query = select(PainReport).where(
        PainReport.patient_id == patient_id, PainReport.withdrawn_at.is_(None)
    )
    if since is not None:
        query = query.where(PainReport.reported_at >= since)
    return list(db.scalars(query.order_by(PainReport.reported_at, PainReport.id)))


def resting_report(db: Session, patient_id: int, today: date | None = None) -> PainReport | None:
    """Rule S5 (``safety.rests_today``): the pain report that closes exercise for the rest of
    ``today`` (the day's latest not undone, when it is 7 or more), else None."""
    start, end = day_bounds(today or local_date())
    latest = db.scalar(
        select(PainReport)
        .where(
            PainReport.patient_id == patient_id,
            PainReport.withdrawn_at.is_(None),
            PainReport.reported_at >= start,
            PainReport.reported_at < end,
        )
        .order_by(PainReport.reported_at.desc(), PainReport.id.desc())
        .limit(1)
    )
    return latest if latest is not None and safety.rests_today(latest.nrs) else None


def _speaker_name(patient: User, by: User) -> str | None:
    """None when the patient speaks for themself; else their name (third-person words)."""
    return None if by.id == patient.id else patient.display_name


def _rebuild_for_pain(db: Session, patient: User, before: int | None, now: int | None) -> bool:
    if pain_band(before) == pain_band(now) or patient.profile is None:
        return False
    why = f"Pain changed from {before if before is not None else 'none'} to {now} out of 10."
    return program_service.rebuild_after_progress(db, patient, [why]) is not None


def record_pain(
    db: Session,
    patient: User,
    by: User,
    nrs: int,
    *,
    session_id: int | None = None,
    location: str | None = None,
    note: str | None = None,
) -> PainResult:
    """Store a pain report and say what to do now (care.safety, rules S1-S2).

    The report becomes the profile's current pain; when that moves the pain into another band
    of rule R8 the active program is rebuilt (the daily target halves at 4, stretches go at 7).

    The first answer after an undone score of the same session and person (within
    ``PAIN_CORRECTION_WINDOW`` of the undo: the live page asks again at once) decides for the
    sets that score had stopped: an answer that would not stop a set (rule S1) takes their
    pain judgement back (``progress.take_back_pain_judgement``); one that would, keeps it.
    Without an answer the judgement stands.
    """
    lock_patient(db, patient.id)
    exercise_session = None
    if session_id is not None:
        exercise_session = db.get(ExerciseSession, session_id)
        if exercise_session is None or exercise_session.patient_id != patient.id:
            raise ClinicalError(f"Session {session_id} is not one of this patient's sessions.", 422)
    start_nrs = session_start_nrs(db, exercise_session) if exercise_session else None
    profile = patient.profile
    before = profile.pain_nrs if profile is not None else None
    report = PainReport(
        patient_id=patient.id,
        reported_by_id=by.id,
        nrs=nrs,
        session_id=session_id,
        location=location,
        note=note,
        profile_nrs_before=before,
    )
    db.add(report)
    if profile is not None:
        profile.pain_nrs = nrs
    db.flush()
    audit(db, by, "pain.report", "pain_report", report.id, {"patient": patient.id, "nrs": nrs})
    rebuilt = _rebuild_for_pain(db, patient, before, nrs)
    advice = safety.pain_advice(nrs, start_nrs, name=_speaker_name(patient, by))
    judged_again = [] if advice.stop_set else _take_back_for(db, report, by)
    return PainResult(report, advice, rebuilt, judged_again)


def _take_back_for(
    db: Session, report: PainReport, by: User
) -> list[tuple[int, list[ProgressEvent]]]:
    """When ``report`` (which stops no set) answers for undone scores, take back the pain
    judgement of the sets they had stopped (newest first: taking one back does not count as
    a set judged since for the others)."""
    corrected = _corrected_by(db, report)
    stopped = {s.id: (s, undone) for undone in corrected for s in _sets_stopped_by(db, undone)}
    judged_again = []
    for set_id in sorted(stopped, reverse=True):
        exercise_set, undone = stopped[set_id]
        events = progress_service.take_back_pain_judgement(db, exercise_set, siblings=stopped)
        if events is not None:
            judged_again.append((exercise_set.id, events))
            detail = {"patient": report.patient_id, "pain_report": undone.id}
            audit(db, by, "set.pain_taken_back", "exercise_set", exercise_set.id, detail)
    return judged_again


def _corrected_by(db: Session, report: PainReport) -> list[PainReport]:
    """The undone scores ``report`` answers for: the same person's latest score in the same
    session undone within ``PAIN_CORRECTION_WINDOW`` before it, when no other score was given
    between that undo and ``report``; and so on back while that score was itself such an
    answer (6, undo, 7, undo, 2: the 2 answers for the 7 and the 6)."""
    chain: list[PainReport] = []
    current = report
    while current.session_id is not None:
        undone = db.scalar(
            select(PainReport)
            .where(
                PainReport.session_id == current.session_id,
                PainReport.reported_by_id == current.reported_by_id,
                PainReport.withdrawn_at >= current.reported_at - PAIN_CORRECTION_WINDOW,
                PainReport.withdrawn_at <= current.reported_at,
                PainReport.id.not_in([current.id, *(r.id for r in chain)]),
            )
            .order_by(PainReport.withdrawn_at.desc(), PainReport.id.desc())
            .limit(1)
        )
        if undone is None or undone.withdrawn_at is None:
            break
        between = db.scalar(
            select(PainReport.id).where(
                PainReport.session_id == current.session_id,
                PainReport.id.not_in((current.id, undone.id)),
                PainReport.reported_at >= undone.withdrawn_at,
                PainReport.reported_at <= current.reported_at,
            )
        )
        if between is not None:
            break
        chain.append(undone)
        current = undone
    return chain


def withdraw_pain(
    db: Session, patient: User, by: User, report_id: int, now: datetime | None = None
) -> PainReport:
    """Undo a mis-tapped pain report: only its reporter, only within a minute.

    The report is kept (marked withdrawn, audited) and the profile's current pain goes back to
    what it was, unless a later report has changed it since. A set it stopped keeps its pain
    judgement until the score is given again (``record_pain``). Undoing twice is harmless.
    """
    lock_patient(db, patient.id)
    report = db.get(PainReport, report_id)
    if report is None or report.patient_id != patient.id:
        raise ClinicalError(f"Pain report {report_id} is not one of this patient's.", 404)
    if report.withdrawn_at is not None:
        return report
    if report.reported_by_id != by.id:
        raise ClinicalError("Only the person who gave this pain score can undo it.", 403)
    now = now or utc_now()
    if now - report.reported_at > PAIN_UNDO_WINDOW:
        raise ClinicalError(
            "This pain score is more than a minute old and can no longer be undone; "
            "give a new score instead.",
            409,
        )
    report.withdrawn_at = now
    profile = patient.profile
    later = db.scalar(
        select(PainReport.id).where(
            PainReport.patient_id == patient.id,
            PainReport.id > report.id,
            PainReport.withdrawn_at.is_(None),
        )
    )
    if profile is not None and later is None and profile.pain_nrs == report.nrs:
        profile.pain_nrs = report.profile_nrs_before
        _rebuild_for_pain(db, patient, report.nrs, report.profile_nrs_before)
    db.flush()
    audit(db, by, "pain.withdraw", "pain_report", report.id, {"patient": patient.id})
    return report


def _sets_stopped_by(db: Session, report: PainReport) -> list[ExerciseSet]:
    """The judged sets of the report's session that ran when it was given (a pain score of
    4 or more stops the set it falls in: care.safety rule S1)."""
    if report.session_id is None:
        return []
    return list(
        db.scalars(
            select(ExerciseSet)
            .where(
                ExerciseSet.session_id == report.session_id,
                ExerciseSet.pain_reported.is_(True),
                ExerciseSet.started_at <= report.reported_at,
                (ExerciseSet.ended_at.is_(None)) | (ExerciseSet.ended_at >= report.reported_at),
            )
            .order_by(ExerciseSet.id)
        )
    )


# --- assessments ---------------------------------------------------------------------------
def ordinal_code(kind: str, value: str | None, details: Mapping[str, Any]) -> int | None:
    """The ordinal code stored with an ordinal measure (MAS 0..5; Tardieu X 0..5; pain 0..10)."""
    if kind == "mas" and value in MAS_GRADES:
        return MAS_GRADES.index(value)
    if kind == "tardieu" and details.get("quality_x") is not None:
        return int(details["quality_x"])
    if kind == "pain" and value is not None and value.isdigit():
        return int(value)
    return None


def add_assessment(db: Session, patient: User, by: User, fields: Mapping[str, Any]) -> Assessment:
    """Store an assessment (fields as validated by the API's ``AssessmentIn``), audited."""
    values = dict(fields)
    if values.get("measured_at") is None:
        values.pop("measured_at", None)
    details = dict(values.pop("details", None) or {})
    assessment = Assessment(patient_id=patient.id, assessor_id=by.id, details=details, **values)
    assessment.ordinal = ordinal_code(assessment.kind, assessment.value, details)
    db.add(assessment)
    db.flush()
    audit(
        db,
        by,
        "assessment.add",
        "assessment",
        assessment.id,
        {"patient": patient.id, "kind": assessment.kind},
    )
    return assessment


def add_therapy(db: Session, patient: User, by: User, fields: Mapping[str, Any]) -> TherapyEvent:
    event = TherapyEvent(patient_id=patient.id, recorded_by_id=by.id, **fields)
    db.add(event)
    db.flush()
    audit(db, by, "therapy.add", "therapy_event", event.id, {"patient": patient.id})
    return event


def add_symptoms(
    db: Session, patient: User, by: User, about: str, symptoms: list[str], note: str | None
) -> SymptomReport:
    report = SymptomReport(
        patient_id=patient.id, reported_by_id=by.id, about=about, symptoms=symptoms, note=note
    )
    db.add(report)
    db.flush()
    audit(
        db,
        by,
        "symptoms.report",
        "symptom_report",
        report.id,
        {"patient": patient.id, "about": about, "symptoms": symptoms},
    )
    return report
