"""The FastAPI application: `create_app(settings=None, temporal_client=None)`.

The routers and their order are api/routers.py's; errors are answered by api/errors.py
(JSON) and api/pages.py (pages).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client

from activities.document_templates import pdf_environment
from api.control_chars import ControlCharacterGuard
from api.errors import install_error_handlers
from api.metrics import install_metrics
from api.pages import install_page_handlers
from api.pending import install_pending_handler
from api.routers import app_routers
from api.temporal import TemporalHandle
from api.update_ids import IdempotencyKeyCapture
from carflow.settings import Settings, load_settings
from db.session import create_engine, create_session_factory

log = structlog.get_logger("api.access")


def create_app(settings: Settings | None = None, temporal_client: Client | None = None) -> FastAPI:
    settings = settings or load_settings()
    engine = create_engine(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(
        title="Carflow API",
        version="0.1.0",
        summary="Durable workflows for warranty proposals and vehicle listings.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = create_session_factory(engine)
    app.state.temporal = TemporalHandle(settings, temporal_client)
    # The PDF templates, for the pages that show the same text as HTML (the API makes no PDF).
    app.state.pdf_templates = pdf_environment()

    install_error_handlers(app)
    install_page_handlers(app)
    install_pending_handler(app)
    # Innermost: a NUL byte is refused before any route or database sees it, and logged.
    app.add_middleware(ControlCharacterGuard)
    # Every action's update id comes from the request (api/update_ids.py).
    app.add_middleware(IdempotencyKeyCapture)
    app.add_middleware(AccessLog)
    install_metrics(app, settings.metrics_refresh_s)  # outermost: times the whole request
    for router in app_routers(settings):
        app.include_router(router)
    return app


class AccessLog:
    """One log line per request, with its request id bound for every line logged meanwhile.

    A plain ASGI middleware (not `app.middleware("http")`, whose BaseHTTPMiddleware runs the
    app in a task of its own with memory streams between: about a quarter millisecond of CPU
    per request each, for nothing here).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get("x-request-id") or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None)
            path = scope["path"]
            log.info(
                "request",
                method=scope["method"],
                # A path with a capability token in it (/p/{token}, /r/{token}, …) is logged by
                # its template: anyone reading the logs could otherwise open the buyer's proposal.
                path=template if template and "{token}" in template else path,
                route=template,
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
