"""Onboarding (services.onboarding): who may create, link and reset which accounts, the
first-login password, and that a failed onboarding stores nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.accounts.passwords import check_password_strength
from openrehab.accounts.service import authenticate, issue_token, user_for_token
from openrehab.services import NotFoundError, onboarding
from openrehab.services.onboarding import OnboardingError
from openrehab.store.models import AuditLog, CareLink, LinkKind, Role, User
from support import World


def _user(db: Session, world: World, who: str) -> User:
    return db.get_one(User, world.ids[who])


def _links(db: Session, patient_id: int) -> set[tuple[int, LinkKind]]:
    rows = db.scalars(select(CareLink).where(CareLink.patient_id == patient_id))
    return {(link.carer_id, link.kind) for link in rows}


def test_the_temporary_password_is_four_short_words_that_pass_the_policy() -> None:
    passwords = {onboarding.temporary_password(("ana",)) for _ in range(20)}
    assert len(passwords) == 20  # drawn at random, not a fixed answer
    for password in passwords:
        words = password.split("-")
        assert len(words) == 4 and all(w.isalpha() and 3 <= len(w) <= 6 for w in words)
        check_password_strength(password, ["ana"])


def test_a_username_is_suggested_from_the_name_and_made_unique(db: Session, world: World) -> None:
    therapist = _user(db, world, "therapist_a")
    assert onboarding.suggest_username(db, "Ana María  López") == "ana.maria.lopez"
    first, _ = onboarding.onboard_patient(db, therapist, display_name="Ana María López")
    second, _ = onboarding.onboard_patient(db, therapist, display_name="Ana Maria Lopez")
    assert (first.user.username, second.user.username) == ("ana.maria.lopez", "ana.maria.lopez2")
    assert onboarding.suggest_username(db, "李") == "user"


def test_a_therapist_onboards_a_patient_assigned_to_them_with_a_linked_caregiver(
    db: Session, world: World
) -> None:
    therapist = _user(db, world, "therapist_a")
    patient, caregiver = onboarding.onboard_patient(
        db, therapist, display_name=" Ana  Lopez ", caregiver_name="Luis Lopez"
    )
    db.commit()
    assert caregiver is not None
    assert patient.user.display_name == "Ana Lopez" and patient.user.role is Role.patient
    assert caregiver.user.role is Role.caregiver
    assert _links(db, patient.user.id) == {
        (therapist.id, LinkKind.therapist),
        (caregiver.user.id, LinkKind.caregiver),
    }
    # The sheet's passwords log in; only their hashes are stored.
    assert authenticate(db, patient.user.username, patient.password) == patient.user
    assert authenticate(db, caregiver.user.username, caregiver.password) == caregiver.user
    assert patient.password not in patient.user.password_hash
    actions = db.scalars(select(AuditLog.detail).where(AuditLog.user_id == therapist.id))
    assert [d for d in actions if d.get("via") == "page"] == [
        {"role": "patient", "via": "page"},
        {"role": "caregiver", "via": "page"},
    ]


def test_an_admin_must_choose_a_therapist_and_nothing_is_stored_without_one(
    db: Session, world: World
) -> None:
    admin = _user(db, world, "admin")
    before = db.scalar(select(User.id).order_by(User.id.desc()))
    for therapist_id in (None, world.ids["caregiver_c"], 99999):
        with pytest.raises(OnboardingError, match="choose a therapist"):
            onboarding.onboard_patient(db, admin, display_name="Bo", therapist_id=therapist_id)
        db.rollback()
    assert db.scalar(select(User.id).order_by(User.id.desc())) == before
    patient, _ = onboarding.onboard_patient(
        db, admin, display_name="Bo", therapist_id=world.ids["therapist_b"]
    )
    assert _links(db, patient.user.id) == {(world.ids["therapist_b"], LinkKind.therapist)}


@pytest.mark.parametrize("who", ["patient_p", "caregiver_c"])
def test_patients_and_caregivers_may_not_onboard(db: Session, world: World, who: str) -> None:
    with pytest.raises(OnboardingError, match="may not manage accounts"):
        onboarding.onboard_patient(db, _user(db, world, who), display_name="X Y")


def test_a_taken_username_or_an_empty_name_is_refused_naming_the_field(
    db: Session, world: World
) -> None:
    therapist = _user(db, world, "therapist_a")
    with pytest.raises(OnboardingError, match="already exists") as taken:
        onboarding.onboard_patient(db, therapist, display_name="P", username="patient-p")
    assert taken.value.field == "username"
    db.rollback()
    with pytest.raises(OnboardingError, match="already exists") as carer_taken:
        onboarding.onboard_patient(
            db, therapist, display_name="New One", caregiver_name="C", caregiver_username="admin"
        )
    assert carer_taken.value.field == "caregiver_username"
    db.rollback()
    assert db.scalar(select(User).where(User.display_name == "New One")) is None
    with pytest.raises(OnboardingError, match="give the patient's name"):
        onboarding.onboard_patient(db, therapist, display_name="   ")
    with pytest.raises(OnboardingError, match="too long"):
        onboarding.onboard_patient(db, therapist, display_name="x" * 121)


def test_caregivers_are_linked_by_their_therapist_only_and_roles_are_not_revealed(
    db: Session, world: World
) -> None:
    patient = _user(db, world, "patient_p")
    therapist_a, therapist_b = _user(db, world, "therapist_a"), _user(db, world, "therapist_b")
    with pytest.raises(OnboardingError, match="Only this person's therapist"):
        onboarding.link_caregiver(db, therapist_b, patient, "caregiver-d")
    # A therapist, an admin, a missing account: one answer, so roles cannot be probed.
    for name in ("therapist-b", "admin", "nobody"):
        with pytest.raises(OnboardingError, match=f"no caregiver account '{name}'"):
            onboarding.link_caregiver(db, therapist_a, patient, name)
    link = onboarding.link_caregiver(db, therapist_a, patient, " Caregiver-D ")
    assert (link.carer_id, link.kind) == (world.ids["caregiver_d"], LinkKind.caregiver)
    with pytest.raises(OnboardingError, match="already linked"):
        onboarding.link_caregiver(db, therapist_a, patient, "caregiver-d")


def test_unlinking_ends_the_link_and_keeps_the_account(db: Session, world: World) -> None:
    patient, therapist = _user(db, world, "patient_p"), _user(db, world, "therapist_a")
    link_id = db.scalar(select(CareLink.id).where(CareLink.carer_id == world.ids["caregiver_c"]))
    therapist_link = db.scalar(
        select(CareLink.id).where(CareLink.carer_id == world.ids["therapist_a"])
    )
    assert link_id is not None and therapist_link is not None
    with pytest.raises(NotFoundError):  # a therapist link is not a caregiver's to end here
        onboarding.unlink_caregiver(db, therapist, patient, therapist_link)
    with pytest.raises(OnboardingError):
        onboarding.unlink_caregiver(db, _user(db, world, "therapist_b"), patient, link_id)
    assert (
        onboarding.unlink_caregiver(db, therapist, patient, link_id).id == world.ids["caregiver_c"]
    )
    db.commit()
    assert (world.ids["caregiver_c"], LinkKind.caregiver) not in _links(db, patient.id)
    assert db.get(User, world.ids["caregiver_c"]) is not None


def test_a_new_first_login_replaces_the_password_and_ends_every_login(
    db: Session, world: World
) -> None:
    therapist = _user(db, world, "therapist_a")
    caregiver = _user(db, world, "caregiver_c")
    old_token = issue_token(db, caregiver)
    account = onboarding.new_first_login(db, therapist, caregiver)
    db.commit()
    assert authenticate(db, "caregiver-c", account.password) == caregiver
    assert authenticate(db, "caregiver-c", "password-caregiver_c") is None
    assert user_for_token(db, old_token) is None


@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("therapist_b", "patient_p"),  # not their patient
        ("therapist_a", "caregiver_d"),  # a caregiver of none of their patients
        ("therapist_a", "therapist_b"),
        ("caregiver_c", "patient_p"),
        ("patient_p", "patient_p"),
    ],
)
def test_only_the_therapist_or_an_admin_resets_a_login(
    db: Session, world: World, who: str, target: str
) -> None:
    with pytest.raises(OnboardingError, match="may not reset"):
        onboarding.new_first_login(db, _user(db, world, who), _user(db, world, target))
    assert authenticate(db, target.replace("_", "-"), f"password-{target}") is not None


def test_admins_create_therapists_and_assign_patients(db: Session, world: World) -> None:
    admin, therapist = _user(db, world, "admin"), _user(db, world, "therapist_a")
    with pytest.raises(OnboardingError):
        onboarding.create_therapist(db, therapist, display_name="T")
    with pytest.raises(OnboardingError):
        onboarding.assign_patient(db, therapist, world.ids["patient_q"], therapist.id)
    made = onboarding.create_therapist(db, admin, display_name="Dr New")
    assert made.user.role is Role.therapist and made.user.username == "dr.new"
    link = onboarding.assign_patient(db, admin, world.ids["patient_q"], made.user.id)
    assert (made.user.id, LinkKind.therapist) in _links(db, world.ids["patient_q"])
    with pytest.raises(OnboardingError, match="choose a patient"):
        onboarding.assign_patient(db, admin, world.ids["caregiver_c"], made.user.id)
    with pytest.raises(OnboardingError, match="choose a therapist"):
        onboarding.assign_patient(db, admin, world.ids["patient_q"], world.ids["caregiver_c"])
    caregiver_link = db.scalar(
        select(CareLink.id).where(CareLink.carer_id == world.ids["caregiver_c"])
    )
    assert caregiver_link is not None
    with pytest.raises(NotFoundError):
        onboarding.unassign_patient(db, admin, caregiver_link)
    onboarding.unassign_patient(db, admin, link.id)
    assert (made.user.id, LinkKind.therapist) not in _links(db, world.ids["patient_q"])
