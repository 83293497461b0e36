"""The platform's endpoints: health, who am I, and the home page.

* `GET /healthz`: is the API able to do its job (database with current schema, Temporal)?
* `GET /readyz`: the same, and do the workers keep up (the task queue's backlog)?
* `GET /api/v1/me`, `GET /api/v1/dealer`: lets any token holder check their token, and a
  dealer see their account;
* `GET /`: the home page, with where to go next.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel
from sqlalchemy import select, text

from api.deps import CurrentDealer, CurrentPrincipal, SessionDep, SettingsDep
from api.errors import ApiError
from api.platform.readiness import worker_backlog
from api.templating import templates
from api.temporal import TemporalHandle
from carflow.temporal_client import TemporalUnreachable
from db.migrate import head_revision
from db.models import Dealer

router = APIRouter()

CHECK_TIMEOUT_S = 3.0


async def _database(request: Request) -> dict[str, Any]:
    settings = request.app.state.settings
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S), request.app.state.session_factory() as session:
            await session.execute(text("SELECT 1"))
            revision = await session.scalar(text("SELECT version_num FROM alembic_version"))
    except TimeoutError:
        return {"ok": False, "error": "no answer within 3 s"}
    except Exception as exc:  # noqa: BLE001 - any driver error means "down", reported as text
        message = str(exc).splitlines()[0][:200]
        if "alembic_version" in message:
            return {"ok": False, "error": "schema missing: run `carflow migrate`"}
        return {"ok": False, "error": message}
    head = head_revision(settings)
    if revision != head:
        return {
            "ok": False,
            "error": f"schema at {revision}, expected {head}: run `carflow migrate`",
        }
    return {"ok": True, "revision": revision}


async def _temporal(request: Request) -> dict[str, Any]:
    handle: TemporalHandle = request.app.state.temporal
    settings = request.app.state.settings
    try:
        client = await handle.get()
        healthy = await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT_S))
    except TemporalUnreachable as exc:
        return {"ok": False, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - an RPC error here means "down"
        return {"ok": False, "error": str(exc).splitlines()[0][:200]}
    if not healthy:
        return {"ok": False, "error": "Temporal reports itself unhealthy"}
    return {"ok": True, "address": settings.temporal_address, "namespace": settings.temporal_namespace}


@router.get("/healthz", tags=["health"], summary="Liveness and readiness: database and Temporal reachability")
async def healthz(request: Request) -> JSONResponse:
    database, temporal = await asyncio.gather(_database(request), _temporal(request))
    ok = database["ok"] and temporal["ok"]
    body = {"status": "ok" if ok else "unavailable", "database": database, "temporal": temporal}
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get(
    "/readyz",
    tags=["health"],
    summary="Readiness: database, Temporal, and workers that keep up (task queue backlog)",
)
async def readyz(request: Request) -> JSONResponse:
    database, temporal = await asyncio.gather(_database(request), _temporal(request))
    workers: dict[str, Any] = {"ok": False, "error": "Temporal is not reachable"}
    if temporal["ok"]:
        workers = await worker_backlog(await request.app.state.temporal.get(), request.app.state.settings)
    ok = database["ok"] and temporal["ok"] and workers["ok"]
    body = {
        "status": "ok" if ok else "unavailable",
        "database": database,
        "temporal": temporal,
        "workers": workers,
    }
    return JSONResponse(body, status_code=200 if ok else 503, headers={} if ok else {"Retry-After": "5"})


# --- who am I ----------------------------------------------------------------------------------


class Me(BaseModel):
    role: str
    id: uuid.UUID
    name: str


class DealerAccount(BaseModel):
    id: uuid.UUID
    name: str
    remote_sale_enabled: bool
    email: str | None
    phone: str | None
    address: str | None


@router.get("/api/v1/me", tags=["accounts"], response_model=Me, summary="The account behind the bearer token")
async def me(principal: CurrentPrincipal) -> Me:
    return Me(role=principal.role.value, id=principal.id, name=principal.name)


@router.get(
    "/api/v1/dealer", tags=["accounts"], response_model=DealerAccount, summary="The calling dealer's account"
)
async def dealer_account(dealer: CurrentDealer, session: SessionDep) -> DealerAccount:
    row = await session.scalar(select(Dealer).where(Dealer.id == dealer.id))
    if row is None:  # token outlived its account between two queries
        raise ApiError(404, "not_found", "Dealer account not found.")
    return DealerAccount.model_validate(row, from_attributes=True)


# --- the home page -------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request, settings: SettingsDep) -> Response:
    return templates.TemplateResponse(request, "home.html", {"settings": settings})
