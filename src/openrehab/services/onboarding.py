"""Onboarding in the app: accounts with a first-login sheet, caregivers linked to patients,
therapists and their assignments (admins).

Who may do what (the access matrix of docs/security.md, unchanged):

* a therapist creates patients (assigned to them) and caregivers, links and unlinks caregivers
  of their own patients, and gives a new first-login password to their own patients and to
  the caregivers linked to them;
* an admin does all of that for any patient, creates therapists, and assigns a patient to a
  therapist (or ends an assignment).

A new account gets a *temporary password* of four short common words (the EFF short
wordlist via ``xkcdpass``: 1296^4, about 41 bits, well above the zxcvbn policy of
``accounts.passwords``): easy to read off paper and to type with one hand. It is shown once,
on the printable sheet, and only its Argon2 hash is stored.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from xkcdpass import xkcd_password

from openrehab.accounts.access import Action, can_access
from openrehab.accounts.passwords import WeakPasswordError, check_password_strength, hash_password
from openrehab.accounts.service import AccountError, audit, create_user, revoke_all_tokens
from openrehab.services import NotFoundError, ServiceError
from openrehab.store.models import CareLink, LinkKind, Role, User

__all__ = [
    "NewAccount",
    "OnboardingError",
    "add_caregiver",
    "assign_patient",
    "create_therapist",
    "link_caregiver",
    "new_first_login",
    "onboard_patient",
    "suggest_username",
    "temporary_password",
    "unassign_patient",
    "unlink_caregiver",
]

PASSWORD_WORDS = 4
MAX_NAME_CHARS = 120


class OnboardingError(ServiceError):
    """A request about accounts or links that cannot be done; the message says why."""


@dataclass(frozen=True)
class NewAccount:
    """An account with the temporary password to print (shown once, never stored)."""

    user: User
    password: str


@cache
def _words() -> tuple[str, ...]:
    wordfile = xkcd_password.locate_wordfile("eff-short")
    words = xkcd_password.generate_wordlist(wordfile=wordfile, min_length=3, max_length=6)
    # Letters only: a word like "yo-yo" would blur the dashes between words.
    return tuple(w for w in words if w.isalpha())


def temporary_password(user_inputs: tuple[str, ...] = ()) -> str:
    """Four random short words joined by '-', e.g. ``kite-folic-comma-emit`` (passes the
    password policy; drawn again in the rare case a word echoes the user's name)."""
    words = _words()
    while True:
        password = "-".join(secrets.choice(words) for _ in range(PASSWORD_WORDS))
        try:
            check_password_strength(password, user_inputs)
        except WeakPasswordError:
            continue
        return password


def suggest_username(db: Session, display_name: str) -> str:
    """A free username from a name: ``Ana María López`` -> ``ana.maria.lopez`` (then
    ``ana.maria.lopez2``, ...)."""
    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", ".", ascii_name.lower()).strip(".")[:60] or "user"
    if len(base) < 2:
        base = f"user.{base}"
    taken = set(db.scalars(select(User.username).where(User.username.like(f"{base}%"))))
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}{n}"
    return candidate


def _clean_name(display_name: str, what: str) -> str:
    name = " ".join(display_name.split())
    if not name:
        raise OnboardingError(f"Please give the {what}'s name.", "display_name")
    if len(name) > MAX_NAME_CHARS:
        raise OnboardingError(
            f"The {what}'s name is too long (at most {MAX_NAME_CHARS} characters).",
            "display_name",
        )
    return name


def _new_account(
    db: Session, actor: User, display_name: str, username: str, role: Role, field: str
) -> NewAccount:
    name = _clean_name(display_name, role.value)
    chosen = username.strip().lower() or suggest_username(db, name)
    password = temporary_password((chosen, name))
    try:
        user = create_user(db, chosen, password, role, name)
    except AccountError as exc:
        raise OnboardingError(str(exc), field) from None
    audit(db, actor, "user.create", "user", user.id, {"role": role.value, "via": "page"})
    return NewAccount(user, password)


def _require(actor: User, *roles: Role) -> None:
    if actor.role not in roles:
        raise OnboardingError("You may not manage accounts.")


def _therapist(db: Session, therapist_id: int | None) -> User:
    therapist = db.get(User, therapist_id) if therapist_id is not None else None
    if therapist is None or therapist.role is not Role.therapist:
        raise OnboardingError("Please choose a therapist from the list.", "therapist_id")
    return therapist


def onboard_patient(
    db: Session,
    actor: User,
    *,
    display_name: str,
    username: str = "",
    therapist_id: int | None = None,
    caregiver_name: str = "",
    caregiver_username: str = "",
) -> tuple[NewAccount, NewAccount | None]:
    """Create a patient assigned to a therapist (the actor, or ``therapist_id`` when an admin
    creates it) and optionally a caregiver linked to them. Nothing is stored when any part
    fails (the caller rolls back on :class:`OnboardingError`)."""
    _require(actor, Role.therapist, Role.admin)
    therapist = actor if actor.role is Role.therapist else _therapist(db, therapist_id)
    patient = _new_account(db, actor, display_name, username, Role.patient, "username")
    db.add(CareLink(patient_id=patient.user.id, carer_id=therapist.id, kind=LinkKind.therapist))
    caregiver = None
    if caregiver_name.strip() or caregiver_username.strip():
        caregiver = _new_account(
            db, actor, caregiver_name, caregiver_username, Role.caregiver, "caregiver_username"
        )
        db.add(
            CareLink(
                patient_id=patient.user.id, carer_id=caregiver.user.id, kind=LinkKind.caregiver
            )
        )
    db.flush()
    return patient, caregiver


def _prescriber_of(db: Session, actor: User, patient: User) -> None:
    if not can_access(db, actor, patient.id, Action.prescribe):
        raise OnboardingError("Only this person's therapist can do that.")


def _link(db: Session, actor: User, patient: User, carer: User) -> CareLink:
    existing = db.scalar(
        select(CareLink).where(CareLink.patient_id == patient.id, CareLink.carer_id == carer.id)
    )
    if existing is not None:
        raise OnboardingError(f"{carer.display_name} is already linked to {patient.display_name}.")
    link = CareLink(patient_id=patient.id, carer_id=carer.id, kind=LinkKind(carer.role.value))
    db.add(link)
    db.flush()
    audit(db, actor, "link.create", "care_link", link.id, {"patient": patient.id})
    return link


def add_caregiver(
    db: Session, actor: User, patient: User, *, display_name: str, username: str = ""
) -> NewAccount:
    """Create a caregiver account and link it to ``patient``."""
    _prescriber_of(db, actor, patient)
    caregiver = _new_account(db, actor, display_name, username, Role.caregiver, "username")
    _link(db, actor, patient, caregiver.user)
    return caregiver


def link_caregiver(db: Session, actor: User, patient: User, username: str) -> CareLink:
    """Link an existing caregiver account (by username) to ``patient``. The same answer for
    a missing account and for an account that is not a caregiver, so a therapist cannot learn
    other accounts' roles here."""
    _prescriber_of(db, actor, patient)
    name = username.strip().lower()
    carer = db.scalar(select(User).where(User.username == name)) if name else None
    if carer is None or carer.role is not Role.caregiver:
        raise OnboardingError(f"There is no caregiver account '{name}'.", "username")
    return _link(db, actor, patient, carer)


def unlink_caregiver(db: Session, actor: User, patient: User, link_id: int) -> User:
    """End a caregiver's link to ``patient`` (their account stays); the caregiver."""
    _prescriber_of(db, actor, patient)
    link = db.get(CareLink, link_id)
    if link is None or link.patient_id != patient.id or link.kind is not LinkKind.caregiver:
        raise NotFoundError(f"No caregiver link {link_id} for this person.")
    carer = db.get_one(User, link.carer_id)
    db.delete(link)
    audit(db, actor, "link.delete", "care_link", link_id, {"patient": patient.id})
    return carer


def new_first_login(db: Session, actor: User, target: User) -> NewAccount:
    """A new temporary password for a patient (their therapist or an admin) or a caregiver
    linked to one of the actor's patients; every login of the account ends."""
    if actor.role is not Role.admin:
        allowed = actor.role is Role.therapist and (
            (target.role is Role.patient and can_access(db, actor, target.id, Action.prescribe))
            or (
                target.role is Role.caregiver
                and any(
                    can_access(db, actor, pid, Action.prescribe)
                    for pid in db.scalars(
                        select(CareLink.patient_id).where(CareLink.carer_id == target.id)
                    )
                )
            )
        )
        if not allowed:
            raise OnboardingError("You may not reset this account's password.")
    password = temporary_password((target.username, target.display_name))
    target.password_hash = hash_password(password)
    ended = revoke_all_tokens(db, target)
    audit(db, actor, "user.password_reset", "user", target.id, {"logins_ended": ended})
    return NewAccount(target, password)


def create_therapist(
    db: Session, admin: User, *, display_name: str, username: str = ""
) -> NewAccount:
    """Admins: a therapist account."""
    _require(admin, Role.admin)
    return _new_account(db, admin, display_name, username, Role.therapist, "username")


def _patient(db: Session, patient_id: int | None) -> User:
    patient = db.get(User, patient_id) if patient_id is not None else None
    if patient is None or patient.role is not Role.patient:
        raise OnboardingError("Please choose a patient from the list.", "patient_id")
    return patient


def assign_patient(
    db: Session, admin: User, patient_id: int | None, therapist_id: int | None
) -> CareLink:
    """Admins: give a patient (another) therapist."""
    _require(admin, Role.admin)
    return _link(db, admin, _patient(db, patient_id), _therapist(db, therapist_id))


def unassign_patient(db: Session, admin: User, link_id: int) -> None:
    """Admins: end a therapist's assignment to a patient."""
    _require(admin, Role.admin)
    link = db.get(CareLink, link_id)
    if link is None or link.kind is not LinkKind.therapist:
        raise NotFoundError(f"No assignment {link_id}.")
    db.delete(link)
    audit(db, admin, "link.delete", "care_link", link_id, {"patient": link.patient_id})
