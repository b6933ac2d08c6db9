"""Password hashing with Argon2id (RFC 9106) via argon2-cffi, and the password policy.

Policy (NIST SP 800-63B 5.1.1.2): at least 8 characters, no composition rules, but not a
commonly used or easily guessed password, nor one built from the user's own name: zxcvbn
(Wheeler 2016, USENIX Security) must rate it at least 2 of 4 ("somewhat guessable": over a
million guesses), with the username and display name as known words.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

# The test suite hashes hundreds of passwords; it sets this variable to use Argon2's cheapest
# parameters. Real deployments never set it (argon2-cffi's RFC 9106 defaults apply), and a
# cheap hash is upgraded on the next login by needs_rehash().
TEST_FAST_HASH_ENV = "OPENREHAB_TEST_FAST_HASH"
_hasher = (
    PasswordHasher.from_parameters(profiles.CHEAPEST)
    if os.environ.get(TEST_FAST_HASH_ENV) == "1"
    else PasswordHasher()
)

MIN_PASSWORD_LENGTH = 8
MIN_ZXCVBN_SCORE = 2
ZXCVBN_MAX_LENGTH = 72
# Each Argon2 hash holds 64 MiB while it runs; at most this many run at once per process, so
# a burst of logins waits instead of exhausting memory and starving other requests.
_hashing_slots = threading.BoundedSemaphore(2)


class WeakPasswordError(ValueError):
    """The password does not meet the minimum rules."""


def check_password_strength(password: str, user_inputs: Iterable[str] = ()) -> None:
    """Raise :class:`WeakPasswordError` with a plain reason if ``password`` may not be used."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"Password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    known = [word for word in user_inputs if word] + ["openrehab", "rehab"]
    # zxcvbn refuses more than 72 characters (its cost grows with length): rate the start,
    # which for a long passphrase decides anyway.
    rating = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=known)
    if rating["score"] < MIN_ZXCVBN_SCORE:
        warning = rating["feedback"].get("warning")
        why = f" {warning.rstrip('.')}." if warning else ""
        raise WeakPasswordError(
            f"That password is too easy to guess.{why} "
            "Use a few unusual words together, for example 'blue kettle under stairs'."
        )


def hash_password(password: str) -> str:
    with _hashing_slots:
        return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        with _hashing_slots:
            return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
