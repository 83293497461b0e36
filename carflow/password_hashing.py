"""Passwords of people (owners, dealer users): generated, or chosen; stored only as argon2 hashes (pwdlib)."""

from __future__ import annotations

import secrets
from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from carflow.settings import Settings

# No 0/O, 1/l/I: the password is read from an email and typed, often on a phone.
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_GROUPS, _GROUP_LENGTH = 3, 4  # "Xk7p-Rt3m-Qa9w": 12 random characters, ~70 bits

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> tuple[PasswordHash, str]:
    hasher = PasswordHash(
        (Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism),)
    )
    # Verified against when the email is unknown, so both cases take the same time.
    return hasher, hasher.hash("not-a-real-password-" + secrets.token_hex(8))


def _hasher_for(settings: Settings) -> tuple[PasswordHash, str]:
    return _hasher(
        settings.password_hash_time_cost,
        settings.password_hash_memory_kib,
        settings.password_hash_parallelism,
    )


def password_hasher(settings: Settings) -> PasswordHash:
    """The argon2id hasher with the settings' parameters (CARFLOW_PASSWORD_HASH_*)."""
    return _hasher_for(settings)[0]


def generate_password() -> str:
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_LENGTH)) for _ in range(_GROUPS))


def hash_password(password: str, settings: Settings) -> str:
    return password_hasher(settings).hash(password)


def verify_password(password: str, hashed: str | None, settings: Settings) -> bool:
    """Constant-ish time whether or not there is a hash to check against."""
    hasher, dummy_hash = _hasher_for(settings)
    if not hashed:
        hasher.verify(password, dummy_hash)
        return False
    try:
        return hasher.verify(password, hashed)
    except Exception:  # a malformed stored hash is a failed login, not a 500
        return False
