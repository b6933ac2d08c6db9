"""Accounts and care links.

Admins manage every account and link. A therapist may create patient and caregiver accounts
(a patient they create is assigned to them) and link caregivers to their own patients.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from openrehab.accounts.access import Action, can_access
from openrehab.accounts.passwords import WeakPasswordError
from openrehab.accounts.service import AccountError, audit, create_user
from openrehab.store.models import CareLink, LinkKind, Role, User
from openrehab.web.deps import CurrentUser, Db, ObjectId, PatientRead
from openrehab.web.schemas import LinkCreate, LinkOut, UserCreate, UserOut

router = APIRouter(prefix="/api", tags=["accounts"])


def _forbid(message: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=message)


@router.get("/users", response_model=list[UserOut])
def list_users(user: CurrentUser, db: Db) -> list[User]:
    """Every account (admins only)."""
    if user.role is not Role.admin:
        raise _forbid("Only admin accounts may list users.")
    return list(db.scalars(select(User).order_by(User.id)))


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def add_user(body: UserCreate, user: CurrentUser, db: Db) -> User:
    """Create an account. Therapists may create patients (assigned to them) and caregivers."""
    role = Role(body.role)
    if user.role is Role.therapist:
        if role not in (Role.patient, Role.caregiver):
            raise _forbid("Therapists may create patient and caregiver accounts only.")
    elif user.role is not Role.admin:
        raise _forbid("Only therapists and admins may create accounts.")
    try:
        created = create_user(db, body.username, body.password, role, body.display_name)
    except (AccountError, WeakPasswordError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    if user.role is Role.therapist and role is Role.patient:
        db.add(CareLink(patient_id=created.id, carer_id=user.id, kind=LinkKind.therapist))
    audit(db, user, "user.create", "user", created.id, {"role": role.value})
    db.commit()
    return created


@router.get("/patients/{patient_id}/links", response_model=list[LinkOut])
def list_links(patient: PatientRead, db: Db) -> list[CareLink]:
    """Caregivers and therapists linked to the patient."""
    return list(db.scalars(select(CareLink).where(CareLink.patient_id == patient.id)))


@router.post("/links", response_model=LinkOut, status_code=status.HTTP_201_CREATED)
def add_link(body: LinkCreate, user: CurrentUser, db: Db) -> CareLink:
    """Link a caregiver or therapist to a patient."""
    if user.role not in (Role.admin, Role.therapist):
        raise _forbid("Only therapists and admins may link carers to patients.")
    if user.role is Role.therapist and not can_access(db, user, body.patient_id, Action.prescribe):
        raise _forbid(f"Patient {body.patient_id} is not assigned to you.")
    patient, carer = db.get(User, body.patient_id), db.get(User, body.carer_id)
    if user.role is Role.therapist and (carer is None or carer.role is not Role.caregiver):
        # One answer whatever the id is (another therapist, an admin, nobody): a therapist
        # cannot learn other accounts' roles from this route.
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No caregiver {body.carer_id}.")
    if patient is None or patient.role is not Role.patient:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No patient {body.patient_id}.")
    if carer is None or carer.role not in (Role.caregiver, Role.therapist):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"No caregiver or therapist {body.carer_id}."
        )
    existing = db.scalar(
        select(CareLink).where(CareLink.patient_id == patient.id, CareLink.carer_id == carer.id)
    )
    if existing is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="These two are already linked.")
    link = CareLink(patient_id=patient.id, carer_id=carer.id, kind=LinkKind(carer.role.value))
    db.add(link)
    db.flush()
    audit(db, user, "link.create", "care_link", link.id)
    db.commit()
    return link


@router.delete("/links/{link_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_link(link_id: ObjectId, user: CurrentUser, db: Db) -> None:
    """Remove a link (admins; therapists for caregiver links of their own patients)."""
    link = db.get(CareLink, link_id)
    allowed = user.role is Role.admin or (
        user.role is Role.therapist
        and link is not None
        and link.kind is LinkKind.caregiver
        and can_access(db, user, link.patient_id, Action.prescribe)
    )
    if not allowed:
        raise _forbid(f"You may not remove link {link_id}.")
    if link is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No link {link_id}.")
    db.delete(link)
    audit(db, user, "link.delete", "care_link", link_id)
    db.commit()
