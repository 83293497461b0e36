"""Unguessable bearer tokens: generated here, shown once, stored as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets

# A readable prefix says what a leaked token is for (and lets secret scanners spot it).
PREFIXES = {"dealer": "cfd_", "staff": "cfs_", "inspector": "cfi_"}
TOKEN_BYTES = 32  # 256 bits


def new_token(role: str) -> str:
    return PREFIXES[role] + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def display_prefix(token: str) -> str:
    return token[:12]
