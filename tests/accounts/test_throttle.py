"""Password guessing is slowed down: failed logins counted per account-and-address and per
address within a window, checked before the password (accounts/throttle.py).

Times are passed as ``now``: no sleeping. Each test uses its own address and account names, so
the module's clinic database can be shared.
"""

from __future__ import annotations

import itertools
import pickle
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.accounts.throttle import (
    PER_ACCOUNT_AND_ADDRESS,
    PER_ADDRESS,
    WINDOW,
    ThrottledError,
    check,
    record_failure,
    record_success,
)
from openrehab.store.models import LoginFailure, utc_now

_numbers = itertools.count(1)
SECOND = timedelta(seconds=1)


def _address() -> str:
    """An address no other test uses."""
    return f"10.0.0.{next(_numbers)}"


def _fail(db: Session, username: str, address: str, times: int, now: object) -> None:
    for _ in range(times):
        record_failure(db, username, address, now=now)  # type: ignore[arg-type]
    db.commit()


def _wait(db: Session, username: str, address: str, now: object) -> int | None:
    """Seconds the login must wait, or None when it may be tried now."""
    try:
        check(db, username, address, now=now)  # type: ignore[arg-type]
    except ThrottledError as exc:
        return exc.retry_after_s
    finally:
        db.commit()
    return None


@pytest.mark.parametrize(
    ("retry_after_s", "words"),
    [
        (1, "1 minute"),
        (60, "1 minute"),
        (89, "1 minute"),
        (91, "2 minutes"),
        (900, "15 minutes"),
    ],
)
def test_the_wait_is_said_in_whole_minutes(retry_after_s: int, words: str) -> None:
    """Rule: the person locked out reads how long to wait in whole minutes, at least one
    ("1 minute", "2 minutes"), rounded to the nearest minute."""
    error = ThrottledError(retry_after_s)
    assert str(error) == f"Too many wrong passwords. Please wait {words} and try again."
    assert error.retry_after_s == retry_after_s


def test_a_throttle_error_keeps_its_wait_when_passed_on() -> None:
    """Rule: the error keeps its wait in ``args``, so it survives being pickled (a worker
    process handing it on) and its repr names it."""
    copy = pickle.loads(pickle.dumps(ThrottledError(421)))
    assert copy.retry_after_s == 421 and copy.args == (421,)


@pytest.mark.parametrize(
    ("limit", "same_account"),
    [(PER_ACCOUNT_AND_ADDRESS, True), (PER_ADDRESS, False)],
    ids=["account-and-address", "address"],
)
def test_a_login_is_refused_from_the_limit_on_until_the_oldest_failure_leaves_the_window(
    limit: int, same_account: bool, clinic_db: Session
) -> None:
    """Rule: ``limit`` failures within the window (5 for one account from one address, 30 for
    any accounts from one address) refuse the next try; one fewer does not. The wait ends one
    second after the oldest failure leaves the window; at that instant the login is allowed."""
    address, start = _address(), utc_now()
    names = itertools.repeat("guessed") if same_account else (f"name-{i}" for i in range(99))
    for second in range(limit - 1):
        _fail(clinic_db, next(names), address, 1, start + second * SECOND)
    last = start + (limit - 1) * SECOND
    assert _wait(clinic_db, "guessed", address, last) is None, "one under the limit: allowed"
    _fail(clinic_db, next(names), address, 1, last)
    now = last + 10 * SECOND
    wait = _wait(clinic_db, "guessed", address, now)
    assert wait == int((start + WINDOW - now).total_seconds()) + 1, "until the oldest has left"
    assert _wait(clinic_db, "guessed", address, start + WINDOW - SECOND) == 2, "1 s + 1"
    assert _wait(clinic_db, "guessed", address, start + WINDOW - SECOND / 2) == 1, "under 1 s: 1"
    assert _wait(clinic_db, "guessed", address, start + WINDOW) is None, "oldest left: allowed"


def test_failures_of_other_accounts_and_addresses_do_not_count(clinic_db: Session) -> None:
    """Rule: the per-account count is of one account from one address: the same account from
    another address, and another account from this address (below the address limit), may
    still try. Names are counted as the login normalises them (case and spaces)."""
    address, now = _address(), utc_now()
    _fail(clinic_db, " Guessed ", address, PER_ACCOUNT_AND_ADDRESS, now)
    assert _wait(clinic_db, "guessed", address, now) is not None, "same account, other spelling"
    assert _wait(clinic_db, "guessed", _address(), now) is None, "another address"
    assert _wait(clinic_db, "someone-else", address, now) is None, "another account"


def test_a_failure_is_stored_under_both_keys_and_old_ones_are_deleted(clinic_db: Session) -> None:
    """Rule: one attempt stores one row per key (account-and-address, address) at its time;
    rows that left the window are deleted by the next attempt, rows inside it are kept."""
    address, now = _address(), utc_now()
    old = record_failure(clinic_db, "Who", address, now=now - WINDOW)
    kept = record_failure(clinic_db, "who", address, now=now - WINDOW + SECOND)
    rows = record_failure(clinic_db, "who", address, now=now)
    clinic_db.commit()
    assert [(r.key, r.failed_at) for r in rows] == [
        (f"pair:{address}|who", now),
        (f"ip:{address}", now),
    ]
    stored = {r.id for r in clinic_db.scalars(select(LoginFailure))}
    assert {r.id for r in old}.isdisjoint(stored), "left the window: deleted"
    assert {r.id for r in kept + rows} <= stored


def test_a_right_password_uncounts_its_attempt_and_clears_the_accounts_count(
    clinic_db: Session,
) -> None:
    """Rule: a successful login removes its own attempt and every failure of that account from
    that address, but not the address's failures for other accounts (they still count)."""
    address, now = _address(), utc_now()
    _fail(clinic_db, "other", address, 2, now)
    _fail(clinic_db, "who", address, PER_ACCOUNT_AND_ADDRESS - 1, now)
    attempt = record_failure(clinic_db, "who", address, now=now)
    clinic_db.commit()
    record_success(clinic_db, "Who", address, attempt)
    clinic_db.commit()
    left = clinic_db.scalars(select(LoginFailure.key).where(LoginFailure.key.contains(address)))
    assert sorted(left) == sorted([f"pair:{address}|other"] * 2 + [f"ip:{address}"] * 6)


def test_a_long_name_is_counted_under_its_first_80_characters(clinic_db: Session) -> None:
    """Rule: a name is counted under its first 80 characters (the longest username), so the
    key fits its column whatever a caller passes."""
    address, now = _address(), utc_now()
    [pair, _] = record_failure(clinic_db, "x" * 80 + "tail", address, now=now)
    clinic_db.commit()
    assert pair.key == f"pair:{address}|" + "x" * 80
