"""Owner passwords: generated for the credentials email, stored only as argon2 hashes (pwdlib)."""

from __future__ import annotations

import secrets

from pwdlib import PasswordHash

# No 0/O, 1/l/I: the password is read from an email and typed, often on a phone.
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_GROUPS, _GROUP_LENGTH = 3, 4  # "Xk7p-Rt3m-Qa9w": 12 random characters, ~70 bits

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200

password_hash = PasswordHash.recommended()  # argon2id
# Verified against when the email is unknown, so both cases take the same time.
_DUMMY_HASH = password_hash.hash("not-a-real-password-" + secrets.token_hex(8))


def generate_password() -> str:
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_LENGTH)) for _ in range(_GROUPS))


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    """Constant-ish time whether or not there is a hash to check against."""
    if not hashed:
        password_hash.verify(password, _DUMMY_HASH)
        return False
    try:
        return password_hash.verify(password, hashed)
    except Exception:  # a malformed stored hash is a failed login, not a 500
        return False
