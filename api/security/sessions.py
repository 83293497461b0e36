"""The owner's session: a cookie signed with the secret key, checked against the database.

The cookie holds the owner's id and their `session_version`; changing the password bumps
the version, which ends every other session. It is HttpOnly (no script reads it),
SameSite=Lax (no cross-site POST carries it), and Secure when the public URL is https.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from carflow.settings import Settings
from db.models import Owner

SESSION_COOKIE = "carflow_owner"
SESSION_MAX_AGE_S = 8 * 3600


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt="carflow-owner-session")


def secure_cookies(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


def start_session(response: Response, settings: Settings, owner: Owner) -> None:
    value = _serializer(settings).dumps({"o": str(owner.id), "v": owner.session_version})
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=SESSION_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
        path="/",
    )


def end_session(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(settings)
    )


def _payload(request: Request, settings: Settings) -> dict[str, Any] | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw or len(raw) > 1000:
        return None
    try:
        data = _serializer(settings).loads(raw, max_age=SESSION_MAX_AGE_S)
    except BadSignature:  # includes SignatureExpired
        return None
    return data if isinstance(data, dict) else None


async def session_owner(request: Request, session: AsyncSession, settings: Settings) -> Owner | None:
    """The logged-in owner, or None (no cookie, forged, expired, or password changed since)."""
    data = _payload(request, settings)
    if data is None:
        return None
    try:
        owner_id = uuid.UUID(str(data.get("o")))
    except ValueError:
        return None
    owner = await session.get(Owner, owner_id)
    if owner is None or owner.session_version != data.get("v"):
        return None
    return owner
