"""Who may see and change which patient's data.

The rules (tested as a full matrix in tests/accounts/test_access_matrix.py):
- a patient sees and records only their own data;
- a caregiver sees and records data of patients linked to them as caregiver;
- a therapist sees, records and prescribes for patients assigned to them;
- an admin manages accounts and links, and may see every patient (clinic IT/lead).
Clinical prescribing (programs, assessments) is for therapists only (and admins).
"""

from __future__ import annotations

import enum

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from openrehab.store.models import CareLink, Role, User


class Action(enum.StrEnum):
    read = "read"  # see the patient's records
    record = "record"  # add sessions, reps, pain reports
    prescribe = "prescribe"  # change program, profile, assessments, therapy events


def linked_patient_ids(session: Session, user: User) -> set[int]:
    """Patients this user may see (their own id for a patient)."""
    if user.role is Role.patient:
        return {user.id}
    if user.role is Role.admin:
        return set(session.scalars(select(User.id).where(User.role == Role.patient)))
    return set(session.scalars(select(CareLink.patient_id).where(CareLink.carer_id == user.id)))


#: Built once: the access check runs on every request that names a patient.
_LINK = select(CareLink.id).where(
    CareLink.carer_id == bindparam("carer"), CareLink.patient_id == bindparam("patient")
)


def can_access(session: Session, user: User, patient_id: int, action: Action) -> bool:
    if user.role is Role.admin:
        return True
    if user.role is Role.patient:
        return user.id == patient_id and action in (Action.read, Action.record)
    link = session.scalar(_LINK, {"carer": user.id, "patient": patient_id})
    if link is None:
        return False
    if user.role is Role.caregiver:
        return action in (Action.read, Action.record)
    return user.role is Role.therapist
