"""The FastAPI application: `create_app(settings=None, temporal_client=None)`.

The routers and their order are api/routers.py's; errors are answered by api/errors.py
(JSON) and api/pages.py (pages).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request, Response
from temporalio.client import Client

from activities.document_templates import pdf_environment
from api.backpressure import Backpressure
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
    # New work is refused at once when the workers cannot keep up (api/backpressure.py).
    app.add_middleware(Backpressure, settings=settings)
    app.middleware("http")(_access_log)
    install_metrics(app, settings.metrics_refresh_s)  # outermost: times the whole request
    for router in app_routers(settings):
        app.include_router(router)
    return app


async def _access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    template = getattr(route, "path", None)
    log.info(
        "request",
        method=request.method,
        # A path with a capability token in it (/p/{token}, /r/{token}, …) is logged by its
        # template: anyone reading the logs could otherwise open the buyer's proposal.
        path=template if template and "{token}" in template else request.url.path,
        route=getattr(route, "path", None),
        status=response.status_code,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    response.headers["X-Request-ID"] = request_id
    return response
