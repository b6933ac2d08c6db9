"""Password hashing with Argon2id (RFC 9106) via argon2-cffi."""

from __future__ import annotations

import os

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

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


class WeakPasswordError(ValueError):
    """The password does not meet the minimum rules."""


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"Password must be at least {MIN_PASSWORD_LENGTH} characters long.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
