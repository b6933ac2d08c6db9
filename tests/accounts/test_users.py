"""Creating accounts and logging in (accounts/service.py): names, roles, what is stored and
audited. The messages are what the clinic's admin or therapist reads when a request is refused.
"""

from __future__ import annotations

import itertools

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.accounts.passwords import WeakPasswordError, needs_rehash, verify_password
from openrehab.accounts.service import (
    AccountError,
    audit,
    authenticate,
    create_user,
    login,
    validate_username,
)
from openrehab.store.models import AuditLog, LoginFailure, Role, User
from support import Clinic

PASSWORD = "blue kettle under stairs"
NAME_RULE = "Username must be 2-80 characters: lower-case letters, digits, '.', '_' or '-'."
_numbers = itertools.count(1)


def _name(stem: str = "user") -> str:
    """A username no other test of the module uses."""
    return f"{stem}-{next(_numbers)}"


def _entries(db: Session, action: str, target_id: object) -> list[tuple[object, ...]]:
    db.expire_all()
    rows = db.scalars(
        select(AuditLog)
        .where(AuditLog.action == action, AuditLog.target_id == str(target_id))
        .order_by(AuditLog.id)
    )
    return [(r.user_id, r.target_type, r.detail) for r in rows]


@pytest.mark.parametrize(
    ("given", "stored"),
    [("  Anna.Berg_2-x ", "anna.berg_2-x"), ("ab", "ab"), ("a" * 80, "a" * 80), ("9z", "9z")],
)
def test_usernames_are_stored_trimmed_and_lower_case(given: str, stored: str) -> None:
    """Rule: a username is 2 to 80 of a-z, 0-9, '.', '_', '-' (not starting with a sign); it
    is stored trimmed and in lower case, so "Anna" and "anna" are one account."""
    assert validate_username(given) == stored


@pytest.mark.parametrize("given", ["a", "a" * 81, "-anna", "anna berg", "anna@clinic", ""])
def test_other_usernames_are_refused_with_the_rule(given: str) -> None:
    """Rule: a name outside the pattern is refused, and the message states the pattern."""
    with pytest.raises(AccountError) as refused:
        validate_username(given)
    assert str(refused.value) == NAME_RULE


@pytest.mark.parametrize("role", list(Role))
def test_a_new_account_stores_its_name_role_and_hash_and_is_audited(
    role: Role, clinic_db: Session
) -> None:
    """Rule: a new account is stored with the normalised name, its role, an Argon2 hash (never
    the password) and a display name (the username when none is given); a patient gets an
    empty clinical profile, nobody else does. The creation is audited with the role."""
    name = _name(role.value)
    user = create_user(clinic_db, f" {name.upper()} ", PASSWORD, role.value)
    clinic_db.commit()
    clinic_db.expire_all()
    stored = clinic_db.get_one(User, user.id)
    assert (stored.username, stored.display_name, stored.role) == (name, name, role)
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
    assert (stored.profile is not None) == (role is Role.patient)
    assert authenticate(clinic_db, name, PASSWORD) == stored
    assert _entries(clinic_db, "user.create", user.id) == [(None, "user", {"role": role.value})]


@pytest.mark.parametrize(
    ("given", "stored"),
    [("  Anna Berg  ", "Anna Berg"), ("x" * 130, "x" * 120), ("   ", None), (None, None)],
)
def test_the_display_name_is_trimmed_to_120_characters(
    given: str | None, stored: str | None, clinic_db: Session
) -> None:
    """Rule: the display name is stored trimmed and cut to its 120 columns; a blank one is
    replaced by the username."""
    name = _name()
    user = create_user(clinic_db, name, PASSWORD, Role.caregiver, given)
    assert user.display_name == (stored or name)


def test_an_unknown_role_or_a_taken_name_is_refused_and_nothing_is_stored(
    clinic_db: Session,
) -> None:
    """Rule: an unknown role is refused naming the roles there are; a username already taken
    (in any case or spacing) is refused naming it. Neither stores an account."""
    name = _name()
    with pytest.raises(AccountError) as unknown:
        create_user(clinic_db, name, PASSWORD, "nurse")
    assert str(unknown.value) == (
        "Unknown role 'nurse'; choose one of: patient, caregiver, therapist, admin."
    )
    create_user(clinic_db, name, PASSWORD, Role.patient)
    with pytest.raises(AccountError) as taken:
        create_user(clinic_db, f" {name.upper()}", "red teapot on the shelf", Role.caregiver)
    assert str(taken.value) == f"A user named {name!r} already exists."
    assert clinic_db.scalars(select(User.role).where(User.username == name)).all() == [Role.patient]


def test_a_password_made_of_the_users_names_is_refused(clinic_db: Session) -> None:
    """Rule: the username and the display name are known words for the password policy."""
    with pytest.raises(WeakPasswordError):
        create_user(clinic_db, "margaret-fox", "margaret-fox1", Role.patient)
    with pytest.raises(WeakPasswordError):
        create_user(clinic_db, _name(), "margaret-fox1", Role.patient, "margaret-fox")
    assert create_user(clinic_db, _name(), "margaret-fox1", Role.patient).id


def test_a_failed_login_is_audited_with_the_name_tried(clinic: Clinic, clinic_db: Session) -> None:
    """Rule: a wrong password is audited as "login.failed" by nobody, with the name tried (cut
    to 80 characters); the right one returns the account (any case and spacing)."""
    tried = "patient-p" + "x" * 100
    assert login(clinic_db, tried, "wrong password", "10.9.9.1") is None
    clinic_db.commit()
    last = clinic_db.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert last is not None
    assert (last.user_id, last.action, last.target_type, last.target_id, last.detail) == (
        None,
        "login.failed",
        "user",
        None,
        {"username": tried[:80]},
    )
    user = login(clinic_db, " Patient-P ", "password-patient_p", "10.9.9.1")
    assert user is not None and user.id == clinic.world.ids["patient_p"]
    clinic_db.rollback()


def test_an_audit_entry_stores_who_what_and_which(clinic: Clinic, clinic_db: Session) -> None:
    """Rule: an audit entry keeps the acting user, the action, the target's type and id (as
    text) and the detail; without a user, target or detail it stores None, None and {}."""
    actor = clinic_db.get_one(User, clinic.world.ids["therapist_a"])
    audit(clinic_db, actor, "test.one", "program", 42, {"why": "x"})
    audit(clinic_db, None, "test.two")
    clinic_db.commit()
    rows = clinic_db.scalars(
        select(AuditLog).where(AuditLog.action.in_(["test.one", "test.two"])).order_by(AuditLog.id)
    )
    assert [(r.user_id, r.action, r.target_type, r.target_id, r.detail) for r in rows] == [
        (actor.id, "test.one", "program", "42", {"why": "x"}),
        (None, "test.two", None, None, {}),
    ]


def test_a_login_upgrades_an_outdated_hash(clinic_db: Session) -> None:
    """Rule: a password hash made with other Argon2 parameters is replaced at the next right
    login by a current hash of the same password (so the password keeps working)."""
    user = create_user(clinic_db, _name(), PASSWORD, Role.caregiver)
    older = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1, hash_len=16, salt_len=8)
    user.password_hash = older.hash(PASSWORD)
    clinic_db.commit()
    assert authenticate(clinic_db, user.username, PASSWORD) == user
    clinic_db.commit()
    clinic_db.expire_all()
    upgraded = clinic_db.get_one(User, user.id).password_hash
    assert not needs_rehash(upgraded) and verify_password(upgraded, PASSWORD)


def test_a_right_password_leaves_no_count_behind(clinic: Clinic, clinic_db: Session) -> None:
    """Rule: a login with the right password is not counted as a failure, neither for the
    account nor for the address (30 logins of a shared clinic computer lock nobody out)."""
    address = f"10.8.0.{next(_numbers)}"
    for _ in range(2):
        assert login(clinic_db, "patient-p", "password-patient_p", address) is not None
        clinic_db.commit()
    keys = clinic_db.scalars(select(LoginFailure.key).where(LoginFailure.key.contains(address)))
    assert list(keys) == []
