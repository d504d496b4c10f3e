"""Password hashing with argon2id (argon2-cffi defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from meterhub.api.common_passwords import is_guessable

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "PasswordPolicyError",
    "check_password_policy",
    "hash_password",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 8
_HASHER = PasswordHasher()
# Verified when the username does not exist, so a wrong username costs as much as a wrong password.
_DUMMY_HASH = _HASHER.hash("meterhub-dummy-password")


class PasswordPolicyError(ValueError):
    pass


def check_password_policy(password: str, username: str = "") -> None:
    """Raise PasswordPolicyError with what to change when the password is too weak: shorter than
    MIN_PASSWORD_LENGTH, longer than 256, a common password, a keyboard run or the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters "
            f"(пароль должен содержать не менее {MIN_PASSWORD_LENGTH} символов)"
        )
    if len(password) > 256:
        raise PasswordPolicyError("password must have at most 256 characters")
    why = is_guessable(password, username)
    if why is not None:
        raise PasswordPolicyError(
            f"password is too easy to guess; choose another ({why} — выберите другой пароль)"
        )


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, new hash if the stored one should be upgraded to current parameters)."""
    if password_hash is None:
        with contextlib.suppress(VerificationError):
            _HASHER.verify(_DUMMY_HASH, password)
        return False, None
    try:
        _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    rehash = _HASHER.hash(password) if _HASHER.check_needs_rehash(password_hash) else None
    return True, rehash
