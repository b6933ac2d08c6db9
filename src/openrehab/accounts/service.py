"""Accounts: creating users, logging in, and tokens for browser cookies and API clients.

Tokens are random 256-bit strings handed to the client once; only their SHA-256 is stored,
so a leaked database does not leak live sessions. A token ends at its absolute lifetime or
after an idle time without use (shorter for clinicians, whose computers are shared; OWASP
Session Management Cheat Sheet, "Session expiration"), at logout, or at "log out everywhere".
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from openrehab.accounts import throttle
from openrehab.accounts.passwords import (
    check_password_strength,
    hash_password,
    needs_rehash,
    verify_password,
)
from openrehab.store.models import AuditLog, AuthToken, PatientProfile, Role, User, utc_now

COOKIE_TOKEN_LIFETIME = timedelta(days=14)
BEARER_TOKEN_LIFETIME = timedelta(days=90)
#: Idle time after which a login ends: (browser of a clinician, browser of a patient or
#: caregiver at home, API client).
CLINICIAN_COOKIE_IDLE = timedelta(hours=12)
HOME_COOKIE_IDLE = timedelta(days=3)
BEARER_TOKEN_IDLE = timedelta(days=30)
# last_used_at is written at most this often, so reading pages does not mean writing each time.
LAST_USED_RESOLUTION = timedelta(minutes=1)
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")


class AccountError(ValueError):
    """A request about accounts cannot be done; the message says why in one sentence."""


def validate_username(username: str) -> str:
    normalised = username.strip().lower()
    if not USERNAME_PATTERN.match(normalised):
        raise AccountError(
            "Username must be 2-80 characters: lower-case letters, digits, '.', '_' or '-'."
        )
    return normalised


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role | str,
    display_name: str | None = None,
) -> User:
    """Create a user (and an empty profile for a patient). Raises AccountError."""
    username = validate_username(username)
    try:
        role = Role(role)
    except ValueError as exc:
        raise AccountError(
            f"Unknown role {role!r}; choose one of: {', '.join(r.value for r in Role)}."
        ) from exc
    check_password_strength(password, [username, display_name or ""])
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"A user named {username!r} already exists.")
    user = User(
        username=username,
        display_name=(display_name or username).strip()[:120] or username,
        role=role,
        password_hash=hash_password(password),
    )
    if role is Role.patient:
        user.profile = PatientProfile()
    session.add(user)
    session.flush()
    audit(session, None, "user.create", "user", user.id, {"role": role.value})
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active:
        # Hash anyway so a missing user takes as long as a wrong password.
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def login(session: Session, username: str, password: str, address: str) -> User | None:
    """Check a login attempt from ``address``: the user, or None for wrong credentials
    (recorded, and audited). Raises :class:`throttle.ThrottledError` without checking the password
    when there were too many failures."""
    throttle.check(session, username, address)
    # Counted as failed before the (slow) password check, and committed, so that parallel
    # guesses see each other; a right password uncounts it.
    attempt = throttle.record_failure(session, username, address)
    session.commit()
    user = authenticate(session, username, password)
    if user is None:
        audit(session, None, "login.failed", "user", None, {"username": username[:80]})
    else:
        throttle.record_success(session, username, address, attempt)
    return user


def issue_token(session: Session, user: User, kind: str = "cookie") -> str:
    """Create a login token for ``user``; returns the secret (shown once)."""
    secret = secrets.token_urlsafe(32)
    lifetime = COOKIE_TOKEN_LIFETIME if kind == "cookie" else BEARER_TOKEN_LIFETIME
    session.add(
        AuthToken(
            user_id=user.id,
            token_sha256=_digest(secret),
            kind=kind,
            expires_at=utc_now() + lifetime,
            last_used_at=utc_now(),
        )
    )
    session.flush()
    return secret


def idle_limit(token: AuthToken, user: User) -> timedelta:
    if token.kind != "cookie":
        return BEARER_TOKEN_IDLE
    return CLINICIAN_COOKIE_IDLE if user.role in (Role.therapist, Role.admin) else HOME_COOKIE_IDLE


#: The token and its user in one query, built once: authentication runs on every request, and
#: building the statement anew cost as much as running it.
_TOKEN_AND_USER = (
    select(AuthToken, User)
    .join(User, User.id == AuthToken.user_id)
    .where(AuthToken.token_sha256 == bindparam("digest"))
)


def user_for_token(session: Session, secret: str, now: datetime | None = None) -> User | None:
    """The active user a live token belongs to, else None (expired, idle, revoked)."""
    if not secret or len(secret) > 200:
        return None
    now = now or utc_now()
    row = session.execute(_TOKEN_AND_USER, {"digest": _digest(secret)}).first()
    if row is None:
        return None
    token, user = row
    if token.expires_at <= now or not user.active:
        return None
    last_used = token.last_used_at or token.created_at
    if now - last_used > idle_limit(token, user):
        return None
    if now - last_used > LAST_USED_RESOLUTION:
        session.execute(update(AuthToken).where(AuthToken.id == token.id).values(last_used_at=now))
        session.commit()  # its own short write, before the request's work
    return user


def revoke_token(session: Session, secret: str) -> None:
    session.execute(delete(AuthToken).where(AuthToken.token_sha256 == _digest(secret)))


def revoke_all_tokens(session: Session, user: User) -> int:
    """Log ``user`` out everywhere: every browser session and API token ends now."""
    result = session.execute(delete(AuthToken).where(AuthToken.user_id == user.id))
    return int(getattr(result, "rowcount", 0) or 0)


_INSERT_AUDIT = insert(AuditLog.__table__)


def audit(
    session: Session,
    user: User | None,
    action: str,
    target_type: str | None = None,
    target_id: object = None,
    detail: dict[str, object] | None = None,
) -> None:
    session.execute(
        _INSERT_AUDIT,
        {
            "user_id": user.id if user is not None else None,
            "action": action,
            "target_type": target_type,
            "target_id": None if target_id is None else str(target_id),
            "detail": detail or {},
            "at": utc_now(),
        },
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


_DUMMY_HASH = hash_password("timing-equaliser-not-a-real-password")
