"""The dealer user's session: server-side and revocable, behind an opaque random cookie,
as the owner's (api/security/sessions.py). Logging out deletes the row; a password change
or disabling the user deletes every row of the user. A session of a disabled user is
refused even if its row were still there.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.security.sessions import ServerSessions
from carflow.tokens import hash_token
from db.models import Dealer, DealerSession, DealerUser

DEALER_SESSIONS = ServerSessions("carflow_vendeur", 10 * 3600, DealerSession, "user_id")  # a working day
SESSION_COOKIE = DEALER_SESSIONS.cookie


async def session_user(
    request: Request, session: AsyncSession, now: datetime
) -> tuple[DealerUser, Dealer] | None:
    """The logged-in user and their centre, or None (no cookie, unknown, expired, logged
    out, password changed, disabled)."""
    token = DEALER_SESSIONS.token(request)
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
