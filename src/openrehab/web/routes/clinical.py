"""Clinical records: assessments (MAS, Tardieu, ROM, pain), add-on therapies, pain reports
(with what to do now, and a minute to undo), symptom reports, alerts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, HTTPException, Query, status

from openrehab.accounts.access import linked_patient_ids
from openrehab.care.alerts import Alert
from openrehab.services import care as care_service
from openrehab.services import clinical
from openrehab.store.models import Assessment, PainReport, Role, SymptomReport, TherapyEvent, User
from openrehab.store.records import latest_for_patient
from openrehab.web.care_schemas import (
    AlertOut,
    AssessmentIn,
    AssessmentOut,
    PainReportIn,
    PainReportOut,
    PainResultOut,
    SymptomsIn,
    SymptomsOut,
    SymptomsResultOut,
    TherapyEventIn,
    TherapyEventOut,
    TherapyResultOut,
)
from openrehab.web.deps import (
    CurrentUser,
    Db,
    ObjectId,
    PatientPrescribe,
    PatientRead,
    PatientRecord,
)
from openrehab.web.schemas import ProgressEventOut

router = APIRouter(prefix="/api/patients/{patient_id}", tags=["clinical"])
alerts_router = APIRouter(prefix="/api", tags=["clinical"])
Limit = Query(100, ge=1, le=1000)


def _refused(exc: clinical.ClinicalError) -> HTTPException:
    return HTTPException(exc.status, detail=str(exc))


@router.get("/assessments", response_model=list[AssessmentOut])
def list_assessments(patient: PatientRead, db: Db, limit: int = Limit) -> list[Assessment]:
    return latest_for_patient(db, Assessment, patient.id, Assessment.measured_at, limit)


@router.post("/assessments", response_model=AssessmentOut, status_code=status.HTTP_201_CREATED)
def add_assessment(
    body: AssessmentIn, patient: PatientPrescribe, user: CurrentUser, db: Db
) -> Assessment:
    """Record a clinical assessment (therapists): MAS grade, Tardieu R1/R2, ROM, pain."""
    assessment = clinical.add_assessment(db, patient, user, body.store_fields())
    db.commit()
    return assessment


@router.get("/therapy-events", response_model=list[TherapyEventOut])
def list_therapy_events(
    patient: PatientRead, user: CurrentUser, db: Db, limit: int = Limit
) -> list[TherapyEvent] | list[TherapyEventOut]:
    """The therapies, newest first; the warnings given when one was recorded (clinical
    words, ``details.warnings``) only for therapists and admins."""
    events = latest_for_patient(db, TherapyEvent, patient.id, TherapyEvent.started_on, limit)
    if user.role in (Role.therapist, Role.admin):
        return events
    shown = [TherapyEventOut.model_validate(event) for event in events]
    for event in shown:
        event.details = {k: v for k, v in event.details.items() if k != "warnings"}
    return shown


@router.post(
    "/therapy-events", response_model=TherapyResultOut, status_code=status.HTTP_201_CREATED
)
def add_therapy_event(
    body: TherapyEventIn, patient: PatientPrescribe, user: CurrentUser, db: Db
) -> dict[str, Any]:
    """Record an add-on therapy. Electrical stimulation with a contraindication is refused
    (409, with the reasons); a re-injection before 12 weeks is stored with a warning."""
    try:
        event, warnings = care_service.add_therapy(db, patient, user, body.store_fields())
    except clinical.ClinicalError as exc:
        raise _refused(exc) from exc
    db.commit()
    return {**TherapyEventOut.model_validate(event).model_dump(), "warnings": warnings}


@router.get("/pain-reports", response_model=list[PainReportOut])
def list_pain_reports(patient: PatientRead, db: Db, limit: int = Limit) -> list[PainReport]:
    return latest_for_patient(db, PainReport, patient.id, PainReport.reported_at, limit)


@router.post("/pain-reports", response_model=PainResultOut, status_code=status.HTTP_201_CREATED)
def add_pain_report(
    body: PainReportIn, patient: PatientRecord, user: CurrentUser, db: Db
) -> dict[str, Any]:
    """Report pain (0-10): the answer says what to do now (stop the set at 4 or more, or 2
    above the session's start), in plain words; the reporter can undo it for a minute."""
    try:
        result = clinical.record_pain(db, patient, user, **body.model_dump())
    except clinical.ClinicalError as exc:
        raise _refused(exc) from exc
    db.commit()
    report = PainReportOut.model_validate(result.report).model_dump()
    return {
        **report,
        "advice": asdict(result.advice),
        "undo_until": result.report.reported_at + clinical.PAIN_UNDO_WINDOW,
        "program_rebuilt": result.program_rebuilt,
        "sets_judged_again": [
            {"set_id": set_id, "events": [ProgressEventOut.model_validate(e) for e in events]}
            for set_id, events in result.sets_judged_again
        ],
    }


@router.post("/pain-reports/{report_id}/undo", response_model=PainReportOut)
def undo_pain_report(
    report_id: ObjectId, patient: PatientRecord, user: CurrentUser, db: Db
) -> PainReport:
    """Undo a mis-tapped pain score: by its reporter, within a minute (409 after). A set it
    stopped keeps its pain judgement until the score is given again (the next pain report's
    answer lists the sets then judged again, ``sets_judged_again``)."""
    try:
        report = clinical.withdraw_pain(db, patient, user, report_id)
    except clinical.ClinicalError as exc:
        raise _refused(exc) from exc
    db.commit()
    return report


@router.get("/symptom-reports", response_model=list[SymptomsOut])
def list_symptom_reports(patient: PatientRead, db: Db, limit: int = Limit) -> list[SymptomReport]:
    return latest_for_patient(db, SymptomReport, patient.id, SymptomReport.reported_at, limit)


@router.post(
    "/symptom-reports", response_model=SymptomsResultOut, status_code=status.HTTP_201_CREATED
)
def add_symptom_report(
    body: SymptomsIn, patient: PatientRecord, user: CurrentUser, db: Db
) -> dict[str, Any]:
    """Report new symptoms after an injection (possible spread of the toxin: urgent) or under
    a splint (skin). The answer says what to do now."""
    try:
        report, alert = care_service.report_symptoms(
            db, patient, user, body.about, body.symptoms, body.note
        )
    except clinical.ClinicalError as exc:
        raise _refused(exc) from exc
    db.commit()
    text = care_service.symptom_answer(alert, user, patient)
    return {
        **SymptomsOut.model_validate(report).model_dump(),
        "urgent": alert is not None and alert.severity == "urgent",
        "message": text,
    }


def _alert_out(alert: Alert, user: User, patient: User) -> dict[str, Any]:
    return {**alert.__dict__, "text": care_service.words_for(alert, user, patient)}


@router.get("/alerts", response_model=list[AlertOut])
def list_alerts(patient: PatientRead, user: CurrentUser, db: Db) -> list[dict[str, Any]]:
    """What needs attention now (pain, contracture risk, reviews due, pump refill, symptoms),
    urgent first; plain words for patients and caregivers, clinical words for clinicians."""
    return [_alert_out(a, user, patient) for a in care_service.patient_alerts(db, patient)]


class PatientAlertOut(AlertOut):
    patient_id: int
    patient_name: str


@alerts_router.get("/alerts", response_model=list[PatientAlertOut])
def all_alerts(user: CurrentUser, db: Db) -> list[dict[str, Any]]:
    """Alerts of every patient the caller may see (a therapist's caseload), urgent first."""
    ids = linked_patient_ids(db, user) if user.role is not Role.patient else {user.id}
    rows = []
    for patient, alert in care_service.caseload_alerts(db, sorted(ids)):
        rows.append(
            {
                **_alert_out(alert, user, patient),
                "patient_id": patient.id,
                "patient_name": patient.display_name,
            }
        )
    return rows
