"""The owner's session: server-side and revocable, behind an opaque random cookie.

The cookie holds 256 random bits and nothing else; the database holds their SHA-256, the
owner and the expiry (`owner_sessions`). Logging out deletes that row, and a password
change (reset) deletes every row of the owner, so a copied cookie stops working at once
instead of living on until it expires. The cookie is HttpOnly (no script reads it),
SameSite=Lax (no cross-site POST carries it), and Secure when the public URL is https.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from fastapi import Request, Response
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from carflow.settings import Settings
from carflow.tokens import hash_token
from db.models import Owner, OwnerSession

SESSION_COOKIE = "carflow_owner"
SESSION_MAX_AGE_S = 8 * 3600
_MAX_TOKEN_LENGTH = 100


def secure_cookies(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


async def start_session(
    response: Response, settings: Settings, session: AsyncSession, owner: Owner, now: datetime | None = None
) -> None:
    """Open a session for `owner` (a row) and set its cookie; commits."""
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    # Expired sessions of this owner go as a new one starts: the table does not grow forever.
    await session.execute(
        delete(OwnerSession).where(OwnerSession.owner_id == owner.id, OwnerSession.expires_at <= now)
    )
    session.add(
        OwnerSession(
            owner_id=owner.id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + timedelta(seconds=SESSION_MAX_AGE_S),
        )
    )
    await session.commit()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
        path="/",
    )


async def end_session(
    request: Request, response: Response, settings: Settings, session: AsyncSession
) -> None:
    """Log out: the session's row is deleted (the cookie is dead even if kept), and the cookie too."""
    token = _token(request)
    if token is not None:
        await session.execute(delete(OwnerSession).where(OwnerSession.token_hash == hash_token(token)))
        await session.commit()
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(settings)
    )


async def end_all_sessions(session: AsyncSession, owner_id: uuid.UUID) -> None:
    """Every session of the owner ends (a password change); the caller commits."""
    await session.execute(delete(OwnerSession).where(OwnerSession.owner_id == owner_id))


def _token(request: Request) -> str | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw or len(raw) > _MAX_TOKEN_LENGTH:
        return None
    return raw


async def session_owner(request: Request, session: AsyncSession, settings: Settings) -> Owner | None:
    """The logged-in owner, or None (no cookie, unknown, expired, logged out, password changed)."""
    token = _token(request)
    if token is None:
        return None
    owner: Owner | None = await session.scalar(
        select(Owner)
        .join(OwnerSession, OwnerSession.owner_id == Owner.id)
        .where(OwnerSession.token_hash == hash_token(token), OwnerSession.expires_at > datetime.now(UTC))
    )
    return owner
