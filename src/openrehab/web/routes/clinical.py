"""Clinical records: assessments (MAS, Tardieu), add-on therapies, pain reports."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, status

from openrehab.accounts.service import audit
from openrehab.store.models import Assessment, ExerciseSession, PainReport, TherapyEvent
from openrehab.store.records import latest_for_patient
from openrehab.web.deps import CurrentUser, Db, PatientPrescribe, PatientRead, PatientRecord
from openrehab.web.schemas import (
    AssessmentIn,
    AssessmentOut,
    PainReportIn,
    PainReportOut,
    TherapyEventIn,
    TherapyEventOut,
)

router = APIRouter(prefix="/api/patients/{patient_id}", tags=["clinical"])
Limit = Query(100, ge=1, le=1000)


@router.get("/assessments", response_model=list[AssessmentOut])
def list_assessments(patient: PatientRead, db: Db, limit: int = Limit) -> list[Assessment]:
    return latest_for_patient(db, Assessment, patient.id, Assessment.measured_at, limit)


@router.post("/assessments", response_model=AssessmentOut, status_code=status.HTTP_201_CREATED)
def add_assessment(
    body: AssessmentIn, patient: PatientPrescribe, user: CurrentUser, db: Db
) -> Assessment:
    """Record a clinical assessment (therapists): MAS grade, Tardieu R1/R2 angles, ROM."""
    assessment = Assessment(patient_id=patient.id, assessor_id=user.id, **body.model_dump())
    db.add(assessment)
    db.flush()
    audit(db, user, "assessment.add", "assessment", assessment.id)
    db.commit()
    return assessment


@router.get("/therapy-events", response_model=list[TherapyEventOut])
def list_therapy_events(patient: PatientRead, db: Db, limit: int = Limit) -> list[TherapyEvent]:
    return latest_for_patient(db, TherapyEvent, patient.id, TherapyEvent.started_on, limit)


@router.post("/therapy-events", response_model=TherapyEventOut, status_code=status.HTTP_201_CREATED)
def add_therapy_event(
    body: TherapyEventIn, patient: PatientPrescribe, user: CurrentUser, db: Db
) -> TherapyEvent:
    """Record an add-on therapy (botulinum toxin, baclofen, e-stim, splint)."""
    event = TherapyEvent(patient_id=patient.id, recorded_by_id=user.id, **body.model_dump())
    db.add(event)
    db.flush()
    audit(db, user, "therapy.add", "therapy_event", event.id)
    db.commit()
    return event


@router.get("/pain-reports", response_model=list[PainReportOut])
def list_pain_reports(patient: PatientRead, db: Db, limit: int = Limit) -> list[PainReport]:
    return latest_for_patient(db, PainReport, patient.id, PainReport.reported_at, limit)


@router.post("/pain-reports", response_model=PainReportOut, status_code=status.HTTP_201_CREATED)
def add_pain_report(
    body: PainReportIn, patient: PatientRecord, user: CurrentUser, db: Db
) -> PainReport:
    """Report pain (0-10). Patients and caregivers may report; so may therapists."""
    if body.session_id is not None:
        exercise_session = db.get(ExerciseSession, body.session_id)
        if exercise_session is None or exercise_session.patient_id != patient.id:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"Session {body.session_id} is not one of this patient's sessions.",
            )
    report = PainReport(patient_id=patient.id, reported_by_id=user.id, **body.model_dump())
    db.add(report)
    db.flush()
    audit(db, user, "pain.report", "pain_report", report.id, {"nrs": body.nrs})
    db.commit()
    return report
