"""FastAPI dependencies, as `Annotated` aliases routes can declare by type."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import ApiError
from api.temporal import TemporalHandle
from carflow.settings import Settings
from carflow.temporal_client import TemporalUnreachable
from db.accounts import Principal, authenticate
from db.models import Role


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.session_factory() as session:
        yield session


async def get_temporal(request: Request) -> Client:
    handle: TemporalHandle = request.app.state.temporal
    try:
        return await handle.get()
    except TemporalUnreachable as exc:
        raise ApiError(503, "temporal_unavailable", str(exc)) from None


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]

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
