"""Patients: the list a caller may see, one patient, and the clinical profile."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from openrehab.accounts.access import linked_patient_ids
from openrehab.accounts.service import audit
from openrehab.services import program as program_service
from openrehab.store.models import PatientProfile, User
from openrehab.store.records import last_session_starts, reps_on_day_by_patient
from openrehab.web.deps import CurrentUser, Db, PatientPrescribe, PatientRead
from openrehab.web.schemas import PatientSummary, ProfileIn, ProfileOut

router = APIRouter(prefix="/api/patients", tags=["patients"])


def summarise(db: Db, patients: list[User]) -> list[PatientSummary]:
    """Each patient's summary; a fixed number of queries however many patients (a
    therapist's caseload runs to dozens)."""
    ids = [patient.id for patient in patients]
    reps_today = reps_on_day_by_patient(db, ids)
    last_starts = last_session_starts(db, ids)
    return [
        PatientSummary(
            id=patient.id,
            username=patient.username,
            display_name=patient.display_name,
            affected_side=patient.profile.affected_side if patient.profile else None,
            reps_today=reps_today.get(patient.id, 0),
            last_session_at=last_starts.get(patient.id),
        )
        for patient in patients
    ]


@router.get("", response_model=list[PatientSummary])
def list_patients(user: CurrentUser, db: Db) -> list[PatientSummary]:
    """Patients the caller may see: themselves (patient), linked ones (caregiver, therapist)."""
    ids = linked_patient_ids(db, user)
    if not ids:
        return []
    query = (
        select(User)
        .where(User.id.in_(ids))
        .options(selectinload(User.profile))
        .order_by(User.display_name)
    )
    return summarise(db, list(db.scalars(query)))


@router.get("/{patient_id}", response_model=PatientSummary)
def get_patient(patient: PatientRead, db: Db) -> PatientSummary:
    return summarise(db, [patient])[0]


def _profile(db: Db, patient: User) -> PatientProfile:
    if patient.profile is None:
        patient.profile = PatientProfile()
        db.flush()
    return patient.profile


def profile_out(row: PatientProfile) -> ProfileOut:
    data = program_service.profile_data(row)
    problems = program_service.profile_problems(row)
    return ProfileOut(
        **{**data, "pain_nrs": row.pain_nrs, "equipment": row.equipment},
        updated_at=row.updated_at,
        complete=not problems,
        problems=problems,
    )


@router.get("/{patient_id}/profile", response_model=ProfileOut)
def get_profile(patient: PatientRead, db: Db) -> ProfileOut:
    """The clinical profile used to build the program (see docs/profile.md)."""
    return profile_out(_profile(db, patient))


@router.put("/{patient_id}/profile", response_model=ProfileOut)
def put_profile(
    body: ProfileIn, patient: PatientPrescribe, user: CurrentUser, db: Db
) -> ProfileOut:
    """Replace the clinical profile (therapists and admins); validated exactly as the
    program's profile (docs/profile.md), a 422 names each bad field. Rebuild the program
    afterwards (POST .../program) to apply it."""
    profile = _profile(db, patient)
    program_service.store_profile(profile, body, "equipment" in body.model_fields_set)
    audit(db, user, "profile.update", "patient", patient.id)
    db.commit()
    return profile_out(profile)
