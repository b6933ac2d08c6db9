"""The accounts API (web/routes/admin.py, auth.py): who may create accounts and link carers to
patients, what is stored and audited, and the reason a refused request is given.

A care link is access to a patient's health record: a therapist who could link any account to
any patient, or learn other accounts' roles by trying ids, would leak records.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openrehab.accounts.service import create_user
from openrehab.store.models import AuditLog, AuthToken, CareLink, LinkKind, Role, User
from support import Clinic

PASSWORD = "blue kettle under stairs"
_numbers = itertools.count(1)


def _user(db: Session, role: Role) -> User:
    user = create_user(db, f"{role.value}-{next(_numbers)}", PASSWORD, role)
    db.commit()
    return user


def _links(db: Session, patient_id: int) -> set[tuple[int, LinkKind]]:
    db.expire_all()
    return {
        (link.carer_id, link.kind)
        for link in db.scalars(select(CareLink).where(CareLink.patient_id == patient_id))
    }


def _audit(
    db: Session, action: str, target_id: object, since: int = 0
) -> list[tuple[int | None, Any]]:
    """(user, detail) of the audit entries ``action`` about ``target_id`` after entry ``since``
    (SQLite reuses the id of a deleted row)."""
    db.expire_all()
    rows = db.scalars(
        select(AuditLog)
        .where(
            AuditLog.action == action,
            AuditLog.target_id == str(target_id),
            AuditLog.id > since,
        )
        .order_by(AuditLog.id)
    )
    return [(row.user_id, row.detail) for row in rows]


def _detail(response: Any) -> Any:
    detail = response.json()["detail"]
    return detail[0]["msg"] if isinstance(detail, list) else detail


# --- accounts ---------------------------------------------------------------------------------
@pytest.mark.parametrize("caller", ["therapist_a", "caregiver_c", "patient_p"])
def test_only_admins_list_accounts(caller: str, clinic: Clinic, clinic_client: TestClient) -> None:
    """Rule: the list of accounts (with their roles) is for admins; anyone else gets 403 with
    the reason."""
    refused = clinic_client.get("/api/users", headers=clinic.world.headers(caller))
    assert (refused.status_code, _detail(refused)) == (403, "Only admin accounts may list users.")


def test_an_admin_lists_every_account_in_creation_order(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: an admin sees every account, oldest first."""
    listed = clinic_client.get("/api/users", headers=clinic.world.headers("admin")).json()
    assert [row["id"] for row in listed] == list(
        clinic_db.scalars(select(User.id).order_by(User.id))
    )
    assert {row["username"] for row in listed} >= {"patient-p", "therapist-a"}


CREATES = [("admin", role, 201) for role in Role] + [
    ("therapist_a", Role.patient, 201),
    ("therapist_a", Role.caregiver, 201),
    ("therapist_a", Role.therapist, 403),
    ("therapist_a", Role.admin, 403),
    ("caregiver_c", Role.caregiver, 403),
    ("patient_p", Role.patient, 403),
]


@pytest.mark.parametrize(("caller", "role", "status"), CREATES)
def test_who_may_create_which_account(
    caller: str,
    role: Role,
    status: int,
    clinic: Clinic,
    clinic_client: TestClient,
    clinic_db: Session,
) -> None:
    """Rule: admins create any account; therapists create patients and caregivers only; nobody
    else creates accounts. A created account is stored with its role and audited with who made
    it; a patient created by a therapist is linked to that therapist (and only then)."""
    name = f"made-{next(_numbers)}"
    body = {"username": name, "password": PASSWORD, "role": role.value}
    response = clinic_client.post("/api/users", json=body, headers=clinic.world.headers(caller))
    assert response.status_code == status
    stored = clinic_db.scalar(select(User).where(User.username == name))
    if status == 403:
        reason = (
            "Therapists may create patient and caregiver accounts only."
            if caller.startswith("therapist")
            else "Only therapists and admins may create accounts."
        )
        assert (_detail(response), stored) == (reason, None)
        return
    assert stored is not None and stored.role is role and response.json()["id"] == stored.id
    caller_id = clinic.world.ids[caller]
    linked = caller.startswith("therapist") and role is Role.patient
    assert _links(clinic_db, stored.id) == ({(caller_id, LinkKind.therapist)} if linked else set())
    assert _audit(clinic_db, "user.create", stored.id) == [
        (None, {"role": role.value}),
        (caller_id, {"role": role.value}),
    ]


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [
        ("therapist-a", PASSWORD, "A user named 'therapist-a' already exists."),
        ("x!", PASSWORD, "Username must be 2-80 characters"),
        ("fresh-name", "password1", "That password is too easy to guess."),
    ],
)
def test_an_account_that_cannot_be_made_is_a_422_with_the_reason(
    username: str, password: str, reason: str, clinic: Clinic, clinic_client: TestClient
) -> None:
    """Rule: a taken or malformed name or a weak password is refused with the reason."""
    body = {"username": username, "password": password, "role": "caregiver"}
    response = clinic_client.post("/api/users", json=body, headers=clinic.world.headers("admin"))
    assert response.status_code == 422 and _detail(response).startswith(reason)


# --- care links -------------------------------------------------------------------------------
def test_a_therapist_links_a_caregiver_to_their_own_patient(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: the link is stored with the carer's role as its kind, audited with who made it,
    and the same link again is a 409."""
    world, carer = clinic.world, _user(clinic_db, Role.caregiver)
    body = {"patient_id": world.ids["patient_p"], "carer_id": carer.id}
    since = clinic_db.scalar(select(func.max(AuditLog.id))) or 0
    made = clinic_client.post("/api/links", json=body, headers=world.headers("therapist_a"))
    assert made.status_code == 201
    assert {k: made.json()[k] for k in ("patient_id", "carer_id", "kind")} == {
        **body,
        "kind": "caregiver",
    }
    assert (carer.id, LinkKind.caregiver) in _links(clinic_db, world.ids["patient_p"])
    assert _audit(clinic_db, "link.create", made.json()["id"], since) == [
        (world.ids["therapist_a"], {})
    ]
    again = clinic_client.post("/api/links", json=body, headers=world.headers("admin"))
    assert (again.status_code, _detail(again)) == (409, "These two are already linked.")


def test_an_admin_links_a_therapist_with_the_therapist_kind(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    world, therapist = clinic.world, _user(clinic_db, Role.therapist)
    body = {"patient_id": world.ids["patient_q"], "carer_id": therapist.id}
    made = clinic_client.post("/api/links", json=body, headers=world.headers("admin"))
    assert made.status_code == 201 and made.json()["kind"] == "therapist"
    assert (therapist.id, LinkKind.therapist) in _links(clinic_db, world.ids["patient_q"])


LINK_REFUSALS = [
    # (caller, patient, carer, status, reason); "new" = a fresh caregiver
    (
        "caregiver_c",
        "patient_p",
        "new",
        403,
        "Only therapists and admins may link carers to patients.",
    ),
    (
        "patient_p",
        "patient_p",
        "new",
        403,
        "Only therapists and admins may link carers to patients.",
    ),
    ("therapist_a", "patient_q", "new", 403, "Patient {patient_q} is not assigned to you."),
    ("therapist_a", "patient_p", "therapist_b", 404, "No caregiver {therapist_b}."),
    ("therapist_a", "patient_p", "admin", 404, "No caregiver {admin}."),
    ("therapist_a", "patient_p", "patient_q", 404, "No caregiver {patient_q}."),
    ("therapist_a", "patient_p", 999999, 404, "No caregiver 999999."),
    ("admin", "caregiver_d", "new", 404, "No patient {caregiver_d}."),
    ("admin", 999999, "new", 404, "No patient 999999."),
    ("admin", "patient_p", "patient_q", 404, "No caregiver or therapist {patient_q}."),
    ("admin", "patient_p", "admin", 404, "No caregiver or therapist {admin}."),
    ("admin", "patient_p", 999999, 404, "No caregiver or therapist 999999."),
]


@pytest.mark.parametrize(("caller", "patient", "carer", "status", "reason"), LINK_REFUSALS)
def test_links_only_join_a_patient_and_a_carer_of_ones_own(
    caller: str,
    patient: str | int,
    carer: str | int,
    status: int,
    reason: str,
    clinic: Clinic,
    clinic_client: TestClient,
    clinic_db: Session,
) -> None:
    """Rule: only therapists (for their own patients) and admins link; the patient must be a
    patient, the carer a caregiver (a therapist may link only caregivers) or therapist. A
    therapist gets the same 404 for any non-caregiver id, so they cannot probe roles.
    Nothing is stored."""
    ids = clinic.world.ids
    carer_id = _user(clinic_db, Role.caregiver).id if carer == "new" else ids.get(str(carer), carer)
    patient_id = ids.get(str(patient), patient)
    body = {"patient_id": patient_id, "carer_id": carer_id}
    response = clinic_client.post("/api/links", json=body, headers=clinic.world.headers(caller))
    assert (response.status_code, _detail(response)) == (status, reason.format(**ids))
    assert not any(c == carer_id for c, _ in _links(clinic_db, int(patient_id)))


def _link(db: Session, patient_id: int, carer: User, kind: LinkKind) -> int:
    link = CareLink(patient_id=patient_id, carer_id=carer.id, kind=kind)
    db.add(link)
    db.commit()
    return link.id


@pytest.mark.parametrize(
    ("caller", "patient", "kind", "allowed"),
    [
        ("admin", "patient_q", LinkKind.therapist, True),
        ("admin", "patient_p", LinkKind.caregiver, True),
        ("therapist_a", "patient_p", LinkKind.caregiver, True),
        ("therapist_a", "patient_p", LinkKind.therapist, False),
        ("therapist_a", "patient_q", LinkKind.caregiver, False),
        ("therapist_b", "patient_p", LinkKind.caregiver, False),
        ("caregiver_c", "patient_p", LinkKind.caregiver, False),
        ("patient_p", "patient_p", LinkKind.caregiver, False),
    ],
)
def test_who_may_remove_a_link(
    caller: str,
    patient: str,
    kind: LinkKind,
    allowed: bool,
    clinic: Clinic,
    clinic_client: TestClient,
    clinic_db: Session,
) -> None:
    """Rule: admins remove any link; a therapist removes caregiver links of their own patients
    only (not another therapist's link, not another patient's); nobody else. A removal is
    audited; a refusal names the link and removes nothing."""
    role = Role.therapist if kind is LinkKind.therapist else Role.caregiver
    carer = _user(clinic_db, role)
    link_id = _link(clinic_db, clinic.world.ids[patient], carer, kind)
    since = clinic_db.scalar(select(func.max(AuditLog.id))) or 0
    response = clinic_client.delete(f"/api/links/{link_id}", headers=clinic.world.headers(caller))
    clinic_db.expire_all()
    if allowed:
        assert response.status_code == 204 and clinic_db.get(CareLink, link_id) is None
        assert _audit(clinic_db, "link.delete", link_id, since) == [(clinic.world.ids[caller], {})]
    else:
        assert (response.status_code, _detail(response)) == (
            403,
            f"You may not remove link {link_id}.",
        )
        assert clinic_db.get(CareLink, link_id) is not None


def test_removing_a_missing_link(clinic: Clinic, clinic_client: TestClient) -> None:
    """Rule: an admin is told there is no such link (404); a therapist gets the same 403 as for
    a link that is not theirs, so ids reveal nothing."""
    admin = clinic_client.delete("/api/links/999999", headers=clinic.world.headers("admin"))
    assert (admin.status_code, _detail(admin)) == (404, "No link 999999.")
    other = clinic_client.delete("/api/links/999999", headers=clinic.world.headers("therapist_a"))
    assert (other.status_code, _detail(other)) == (403, "You may not remove link 999999.")


def test_the_links_of_a_patient_are_listed(clinic: Clinic, clinic_client: TestClient) -> None:
    """Rule: a patient's links are theirs only: patient_p's list names their therapist and
    caregiver, not patient_q's therapist."""
    ids = clinic.world.ids
    url = f"/api/patients/{ids['patient_p']}/links"
    listed = clinic_client.get(url, headers=clinic.world.headers("patient_p")).json()
    pairs = {(row["patient_id"], row["carer_id"], row["kind"]) for row in listed}
    assert (ids["patient_p"], ids["therapist_a"], "therapist") in pairs
    assert (ids["patient_p"], ids["caregiver_c"], "caregiver") in pairs
    assert all(patient == ids["patient_p"] for patient, _, _ in pairs)


# --- API logins -------------------------------------------------------------------------------
def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_an_api_login_gives_a_90_day_bearer_token_of_that_account(
    clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: the right password gives a bearer token (stored as kind "bearer", lasting 90 days)
    that identifies the account; the login is audited. A wrong one is a 401 with the reason
    and gives no token."""
    user = _user(clinic_db, Role.caregiver)
    tokens = clinic_db.scalar(select(func.count(AuthToken.id)))
    wrong = clinic_client.post(
        "/api/auth/token", json={"username": user.username, "password": "not the password"}
    )
    assert (wrong.status_code, _detail(wrong)) == (401, "Wrong username or password.")
    assert clinic_db.scalar(select(func.count(AuthToken.id))) == tokens
    right = clinic_client.post(
        "/api/auth/token", json={"username": user.username, "password": PASSWORD}
    )
    assert right.status_code == 200
    body = right.json()
    assert (body["token_type"], body["expires_in_s"]) == ("bearer", 90 * 24 * 3600)
    me = clinic_client.get("/api/me", headers=_bearer(body["access_token"])).json()
    assert (me["id"], me["username"], me["role"]) == (user.id, user.username, "caregiver")
    clinic_db.expire_all()
    [kind] = clinic_db.scalars(select(AuthToken.kind).where(AuthToken.user_id == user.id))
    assert kind == "bearer"
    assert _audit(clinic_db, "login.api", user.id) == [(user.id, {})]


def test_too_many_wrong_api_logins_are_a_429_saying_how_long_to_wait(
    clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: after the 5th wrong password the API answers 429 with the wait in Retry-After
    (seconds, within the 15-minute window) and in words."""
    user = _user(clinic_db, Role.caregiver)
    wrong = {"username": user.username, "password": "not the password"}
    for _ in range(5):
        assert clinic_client.post("/api/auth/token", json=wrong).status_code == 401
    blocked = clinic_client.post("/api/auth/token", json={**wrong, "password": PASSWORD})
    assert blocked.status_code == 429
    wait = int(blocked.headers["retry-after"])
    assert 890 < wait <= 901
    assert _detail(blocked) == "Too many wrong passwords. Please wait 15 minutes and try again."


def test_an_api_logout_ends_only_the_token_it_was_sent_with(
    clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: logging out ends this token (401 afterwards) and not the account's other logins;
    logging out everywhere ends all of them and audits how many."""
    user = _user(clinic_db, Role.caregiver)
    login = {"username": user.username, "password": PASSWORD}
    first, second, third = (
        clinic_client.post("/api/auth/token", json=login).json()["access_token"] for _ in range(3)
    )
    assert clinic_client.post("/api/auth/logout", headers=_bearer(first)).status_code == 204
    assert clinic_client.get("/api/me", headers=_bearer(first)).status_code == 401
    assert clinic_client.get("/api/me", headers=_bearer(second)).status_code == 200
    assert _audit(clinic_db, "logout", user.id) == [(user.id, {})]
    everywhere = clinic_client.post("/api/auth/logout-everywhere", headers=_bearer(second))
    assert everywhere.status_code == 204
    assert clinic_client.get("/api/me", headers=_bearer(third)).status_code == 401
    assert _audit(clinic_db, "logout.everywhere", user.id) == [(user.id, {"tokens": 2})]
