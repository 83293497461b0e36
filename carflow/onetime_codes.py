"""Face-to-face signing codes: 6 digits by SMS, valid 10 minutes, 5 tries, stored hashed."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def hash_code(code: str, salt: str) -> str:
    # Salted with the attempt id: a six-digit code is guessable offline without a salt.
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


@dataclass
class CodeAttempt:
    salt: str
    code_hash: str
    issued_at: datetime
    tries: int = 0

    @classmethod
    def issue(cls, salt: str, code: str, now: datetime) -> CodeAttempt:
        return cls(salt=salt, code_hash=hash_code(code, salt), issued_at=now)

    def check(self, code: str, now: datetime) -> str:
        """'ok', 'wrong', 'expired' or 'locked'; a wrong try counts."""
        if self.tries >= MAX_TRIES:
            return "locked"
        if now - self.issued_at > CODE_TTL:
            return "expired"
        self.tries += 1
        if hmac.compare_digest(self.code_hash, hash_code(code.strip(), self.salt)):
            return "ok"
        return "locked" if self.tries >= MAX_TRIES else "wrong"
