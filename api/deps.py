"""FastAPI dependencies shared by every domain, as `Annotated` aliases routes declare by type.

Settings, a database session, Temporal (required, or None for reads that do without it),
the clock, the caller: a dealer, staff or inspector token, or the owner's session cookie,
and the owner API's CSRF check. A domain's own services are its `deps` module's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import ApiError
from api.security import csrf
from api.security.sessions import session_owner
from api.temporal import TemporalHandle
from carflow.settings import Settings
from carflow.temporal_client import TemporalUnreachable
from db.accounts import Principal, authenticate
from db.models import Owner, Role, utcnow

Clock = Callable[[], datetime]
EndpointT = TypeVar("EndpointT", bound=Callable[..., object])


# Dependencies are `async def` even when they do not wait: FastAPI runs a plain `def` one
# in its thread pool, a thread hop per request (about 4 % of a list request's CPU).
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


_READ_ONLY_ENDPOINTS: set[Callable[..., object]] = set()


def read_only(endpoint: EndpointT) -> EndpointT:
    """Marks a route that only reads (the hot lists and details): its session runs without a
    transaction (autocommit), a list being one statement after authentication's one. That
    saves the BEGIN and ROLLBACK round trips, two of a list request's four, each a loopback
    write the API pays CPU for. Never for a route that writes anything."""
    _READ_ONLY_ENDPOINTS.add(endpoint)
    return endpoint


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    state = request.app.state
    reads_only = request.scope.get("endpoint") in _READ_ONLY_ENDPOINTS
    async with (state.read_session_factory if reads_only else state.session_factory)() as session:
        yield session


async def get_temporal(request: Request) -> Client:
    handle: TemporalHandle = request.app.state.temporal
    try:
        return await handle.get()
    except TemporalUnreachable as exc:
        raise ApiError(503, "temporal_unavailable", str(exc)) from None


async def get_temporal_or_none(request: Request) -> Client | None:
    """None when Temporal cannot be reached: reads still answer (from the read model), actions 503."""
    handle: TemporalHandle = request.app.state.temporal
    try:
        return await handle.get()
    except TemporalUnreachable:
        return None


async def get_clock(request: Request) -> Clock:
    """The API's clock; tests may set `app.state.clock` to pin "now"."""
    clock: Clock = getattr(request.app.state, "clock", utcnow)
    return clock


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
OptionalTemporalDep = Annotated[Client | None, Depends(get_temporal_or_none)]
ClockDep = Annotated[Clock, Depends(get_clock)]

_bearer = HTTPBearer(auto_error=False, description="Dealer API key, staff or inspector token")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def get_principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise ApiError(
            401,
            "unauthorized",
            "Missing bearer token (Authorization: Bearer <token>).",
            headers=_CHALLENGE,
        )
    principal = await authenticate(session, credentials.credentials)
    if principal is None:
        raise ApiError(401, "unauthorized", "Unknown or revoked token.", headers=_CHALLENGE)
    structlog.contextvars.bind_contextvars(role=principal.role.value, principal_id=str(principal.id))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_role(role: Role):  # noqa: ANN201 - returns a FastAPI dependency
    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role is not role:
            raise ApiError(
                403,
                "forbidden",
                f"This endpoint needs a {role.value} token, not a {principal.role.value} token.",
            )
        return principal

    return dependency


CurrentDealer = Annotated[Principal, Depends(require_role(Role.DEALER))]
CurrentStaff = Annotated[Principal, Depends(require_role(Role.STAFF))]
CurrentInspector = Annotated[Principal, Depends(require_role(Role.INSPECTOR))]


async def get_current_owner(request: Request, session: SessionDep, settings: SettingsDep) -> Owner:
    owner = await session_owner(request, session, settings)
    if owner is None:
        raise ApiError(
            401, "not_logged_in", "Log in first: POST /api/v1/owner/login with your email and password."
        )
    return owner


CurrentOwner = Annotated[Owner, Depends(get_current_owner)]


async def check_csrf(request: Request, settings: SettingsDep) -> None:
    csrf.check_api_request(request, settings)


CsrfChecked = Depends(check_csrf)
