"""Slowing down password guessing: failed logins are counted per address and account.

A login is refused (HTTP 429, with how long to wait) before its password is even checked when,
within the last ``WINDOW``, there were ``PER_ACCOUNT_AND_ADDRESS`` failures for that account
from that address, ``PER_ADDRESS`` failures from that address, or ``PER_ACCOUNT`` failures for
that account from anywhere (guessing spread over many addresses). A successful login clears
its account-and-address count. Failures are stored in the database, so every worker process
and every server of a clinic sees the same counts. (OWASP Authentication Cheat Sheet,
"Protect against automated attacks"; NIST SP 800-63B 5.2.2, rate limiting: at most 100
consecutive failures per account.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openrehab.store.models import LoginFailure, utc_now

WINDOW = timedelta(minutes=15)
PER_ACCOUNT_AND_ADDRESS = 5
PER_ADDRESS = 30
PER_ACCOUNT = 30


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
        f"user:{name}": PER_ACCOUNT,
    }


def check(db: Session, username: str, address: str, now: datetime | None = None) -> None:
    """Raise :class:`ThrottledError` if this login may not be tried now."""
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


def record_failure(db: Session, username: str, address: str, now: datetime | None = None) -> None:
    now = now or utc_now()
    keys = list(_keys(username, address))
    db.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - WINDOW))
    db.add_all(LoginFailure(key=key, failed_at=now) for key in keys)


def record_success(db: Session, username: str, address: str) -> None:
    pair = next(iter(_keys(username, address)))
    db.execute(delete(LoginFailure).where(LoginFailure.key == pair))
