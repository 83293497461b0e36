"""Owner authentication: email + password, one-time password reset links.

* Logging in (argon2, lockout after repeated failures, no account enumeration) is
  api/security/passwords.py's, shared with the dealer users of /vendeur.
* Reset links carry 256 random bits, are stored as SHA-256, expire after an hour and work
  once. Asking for one answers the same whether the email is known or not.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.security.passwords import check_login
from api.security.sessions import end_all_sessions
from carflow.password_hashing import hash_password
from carflow.settings import Settings
from carflow.tokens import hash_token
from db.models import Owner, PasswordResetToken

RESET_TOKEN_VALIDITY = timedelta(hours=1)


async def authenticate_owner(
    session: AsyncSession, email: str, password: str, now: datetime, settings: Settings
) -> Owner:
    """The owner for these credentials; raises LoginFailed (and counts the failure)."""
    owner: Owner = await check_login(session, Owner, email, password, now, settings)
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
