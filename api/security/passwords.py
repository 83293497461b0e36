"""Logging in with email and password, for owners (/espace) and dealer users (/vendeur).

* 5 wrong passwords in a row lock the account for 15 minutes, whatever the password tried
  next; the person is told so plainly, and choosing a new password unlocks it at once.
* An unknown email (or a disabled account) costs the same argon2 verification as a known
  one and gets the same "wrong email or password" answer, so the login form does not
  reveal who has an account.
* The rules a new password follows, with their French messages.

Hashing itself is carflow/password_hashing.py (the worker hashes owners' first passwords).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carflow.formatting import PARIS
from carflow.password_hashing import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, verify_password
from carflow.settings import Settings

log = structlog.get_logger(__name__)

MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)

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


def missing_credentials(email: str, password: str) -> dict[str, str]:
    """The login form's empty fields, each with its French message."""
    missing = {}
    if not email:
        missing["email"] = "Indiquez votre adresse e-mail."
    if not password:
        missing["password"] = "Indiquez votre mot de passe."
    return missing


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def check_login(
    session: AsyncSession,
    model: Any,
    email: str,
    password: str,
    now: datetime,
    settings: Settings,
    *,
    enabled: Callable[[Any], bool] = lambda _account: True,
) -> Any:
    """The account of `model` (a table with email, password_hash, failed_logins,
    locked_until, last_login_at) for these credentials; raises LoginFailed and counts the
    failure. `enabled(account)` False answers as an unknown email does."""
    account = await session.scalar(select(model).where(model.email == normalize_email(email)))
    if account is not None and account.locked_until is not None and account.locked_until > now:
        raise LoginFailed("locked", account.locked_until)
    password = password[:MAX_PASSWORD_LENGTH]
    stored = account.password_hash if account is not None else None
    ok = await asyncio.to_thread(verify_password, password, stored, settings)
    if account is None or not enabled(account):
        raise LoginFailed("invalid")
    if not ok:
        # Counted in the database, atomically: parallel attempts cannot slip past the limit.
        await session.execute(
            update(model).where(model.id == account.id).values(failed_logins=model.failed_logins + 1)
        )
        await session.commit()
        await session.refresh(account)
        if account.failed_logins >= MAX_FAILED_LOGINS:
            account.locked_until = now + LOCK_DURATION
            account.failed_logins = 0
            await session.commit()
            log.warning("account_locked", table=model.__tablename__, account_id=str(account.id))
            raise LoginFailed("locked", account.locked_until)
        raise LoginFailed("invalid")
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    await session.commit()
    return account


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
