"""The dealer user's session: server-side and revocable, behind an opaque random cookie.

As the owner's (api/security/sessions.py): the cookie holds 256 random bits and nothing
else, the database their SHA-256 (`dealer_sessions`). Logging out deletes the row; a
password change or disabling the user deletes every row of the user, so a copied cookie
stops working at once. HttpOnly, SameSite=Lax, Secure when the public URL is https. A
session of a disabled user is refused even if its row were still there.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from fastapi import Request, Response
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.security.sessions import secure_cookies
from carflow.settings import Settings
from carflow.tokens import hash_token
from db.models import Dealer, DealerSession, DealerUser

SESSION_COOKIE = "carflow_vendeur"
SESSION_MAX_AGE_S = 10 * 3600  # a working day at the dealership
_MAX_TOKEN_LENGTH = 100


async def start_session(
    response: Response, settings: Settings, session: AsyncSession, user: DealerUser, now: datetime
) -> None:
    """Open a session for `user` and set its cookie; commits."""
    token = secrets.token_urlsafe(32)
    # The user's expired sessions go as a new one starts: the table does not grow forever.
    await session.execute(
        delete(DealerSession).where(DealerSession.user_id == user.id, DealerSession.expires_at <= now)
    )
    session.add(
        DealerSession(
            user_id=user.id,
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
    """Log out: the session's row is deleted (the cookie is dead even if kept), and the cookie."""
    token = _token(request)
    if token is not None:
        await session.execute(delete(DealerSession).where(DealerSession.token_hash == hash_token(token)))
        await session.commit()
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(settings)
    )


async def end_all_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Every session of the user ends (password change, user disabled); the caller commits."""
    await session.execute(delete(DealerSession).where(DealerSession.user_id == user_id))


def _token(request: Request) -> str | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw or len(raw) > _MAX_TOKEN_LENGTH:
        return None
    return raw


async def session_user(
    request: Request, session: AsyncSession, now: datetime
) -> tuple[DealerUser, Dealer] | None:
    """The logged-in user and their centre, or None (no cookie, unknown, expired, logged
    out, password changed, disabled)."""
    token = _token(request)
    if token is None:
        return None
    found = (
        await session.execute(
            select(DealerUser, Dealer)
            .join(DealerSession, DealerSession.user_id == DealerUser.id)
            .join(Dealer, Dealer.id == DealerUser.dealer_id)
            .where(
                DealerSession.token_hash == hash_token(token),
                DealerSession.expires_at > now,
                DealerUser.disabled_at.is_(None),
            )
        )
    ).first()
    if found is None:
        return None
    return found[0], found[1]
