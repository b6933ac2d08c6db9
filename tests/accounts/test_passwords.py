"""The password policy and hashing (accounts/passwords.py).

A health record is only as safe as its weakest password (NIST SP 800-63B 5.1.1.2): at least
8 characters, not a common or easily guessed one (zxcvbn score at least 2 of 4), not built
from the user's own name or the product's name. The reason is shown to the person choosing it.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from openrehab.accounts.passwords import (
    MIN_PASSWORD_LENGTH,
    WeakPasswordError,
    check_password_strength,
    hash_password,
    needs_rehash,
    verify_password,
)

ADVICE = "Use a few unusual words together, for example 'blue kettle under stairs'."


def _refusal(password: str, user_inputs: list[str] | None = None) -> str | None:
    """The reason ``password`` is refused, or None when it may be used."""
    try:
        check_password_strength(password, user_inputs or [])
    except WeakPasswordError as exc:
        return str(exc)
    return None


def test_a_password_needs_at_least_8_characters() -> None:
    """Rule: 7 characters are refused with the length named; 8 hard-to-guess ones are
    accepted (zxcvbn rates ``qz7kpx2w`` exactly 2, the lowest accepted score)."""
    assert MIN_PASSWORD_LENGTH == 8
    assert _refusal("qz7kpx2") == "Password must be at least 8 characters long."
    assert _refusal("qz7kpx2w") is None


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("kettle77", ""),  # zxcvbn score 1, no warning
        ("password", " This is a top-10 common password."),
        ("sunrise9", " This is similar to a commonly used password."),
    ],
)
def test_an_easily_guessed_password_is_refused_with_zxcvbns_reason(
    password: str, reason: str
) -> None:
    """Rule: a password zxcvbn rates below 2 is refused; the message says so, gives zxcvbn's
    warning when it has one (as one sentence) and advises how to choose a better one."""
    assert _refusal(password) == f"That password is too easy to guess.{reason} {ADVICE}"


@pytest.mark.parametrize(
    ("password", "known"),
    [
        ("margaret-fox1", ["margaret-fox"]),  # the user's own name
        ("openrehab", []),  # the product
        ("rehab2024", []),  # what it is for
    ],
)
def test_a_password_built_from_known_words_is_refused(password: str, known: list[str]) -> None:
    """Rule: the user's names and the words "openrehab" and "rehab" count as known words:
    these passwords, acceptable to zxcvbn on their own, are refused here (empty names are
    ignored)."""
    assert _refusal(password, ["", *known]) is not None
    assert _refusal("margaret-fox1", ["", "someone-else"]) is None, "a name that is not theirs"


def test_a_long_passphrase_is_rated_by_its_start() -> None:
    """Rule: any length up to the form's 200 characters is rated without error (zxcvbn itself
    refuses over 72; tests/web/test_security.py checks it through the API); beyond that the
    start decides, so a weak start is refused."""
    phrase = "blue kettle under the stairs, a red teapot on the shelf by the window at dusk"
    assert len(phrase) > 72 and _refusal(phrase) is None
    assert _refusal(phrase * 2) is None
    assert _refusal("a" * 100 + "Zq8#kP2xLm9$wT4") is not None


def test_a_hash_verifies_only_its_own_password() -> None:
    """Rule: the right password verifies, a wrong one or a damaged hash does not (False, no
    error: a login with a broken stored hash is simply refused)."""
    stored = hash_password("blue kettle under stairs")
    assert stored.startswith("$argon2id$") and "blue" not in stored
    assert verify_password(stored, "blue kettle under stairs") is True
    assert verify_password(stored, "blue kettle under stair") is False
    assert verify_password("not-a-hash", "blue kettle under stairs") is False
    assert verify_password(stored[:-4] + "AAAA", "blue kettle under stairs") is False


def test_a_hash_made_with_other_parameters_needs_a_rehash() -> None:
    """Rule: a hash made with other Argon2 parameters than the current ones is flagged for
    rehashing (done at the next login); a current one is not."""
    assert needs_rehash(hash_password("blue kettle under stairs")) is False
    older = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1, hash_len=16, salt_len=8)
    assert needs_rehash(older.hash("blue kettle under stairs")) is True
