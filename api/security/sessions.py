"""People's sessions (owners, dealer users): server-side and revocable, behind an opaque cookie.

The cookie holds 256 random bits and nothing else; the database holds their SHA-256, the
account and the expiry (`owner_sessions`, `dealer_sessions`). Logging out deletes that row,
and a password change (or disabling a dealer user) deletes every row of the account, so a
copied cookie stops working at once instead of living on until it expires. The cookie is
HttpOnly (no script reads it), SameSite=Lax (no cross-site POST carries it), and Secure when
the public URL is https.

`ServerSessions` is that design for one kind of account; `OWNER_SESSIONS` is the owners'
(the dealer users' is api/dealer_app/sessions.py's).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request, Response
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from carflow.settings import Settings
from carflow.tokens import hash_token
from db.models import Owner, OwnerSession

_MAX_TOKEN_LENGTH = 100


def secure_cookies(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


@dataclass(frozen=True)
class ServerSessions:
    """The sessions of one kind of account: `table` (token_hash, created_at, expires_at and
    the account's id in `account_column`), behind the cookie `cookie`."""

    cookie: str
    max_age_s: int
    table: Any
    account_column: str

    def _account(self) -> Any:
        return getattr(self.table, self.account_column)

    async def start(
        self,
        response: Response,
        settings: Settings,
        session: AsyncSession,
        account_id: uuid.UUID,
        now: datetime,
    ) -> None:
        """Open a session for the account and set its cookie; commits."""
        token = secrets.token_urlsafe(32)
        # The account's expired sessions go as a new one starts: the table does not grow forever.
        await session.execute(
            delete(self.table).where(self._account() == account_id, self.table.expires_at <= now)
        )
        session.add(
            self.table(
                **{self.account_column: account_id},
                token_hash=hash_token(token),
                created_at=now,
                expires_at=now + timedelta(seconds=self.max_age_s),
            )
        )
        await session.commit()
        response.set_cookie(
            self.cookie,
            token,
            max_age=self.max_age_s,
            httponly=True,
            samesite="lax",
            secure=secure_cookies(settings),
            path="/",
        )

    async def end(
        self, request: Request, response: Response, settings: Settings, session: AsyncSession
    ) -> None:
        """Log out: the session's row is deleted (the cookie is dead even if kept), and the cookie too."""
        token = self.token(request)
        if token is not None:
            await session.execute(delete(self.table).where(self.table.token_hash == hash_token(token)))
            await session.commit()
        response.delete_cookie(
            self.cookie, path="/", httponly=True, samesite="lax", secure=secure_cookies(settings)
        )

    async def end_all(self, session: AsyncSession, account_id: uuid.UUID) -> None:
        """Every session of the account ends (a password change); the caller commits."""
        await session.execute(delete(self.table).where(self._account() == account_id))

    def token(self, request: Request) -> str | None:
        raw = request.cookies.get(self.cookie)
        if not raw or len(raw) > _MAX_TOKEN_LENGTH:
            return None
        return raw


OWNER_SESSIONS = ServerSessions("carflow_owner", 8 * 3600, OwnerSession, "owner_id")
SESSION_COOKIE = OWNER_SESSIONS.cookie


async def start_session(
    response: Response, settings: Settings, session: AsyncSession, owner: Owner, now: datetime | None = None
) -> None:
    """Open a session for `owner` (a row) and set its cookie; commits."""
    await OWNER_SESSIONS.start(response, settings, session, owner.id, now or datetime.now(UTC))


async def end_session(
    request: Request, response: Response, settings: Settings, session: AsyncSession
) -> None:
    await OWNER_SESSIONS.end(request, response, settings, session)


async def end_all_sessions(session: AsyncSession, owner_id: uuid.UUID) -> None:
    await OWNER_SESSIONS.end_all(session, owner_id)


async def session_owner(request: Request, session: AsyncSession, settings: Settings) -> Owner | None:
    """The logged-in owner, or None (no cookie, unknown, expired, logged out, password changed)."""
    token = OWNER_SESSIONS.token(request)
    if token is None:
        return None
    owner: Owner | None = await session.scalar(
        select(Owner)
        .join(OwnerSession, OwnerSession.owner_id == Owner.id)
        .where(OwnerSession.token_hash == hash_token(token), OwnerSession.expires_at > datetime.now(UTC))
    )
    return owner
