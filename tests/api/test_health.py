"""`GET /healthz` says 200 only when the database (at the current schema) and Temporal answer."""

from __future__ import annotations

import httpx

from api import create_app
from carflow.settings import Settings
from support import free_port, make_settings


async def get_health(app) -> httpx.Response:  # noqa: ANN001
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/healthz")
    await app.state.engine.dispose()
    return response


async def test_healthy_when_database_and_temporal_answer(client) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["temporal"]["ok"] is True


async def test_503_names_temporal_when_it_is_down(migrated: Settings) -> None:
    # Nothing listens on the port make_settings picked for Temporal.
    response = await get_health(create_app(migrated))
    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["temporal"]["ok"] is False
    assert "CARFLOW_TEMPORAL_ADDRESS" in body["temporal"]["error"]
    assert "connection refused" in body["temporal"]["error"]


async def test_503_when_schema_is_missing(settings: Settings, temporal_env) -> None:
    response = await get_health(create_app(settings, temporal_client=temporal_env.client))
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == {"ok": False, "error": "schema missing: run `carflow migrate`"}
    assert body["temporal"]["ok"] is True


async def test_503_when_database_is_unreachable(tmp_path, temporal_env) -> None:
    settings = make_settings(
        tmp_path, database_url=f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none"
    )
    response = await get_health(create_app(settings, temporal_client=temporal_env.client))
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False
    assert response.json()["temporal"]["ok"] is True
