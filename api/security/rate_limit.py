"""Fixed-window rate limits kept in the database, so every API replica counts together.

`hit()` counts one attempt under `limit` for `subject` (an IP, a hashed email, a listing)
and says whether it is allowed; `enforce()` turns a refusal into the API's 429. Subjects
are hashed: the table holds no addresses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from db.models import RateLimitCounter


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window: timedelta


# Generous for people, tight for scripts. Lockout after failed passwords is per account
# (api/owners/auth.py); this one stops one address from trying many accounts.
LOGIN_PER_IP = Limit("login-ip", 30, timedelta(minutes=15))
CONTACT_PER_IP = Limit("contact-ip", 5, timedelta(hours=1))
CONTACT_PER_LISTING = Limit("contact-listing", 50, timedelta(days=1))
RESET_PER_EMAIL = Limit("reset-email", 3, timedelta(hours=1))
RESET_PER_IP = Limit("reset-ip", 10, timedelta(hours=1))
SHARE_PER_OWNER = Limit("share-owner", 20, timedelta(days=1))
# The dealer app counts only failed logins per address: a dealership's staff log in from one
# address every morning, and their successful logins must not lock each other out.
DEALER_LOGIN_FAILURES_PER_IP = Limit("dealer-login-failures-ip", 30, timedelta(minutes=15))


def _key(limit: Limit, subject: str) -> str:
    return f"{limit.name}:{hashlib.sha256(subject.encode()).hexdigest()[:40]}"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int


async def hit(session: AsyncSession, limit: Limit, subject: str, now: datetime) -> Verdict:
    """Count one attempt and commit it (a refused attempt counts too)."""
    key = _key(limit, subject)
    for _ in range(3):
        row = await session.get(RateLimitCounter, key, populate_existing=True)
        if row is None:
            session.add(RateLimitCounter(key=key, window_start=now, count=1))
            try:
                await session.commit()
            except IntegrityError:  # another request created it first: count again
                await session.rollback()
                continue
            return Verdict(True, 0)
        if now - row.window_start >= limit.window:
            row.window_start, row.count = now, 1
        else:
            row.count += 1
        window_end = row.window_start + limit.window
        count = row.count
        await session.commit()
        retry_after = max(1, int((window_end - now).total_seconds()))
        return Verdict(count <= limit.max_hits, 0 if count <= limit.max_hits else retry_after)
    return Verdict(True, 0)


async def peek(session: AsyncSession, limit: Limit, subject: str, now: datetime) -> Verdict:
    """Whether one more attempt would be allowed, without counting it (count with `hit`)."""
    row = await session.get(RateLimitCounter, _key(limit, subject), populate_existing=True)
    if row is None or now - row.window_start >= limit.window or row.count < limit.max_hits:
        return Verdict(True, 0)
    return Verdict(False, max(1, int((row.window_start + limit.window - now).total_seconds())))


async def reset_request_allowed(session: AsyncSession, address: str, email: str, now: datetime) -> bool:
    """Count a "mot de passe oublié" request per address and per email (both spaces' forms)."""
    for limit, subject in ((RESET_PER_IP, address), (RESET_PER_EMAIL, email)):
        if not (await hit(session, limit, subject, now)).allowed:
            return False
    return True


async def enforce(session: AsyncSession, limit: Limit, subject: str, now: datetime, message: str) -> None:
    """Count one attempt; past the limit, raise the API's 429 with `message` and Retry-After."""
    verdict = await hit(session, limit, subject, now)
    if not verdict.allowed:
        raise ApiError(
            429,
            "too_many_requests",
            message,
            headers={"Retry-After": str(verdict.retry_after_s)},
        )


async def clear(session: AsyncSession, limit: Limit, subject: str) -> None:
    key = _key(limit, subject)
    row = await session.scalar(select(RateLimitCounter).where(RateLimitCounter.key == key))
    if row is not None:
        await session.delete(row)
        await session.commit()


def client_ip(request_client: object) -> str:
    host = getattr(request_client, "host", None)
    return str(host or "unknown")
