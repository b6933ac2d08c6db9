"""Slowing down password guessing: failed logins are counted per address and account.

A login is refused (HTTP 429, with how long to wait) before its password is even checked when,
within the last ``WINDOW``, there were ``PER_ACCOUNT_AND_ADDRESS`` failures for that account
from that address or ``PER_ADDRESS`` failures from that address. Each attempt is counted as a
failure before its password is checked (and uncounted if it was right), so parallel guesses
cannot all pass the check. There is deliberately no limit per account from anywhere: anyone
could then lock a therapist out by guessing wrong on purpose; guessing spread over many
addresses is met by the password policy instead. A successful login clears its
account-and-address count. Failures are stored in the database, so every worker process
and every server of a clinic sees the same counts. (OWASP Authentication Cheat Sheet,
"Protect against automated attacks"; NIST SP 800-63B 5.2.2, rate limiting: at most 100
consecutive failures per account.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from openrehab.store.db import take_sqlite_write_lock
from openrehab.store.models import LoginFailure, utc_now

WINDOW = timedelta(minutes=15)
PER_ACCOUNT_AND_ADDRESS = 5
PER_ADDRESS = 30


class ThrottledError(Exception):
    """Too many failed logins; ``retry_after_s`` says when the next try is allowed."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(retry_after_s)
        self.retry_after_s = retry_after_s

    def __str__(self) -> str:
        minutes = max(1, round(self.retry_after_s / 60))
        return (
            f"Too many wrong passwords. Please wait {minutes} "
            f"{'minute' if minutes == 1 else 'minutes'} and try again."
        )


def _keys(username: str, address: str) -> dict[str, int]:
    name = username.strip().lower()[:80]
    return {
        f"pair:{address}|{name}": PER_ACCOUNT_AND_ADDRESS,
        f"ip:{address}": PER_ADDRESS,
    }


def check(db: Session, username: str, address: str, now: datetime | None = None) -> None:
    """Raise :class:`ThrottledError` if this login may not be tried now.

    Attempts at one account from one address are serialised from here until the caller
    commits the attempt's failure row (``record_failure``), so parallel guesses each see the
    ones before them."""
    _serialise(db, next(iter(_keys(username, address))))
    now = now or utc_now()
    since = now - WINDOW
    wait_s = 0
    for key, limit in _keys(username, address).items():
        count, oldest = db.execute(
            select(func.count(LoginFailure.id), func.min(LoginFailure.failed_at)).where(
                LoginFailure.key == key, LoginFailure.failed_at > since
            )
        ).one()
        if count >= limit and oldest is not None:
            wait_s = max(wait_s, int((oldest + WINDOW - now).total_seconds()) + 1)
    if wait_s > 0:
        raise ThrottledError(wait_s)


def _serialise(db: Session, key: str) -> None:
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    else:
        take_sqlite_write_lock(db.connection())


def record_failure(
    db: Session, username: str, address: str, now: datetime | None = None
) -> list[LoginFailure]:
    """Count an attempt as failed (flushed; the caller commits); returns its rows."""
    now = now or utc_now()
    db.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - WINDOW))
    rows = [LoginFailure(key=key, failed_at=now) for key in _keys(username, address)]
    db.add_all(rows)
    db.flush()
    return rows


def record_success(
    db: Session,
    username: str,
    address: str,
    attempt: list[LoginFailure] = (),  # type: ignore[assignment]
) -> None:
    """Uncount ``attempt`` (the rows of this login) and clear the account-and-address count."""
    pair = next(iter(_keys(username, address)))
    ids = [row.id for row in attempt]
    db.execute(delete(LoginFailure).where((LoginFailure.key == pair) | LoginFailure.id.in_(ids)))
