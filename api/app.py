"""The FastAPI application: `create_app(settings=None, temporal_client=None)`.

The routers and their order are api/routers.py's; errors are answered by api/errors.py
(JSON) and api/pages.py (pages).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from activities.document_templates import pdf_environment
from api.access_log import AccessLog
from api.adv.visibility import ProblemWatch
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


def create_app(settings: Settings | None = None, temporal_client: Client | None = None) -> FastAPI:
    settings = settings or load_settings()
    engine = create_engine(settings)
    # Temporal-reported problems for the ADV stuck list, one view per process (api/adv/visibility.py).
    adv_problems = ProblemWatch(settings.adv_visibility_refresh_s)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await adv_problems.close()
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
    # Routes marked `read_only` (api/deps.py): no transaction, no BEGIN/ROLLBACK round trips.
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    app.state.read_session_factory = create_session_factory(autocommit)
    app.state.temporal = TemporalHandle(settings, temporal_client)
    app.state.adv_problems = adv_problems
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
    app.add_middleware(AccessLog)
    install_metrics(app, settings.metrics_refresh_s)  # outermost: times the whole request
    for router in app_routers(settings):
        app.include_router(router)
    return app
