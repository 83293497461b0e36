"""Logs are one JSON object per line, with the request's context, for a log shipper."""

from __future__ import annotations

import json
import logging

import httpx

from api import create_app
from carflow.logs import configure_logging
from carflow.settings import Settings


async def test_api_request_is_logged_as_json(migrated: Settings, temporal_env, capfd) -> None:
    settings = migrated.model_copy(update={"log_format": "json"})
    configure_logging(settings, service="api")
    try:
        app = create_app(settings, temporal_client=temporal_env.client)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            await http.get("/healthz", headers={"X-Request-ID": "req-42"})
        await app.state.engine.dispose()
        logging.getLogger("temporalio").warning("from a library")
        lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    finally:
        logging.getLogger().handlers.clear()
    [request] = [line for line in lines if line.get("event") == "request"]
    assert request["request_id"] == "req-42"
    assert (request["method"], request["path"], request["status"]) == ("GET", "/healthz", 200)
    assert request["service"] == "api" and request["level"] == "info"
    assert isinstance(request["duration_ms"], float)
    library = [line for line in lines if line.get("event") == "from a library"]
    assert library and library[0]["logger"] == "temporalio"


async def test_capability_tokens_never_reach_the_logs(migrated: Settings, temporal_env, capfd) -> None:
    settings = migrated.model_copy(update={"log_format": "json"})
    configure_logging(settings, service="api")
    try:
        app = create_app(settings, temporal_client=temporal_env.client)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            await http.get("/api/v1/buyer/secret-capability-token-123")
            await http.get("/p/secret-capability-token-123")
        await app.state.engine.dispose()
        err = capfd.readouterr().err
    finally:
        logging.getLogger().handlers.clear()
    assert "secret-capability-token-123" not in err
    assert '"path": "/p/{token}"' in err


async def test_a_request_that_crashes_is_logged_and_counted_as_a_500(
    migrated: Settings, temporal_env, capfd
) -> None:
    settings = migrated.model_copy(update={"log_format": "json"})
    configure_logging(settings, service="api")
    try:
        app = create_app(settings, temporal_client=temporal_env.client)

        @app.get("/boom")
        async def boom() -> None:
            raise RuntimeError("boom")

        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/boom", headers={"X-Request-ID": "req-500"})
            scraped = (await http.get("/metrics")).text
        await app.state.engine.dispose()
        lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    finally:
        logging.getLogger().handlers.clear()
    assert response.status_code == 500
    [request] = [line for line in lines if line.get("event") == "request" and line.get("path") == "/boom"]
    assert (request["request_id"], request["route"], request["status"]) == ("req-500", "/boom", 500)
    assert 'carflow_http_requests_total{method="GET",route="/boom",status="500"} 1.0' in scraped


def test_a_pdf_layout_logs_nothing_but_its_problems(migrated: Settings, capfd) -> None:
    from activities.documents import DocumentRenderer

    configure_logging(migrated, service="worker")
    capfd.readouterr()
    DocumentRenderer().general_conditions("service")
    assert capfd.readouterr().err == ""
    logging.getLogger("weasyprint").warning("a font is missing")
    assert "a font is missing" in capfd.readouterr().err


async def test_a_request_that_fails_is_logged_with_its_id_and_status(
    migrated: Settings, temporal_env, capfd
) -> None:
    settings = migrated.model_copy(update={"log_format": "json"})
    configure_logging(settings, service="api")
    try:
        app = create_app(settings, temporal_client=temporal_env.client)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            missing = await http.get("/api/v1/nowhere", headers={"X-Request-ID": "req-404"})
            unauthorized = await http.get("/api/v1/proposals")
        await app.state.engine.dispose()
        lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    finally:
        logging.getLogger().handlers.clear()
    assert missing.headers["x-request-id"] == "req-404" and len(unauthorized.headers["x-request-id"]) == 32
    requests = [line for line in lines if line.get("event") == "request"]
    assert [(r["path"], r["route"], r["status"]) for r in requests] == [
        ("/api/v1/nowhere", None, 404),
        ("/api/v1/proposals", "/api/v1/proposals", 401),
    ]
    assert requests[0]["request_id"] == "req-404"
    assert requests[1]["request_id"] == unauthorized.headers["x-request-id"]
