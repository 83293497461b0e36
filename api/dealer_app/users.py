"""Dealer users: accounts of a centre's people, their password links, logging in.

* `carflow dealer user add` creates a user without a password and prints a one-time
  set-password link (valid 7 days); "mot de passe oublié" emails a reset link (1 hour).
  Links carry 256 random bits, are stored as SHA-256 and work once.
* Logging in: argon2 verification (an unknown email costs the same and gets the same
  answer, so the form does not reveal who has an account), lockout after repeated failures
  as for owners; a disabled user cannot log in.
* Choosing a password (either link) ends every session of the user.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.dealer_app.sessions import DEALER_SESSIONS
from api.security.passwords import check_login, normalize_email
from carflow.password_hashing import hash_password
from carflow.settings import Settings
from carflow.tokens import hash_token
from db.models import Dealer, DealerPasswordToken, DealerUser

SET_LINK_VALIDITY = timedelta(days=7)
RESET_LINK_VALIDITY = timedelta(hours=1)
VALIDITY = {"set": SET_LINK_VALIDITY, "reset": RESET_LINK_VALIDITY}


class UserProblem(Exception):
    """Why a user cannot be created or changed (the CLI prints it)."""


async def add_user(
    session: AsyncSession,
    dealer_id: uuid.UUID,
    email: str,
    settings: Settings,
    *,
    name: str = "",
    password: str | None = None,
    now: datetime,
) -> DealerUser:
    """A new user of the centre (with `password`: demo data and tests only); commits."""
    email = normalize_email(email)
    if "@" not in email or len(email) > 320:
        raise UserProblem(f"not an email address: {email!r}")
    if await session.get(Dealer, dealer_id) is None:
        raise UserProblem(f"no dealer {dealer_id}")
    if await session.scalar(select(DealerUser.id).where(DealerUser.email == email)) is not None:
        raise UserProblem(f"a dealer user with the email {email} already exists")
    user = DealerUser(dealer_id=dealer_id, email=email, name=name.strip()[:200], created_at=now)
    if password is not None:
        user.password_hash = await asyncio.to_thread(hash_password, password, settings)
    session.add(user)
    await session.commit()
    return user


async def issue_password_token(session: AsyncSession, user: DealerUser, purpose: str, now: datetime) -> str:
    """A one-time link's token to choose a password (`set` or `reset`); commits."""
    token = secrets.token_urlsafe(32)
    session.add(
        DealerPasswordToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + VALIDITY[purpose],
        )
    )
    await session.commit()
    return token


async def find_password_token(session: AsyncSession, token: str, now: datetime) -> DealerPasswordToken | None:
    """The link's row if it is still usable (unused, unexpired, its user enabled)."""
    if not token or len(token) > 100:
        return None
    row = await session.scalar(
        select(DealerPasswordToken)
        .join(DealerUser, DealerUser.id == DealerPasswordToken.user_id)
        .where(DealerPasswordToken.token_hash == hash_token(token), DealerUser.disabled_at.is_(None))
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


async def authenticate(
    session: AsyncSession, email: str, password: str, now: datetime, settings: Settings
) -> DealerUser:
    """The enabled user for these credentials; raises LoginFailed (and counts the failure)."""
    user: DealerUser = await check_login(
        session, DealerUser, email, password, now, settings, enabled=lambda u: u.disabled_at is None
    )
    return user


async def set_password(
    session: AsyncSession, user: DealerUser, password: str, now: datetime, settings: Settings
) -> None:
    """Store the new password, spend every pending link, unlock, end every session; commits."""
    user.password_hash = await asyncio.to_thread(hash_password, password, settings)
    user.failed_logins = 0
    user.locked_until = None
    await DEALER_SESSIONS.end_all(session, user.id)  # a copied cookie dies with the old password
    await session.execute(
        update(DealerPasswordToken)
        .where(DealerPasswordToken.user_id == user.id, DealerPasswordToken.used_at.is_(None))
        .values(used_at=now)
    )
    await session.commit()


async def users_of(session: AsyncSession, dealer_id: uuid.UUID) -> list[DealerUser]:
    if await session.get(Dealer, dealer_id) is None:
        raise UserProblem(f"no dealer {dealer_id}")
    rows = await session.scalars(
        select(DealerUser).where(DealerUser.dealer_id == dealer_id).order_by(DealerUser.email)
    )
    return list(rows)


async def user_by_email(session: AsyncSession, email: str) -> DealerUser:
    user = await session.scalar(select(DealerUser).where(DealerUser.email == normalize_email(email)))
    if user is None:
        raise UserProblem(f"no dealer user with the email {normalize_email(email)}")
    return user


async def disable_user(session: AsyncSession, email: str, now: datetime) -> DealerUser:
    """The user can no longer log in, and every session of theirs ends now; commits."""
    user = await user_by_email(session, email)
    if user.disabled_at is None:
        user.disabled_at = now
    await DEALER_SESSIONS.end_all(session, user.id)
    await session.commit()
    return user


async def enable_user(session: AsyncSession, email: str) -> DealerUser:
    """The user can log in again (with their password, or a new link); commits."""
    user = await user_by_email(session, email)
    user.disabled_at = None
    user.failed_logins = 0
    user.locked_until = None
    await session.commit()
    return user
