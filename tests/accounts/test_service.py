"""Logins end: at a token's absolute lifetime, after its idle time, and with the account.

A login left open on a shared clinic computer or a lost phone is a way into health records
(OWASP Session Management Cheat Sheet, "Session expiration"); an account closed by the clinic
(a carer who left, a patient discharged) must stop working at once, including on the devices
where it is still logged in. Times are set in the store (or passed as ``now``): no sleeping.
"""

from __future__ import annotations

import hashlib
import string
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from openrehab.accounts.service import (
    BEARER_TOKEN_IDLE,
    BEARER_TOKEN_LIFETIME,
    CLINICIAN_COOKIE_IDLE,
    COOKIE_TOKEN_LIFETIME,
    HOME_COOKIE_IDLE,
    LAST_USED_RESOLUTION,
    issue_token,
    user_for_token,
)
from openrehab.store.models import AuthToken, User, utc_now
from openrehab.web.deps import COOKIE_NAME
from support import Clinic, store_changes

TICK = timedelta(microseconds=1)
#: (token kind, account, idle limit, absolute lifetime): every limit the service has.
LIMITS = [
    ("bearer", "patient_p", BEARER_TOKEN_IDLE, BEARER_TOKEN_LIFETIME),
    ("bearer", "therapist_a", BEARER_TOKEN_IDLE, BEARER_TOKEN_LIFETIME),
    ("cookie", "therapist_a", CLINICIAN_COOKIE_IDLE, COOKIE_TOKEN_LIFETIME),
    ("cookie", "admin", CLINICIAN_COOKIE_IDLE, COOKIE_TOKEN_LIFETIME),
    ("cookie", "patient_p", HOME_COOKIE_IDLE, COOKIE_TOKEN_LIFETIME),
    ("cookie", "caregiver_c", HOME_COOKIE_IDLE, COOKIE_TOKEN_LIFETIME),
]
each_limit = pytest.mark.parametrize(
    ("kind", "who", "idle", "lifetime"), LIMITS, ids=[f"{k}-{w}" for k, w, _, _ in LIMITS]
)


def _token(session: Session, clinic: Clinic, who: str, kind: str) -> tuple[str, AuthToken]:
    """A new login token of ``who``: (its secret, its row)."""
    secret = issue_token(session, session.get_one(User, clinic.world.ids[who]), kind=kind)
    session.commit()
    token = session.scalars(select(AuthToken).order_by(AuthToken.id.desc())).first()
    assert token is not None
    return secret, token


def _set_times(session: Session, token: AuthToken, **times: datetime) -> None:
    session.execute(update(AuthToken).where(AuthToken.id == token.id).values(**times))
    session.commit()
    session.refresh(token)


def _who(session: Session, secret: str, now: datetime) -> int | None:
    user = user_for_token(session, secret, now=now)
    return user.id if user is not None else None


@each_limit
def test_a_login_ends_exactly_at_its_absolute_lifetime(
    kind: str, who: str, idle: timedelta, lifetime: timedelta, clinic_db: Session, clinic: Clinic
) -> None:
    """Rule: a token lives ``lifetime`` from its creation (14 days for a browser, 90 for an API
    client), however often it is used: refused from that instant on, accepted a microsecond
    before."""
    secret, token = _token(clinic_db, clinic, who, kind)
    assert timedelta(0) <= token.created_at + lifetime - token.expires_at < timedelta(seconds=1)
    end = token.expires_at
    # Used a minute before: only the lifetime can end it.
    _set_times(clinic_db, token, last_used_at=end - timedelta(minutes=1))
    assert _who(clinic_db, secret, now=end) is None, "refused at the end of its lifetime"
    assert _who(clinic_db, secret, now=end + timedelta(days=1)) is None, "refused after it"
    assert _who(clinic_db, secret, now=end - TICK) == clinic.world.ids[who], "works until then"


@each_limit
def test_a_login_ends_when_idle_longer_than_its_limit(
    kind: str, who: str, idle: timedelta, lifetime: timedelta, clinic_db: Session, clinic: Clinic
) -> None:
    """Rule: a token unused for longer than its idle limit (12 h for a clinician's browser,
    3 days for a browser at home, 30 days for an API client) is refused a microsecond past the
    limit and works a microsecond before it; that use restarts the idle time."""
    secret, token = _token(clinic_db, clinic, who, kind)
    last_used = token.created_at + timedelta(hours=1)
    _set_times(clinic_db, token, last_used_at=last_used)
    assert _who(clinic_db, secret, now=last_used + idle + TICK) is None, "refused past the limit"
    assert _who(clinic_db, secret, now=last_used + idle - TICK) == clinic.world.ids[who]
    clinic_db.refresh(token)
    assert token.last_used_at == last_used + idle - TICK, "a use restarts the idle time"
    assert _who(clinic_db, secret, now=last_used + 2 * idle - 2 * TICK) == clinic.world.ids[who]
    assert _who(clinic_db, secret, now=last_used + 3 * idle) is None, "idle again: refused"


@each_limit
def test_the_app_refuses_expired_and_idle_logins(
    kind: str,
    who: str,
    idle: timedelta,
    lifetime: timedelta,
    clinic_client: TestClient,
    clinic_db: Session,
    clinic: Clinic,
) -> None:
    """Rule, through the app: a token past its lifetime or idle limit gets 401 (and a page
    sends the browser to the login); one a minute inside both limits is the account."""
    secret, token = _token(clinic_db, clinic, who, kind)
    headers = {"Authorization": f"Bearer {secret}"} if kind == "bearer" else {}
    if kind == "cookie":
        clinic_client.cookies.set(COOKIE_NAME, secret)
    now = utc_now()
    cases = [
        ({"expires_at": now - timedelta(seconds=1), "last_used_at": now}, 401),
        ({"expires_at": now + timedelta(minutes=1), "last_used_at": now}, 200),
        ({"expires_at": now + lifetime, "last_used_at": now - idle - timedelta(minutes=1)}, 401),
        ({"expires_at": now + lifetime, "last_used_at": now - idle + timedelta(minutes=1)}, 200),
    ]
    answers = []
    for times, _ in cases:
        _set_times(clinic_db, token, **times)
        me = clinic_client.get("/api/me", headers=headers)
        page = clinic_client.get("/", headers=headers)
        answers.append((me.status_code, me.json().get("id"), page.status_code))
    works, refused = (200, clinic.world.ids[who], 200), (401, None, 303)
    assert answers == [refused if code == 401 else works for _, code in cases]


def _token_count(session: Session, user_id: int) -> int | None:
    session.expire_all()
    return session.scalar(select(func.count(AuthToken.id)).where(AuthToken.user_id == user_id))


@pytest.mark.parametrize("who", ["patient_p", "caregiver_c", "therapist_a", "admin"])
def test_a_deactivated_account_cannot_log_in_and_its_logins_end(
    who: str, clinic_client: TestClient, clinic_db: Session, clinic: Clinic
) -> None:
    """Rule: once the clinic deactivates an account, its password no longer logs in (form or
    API) and the browser cookies and API tokens it already holds stop working: a page write
    with its cookie stores nothing. Reactivated, the same password works again (so the
    refusal was the deactivation, not the password)."""
    world = clinic.world
    user_id, credentials = world.ids[who], {"username": who.replace("_", "-"), "password": ""}
    credentials["password"] = f"password-{who}"
    clinic_client.cookies.set(COOKIE_NAME, issue_token(clinic_db, clinic_db.get_one(User, user_id)))
    clinic_db.commit()
    bearer = world.headers(who)
    assert clinic_client.get("/api/me", headers=bearer).json()["id"] == user_id
    assert clinic_client.get("/api/me").json()["id"] == user_id  # the cookie

    clinic_db.execute(update(User).where(User.id == user_id).values(active=False))
    clinic_db.commit()
    tokens = _token_count(clinic_db, user_id)
    before = clinic.snapshot()
    assert clinic_client.get("/api/me", headers=bearer).status_code == 401
    assert clinic_client.get("/api/me").status_code == 401  # the cookie
    assert clinic_client.get("/").headers["location"].startswith("/login")
    pain = clinic_client.post(f"/patients/{world.ids['patient_p']}/pain", data={"nrs": "5"})
    assert pain.status_code == 303 and pain.headers["location"].startswith("/login")
    clinic_client.cookies.clear()
    assert clinic_client.post("/api/auth/token", json=credentials).status_code == 401
    form = clinic_client.post("/login", data=credentials)
    assert form.status_code == 401 and COOKIE_NAME not in form.cookies
    assert _token_count(clinic_db, user_id) == tokens, "no new login for a deactivated account"
    assert set(store_changes(before, clinic.snapshot())) <= {"audit_log"}, "nothing stored"

    clinic_db.execute(update(User).where(User.id == user_id).values(active=True))
    clinic_db.commit()
    assert clinic_client.post("/api/auth/token", json=credentials).status_code == 200
    assert clinic_client.post("/login", data=credentials).status_code == 303


def test_the_last_use_is_written_at_most_once_a_minute(clinic: Clinic, clinic_db: Session) -> None:
    """Rule: reading pages does not write each time: a use within a minute of the stored last
    use (exactly a minute included) leaves it; a use later than that stores its time, on this
    login only (another login's idle time is not restarted by it)."""
    secret, token = _token(clinic_db, clinic, "patient_p", "cookie")
    last_used = token.created_at + timedelta(hours=1)
    _set_times(clinic_db, token, last_used_at=last_used)
    for now in (last_used + timedelta(seconds=30), last_used + LAST_USED_RESOLUTION):
        assert _who(clinic_db, secret, now=now) == clinic.world.ids["patient_p"]
        clinic_db.refresh(token)
        assert token.last_used_at == last_used, "within the minute: not written"
    _, other = _token(clinic_db, clinic, "caregiver_c", "cookie")
    _set_times(clinic_db, other, last_used_at=last_used)
    later = last_used + LAST_USED_RESOLUTION + TICK
    assert _who(clinic_db, secret, now=later) == clinic.world.ids["patient_p"]
    clinic_db.refresh(token)
    clinic_db.refresh(other)
    assert token.last_used_at == later
    assert other.last_used_at == last_used, "another login's last use is its own"


def test_a_token_never_used_is_idle_from_its_creation(clinic: Clinic, clinic_db: Session) -> None:
    """Rule: a token without a recorded use counts its idle time from its creation."""
    secret, token = _token(clinic_db, clinic, "therapist_a", "cookie")
    _set_times(clinic_db, token, last_used_at=None)
    start = token.created_at
    assert _who(clinic_db, secret, now=start + CLINICIAN_COOKIE_IDLE + TICK) is None
    assert _who(clinic_db, secret, now=start + CLINICIAN_COOKIE_IDLE - TICK) is not None


@pytest.mark.parametrize("secret", ["", "x" * 43, "x" * 201])
def test_an_unknown_empty_or_overlong_secret_is_nobody(secret: str, clinic_db: Session) -> None:
    """Rule: a secret that is empty, unknown or longer than any token is no login."""
    assert user_for_token(clinic_db, secret) is None


def test_a_token_is_256_random_bits_and_only_its_hash_is_stored(
    clinic: Clinic, clinic_db: Session
) -> None:
    """Rule: a login secret is 32 random bytes (43 URL-safe characters), new each time; the
    store keeps only its SHA-256, so a leaked database holds no live login."""
    secret, token = _token(clinic_db, clinic, "caregiver_c", "bearer")
    other, _ = _token(clinic_db, clinic, "caregiver_c", "bearer")
    assert len(secret) == 43 and set(secret) <= set(string.ascii_letters + string.digits + "-_")
    assert secret != other
    assert token.token_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert (token.user_id, token.kind) == (clinic.world.ids["caregiver_c"], "bearer")


def test_a_login_idle_exactly_its_limit_still_works(clinic: Clinic, clinic_db: Session) -> None:
    """Rule: only idle time longer than the limit ends a login; exactly the limit does not."""
    secret, token = _token(clinic_db, clinic, "therapist_a", "cookie")
    last_used = token.created_at + timedelta(minutes=5)
    _set_times(clinic_db, token, last_used_at=last_used)
    assert _who(clinic_db, secret, now=last_used + CLINICIAN_COOKIE_IDLE) is not None


def test_a_use_is_recorded_even_when_the_request_is_refused(
    clinic: Clinic, clinic_client: TestClient, clinic_db: Session
) -> None:
    """Rule: the last use of a login is written on its own, before the request's work, so a
    request that is then refused (403, rolled back) still counts as a use of the login."""
    secret, token = _token(clinic_db, clinic, "therapist_b", "bearer")
    _set_times(clinic_db, token, last_used_at=utc_now() - timedelta(hours=1))
    url = f"/api/patients/{clinic.world.ids['patient_p']}/sessions"
    refused = clinic_client.get(url, headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 403
    clinic_db.expire_all()
    used = clinic_db.get_one(AuthToken, token.id).last_used_at
    assert used is not None and utc_now() - used < timedelta(minutes=1)
