"""Owner authentication: email + password (argon2), lockout, one-time password reset links.

* 5 wrong passwords in a row lock the account for 15 minutes, whatever the password tried
  next; the owner is told so plainly, and a password reset unlocks it at once.
* An unknown email costs the same argon2 verification as a known one and gets the same
  "wrong email or password" answer, so the login form does not reveal who has an account.
* Reset links carry 256 random bits, are stored as SHA-256, expire after an hour and work
  once. Asking for one answers the same whether the email is known or not.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from activities.listing_accounts import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    verify_password,
)
from api.security.sessions import end_all_sessions
from carflow.formatting import PARIS
from carflow.settings import Settings
from carflow.tokens import hash_token
from db.models import Owner, PasswordResetToken

log = structlog.get_logger(__name__)

MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)
RESET_TOKEN_VALIDITY = timedelta(hours=1)

INVALID_CREDENTIALS_FR = "Adresse e-mail ou mot de passe incorrect."


def locked_message_fr(until: datetime) -> str:
    return (
        f"Votre compte est verrouillé après {MAX_FAILED_LOGINS} tentatives de connexion infructueuses. "
        f"Réessayez après {until.astimezone(PARIS).strftime('%H:%M')} (heure de Paris), "
        "ou choisissez un nouveau mot de passe avec « Mot de passe oublié ? »."
    )


class LoginFailed(Exception):
    def __init__(self, kind: str, locked_until: datetime | None = None) -> None:
        super().__init__(kind)
        self.kind = kind  # invalid | locked
        self.locked_until = locked_until

    @property
    def message_fr(self) -> str:
        if self.kind == "locked" and self.locked_until is not None:
            return locked_message_fr(self.locked_until)
        return INVALID_CREDENTIALS_FR

    @property
    def message_en(self) -> str:
        if self.kind == "locked":
            return (
                f"Account locked after {MAX_FAILED_LOGINS} failed logins; try again later "
                "or reset the password."
            )
        return "Wrong email or password."


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def authenticate_owner(
    session: AsyncSession, email: str, password: str, now: datetime, settings: Settings
) -> Owner:
    """The owner for these credentials; raises LoginFailed (and counts the failure)."""
    owner = await session.scalar(select(Owner).where(Owner.email == normalize_email(email)))
    if owner is not None and owner.locked_until is not None and owner.locked_until > now:
        raise LoginFailed("locked", owner.locked_until)
    if len(password) > MAX_PASSWORD_LENGTH:
        password = password[:MAX_PASSWORD_LENGTH]
    ok = await asyncio.to_thread(verify_password, password, owner.password_hash if owner else None, settings)
    if owner is None:
        raise LoginFailed("invalid")
    if not ok:
        # Counted in the database, atomically: parallel attempts cannot slip past the limit.
        await session.execute(
            update(Owner).where(Owner.id == owner.id).values(failed_logins=Owner.failed_logins + 1)
        )
        await session.commit()
        await session.refresh(owner)
        if owner.failed_logins >= MAX_FAILED_LOGINS:
            owner.locked_until = now + LOCK_DURATION
            owner.failed_logins = 0
            await session.commit()
            log.warning("owner_locked", owner_id=str(owner.id))
            raise LoginFailed("locked", owner.locked_until)
        raise LoginFailed("invalid")
    owner.failed_logins = 0
    owner.locked_until = None
    owner.last_login_at = now
    await session.commit()
    return owner


async def issue_reset_token(session: AsyncSession, owner: Owner, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordResetToken(
            owner_id=owner.id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + RESET_TOKEN_VALIDITY,
        )
    )
    await session.commit()
    return token


async def find_reset_token(session: AsyncSession, token: str, now: datetime) -> PasswordResetToken | None:
    if not token or len(token) > 100:
        return None
    row = await session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_token(token))
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


@dataclass(frozen=True)
class PasswordProblem:
    field: str
    message_fr: str


def password_problem(password: str, confirmation: str) -> PasswordProblem | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return PasswordProblem(
            "password", f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return PasswordProblem(
            "password", f"Le mot de passe ne peut dépasser {MAX_PASSWORD_LENGTH} caractères."
        )
    if password != confirmation:
        return PasswordProblem("confirmation", "Les deux mots de passe ne sont pas identiques.")
    return None


async def reset_password(
    session: AsyncSession, row: PasswordResetToken, password: str, now: datetime, settings: Settings
) -> Owner:
    """Set the new password, spend the link (and every other pending one), unlock, log out elsewhere."""
    owner = await session.get(Owner, row.owner_id)
    assert owner is not None  # foreign key
    owner.password_hash = await asyncio.to_thread(hash_password, password, settings)
    owner.failed_logins = 0
    owner.locked_until = None
    owner.session_version += 1
    await end_all_sessions(session, owner.id)  # a copied cookie dies with the old password
    if owner.credentials_sent_at is None:
        owner.credentials_sent_at = now  # the owner chose a password: never mail one again
    await session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.owner_id == owner.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    await session.commit()
    return owner
