"""The API's Prometheus endpoint `/metrics`: requests and latency by route, lifecycles by state.

Requests are labelled by route template (`/api/v1/proposals/{proposal_id}`), never by raw
path, so ids do not explode the series; a path no route matches counts as `<unmatched>`.
The gauges of each kind of lifecycle (proposals, listings: `api/lifecycles.py`) are read
from the database read model at a scrape, at most every `metrics_refresh_s` seconds (a
GROUP BY over every proposal is not for each scraper's every poll). Each app has its
own registry, so several apps in one process (tests) do not collide.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog
from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.lifecycles import LIFECYCLES

log = structlog.get_logger(__name__)

UNMATCHED = "<unmatched>"


class ApiMetrics:
    def __init__(self, refresh_s: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.refresh_s = refresh_s
        self.clock = clock  # tests move it
        self._refreshed_at: float | None = None
        self._refreshing = asyncio.Lock()
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "carflow_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "carflow_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.by_state = {
            lifecycle.kind.name: Gauge(
                f"carflow_{lifecycle.kind.name}s",
                f"{lifecycle.kind.name.capitalize()}s by lifecycle state (read model, at scrape time).",
                ["state"],
                registry=self.registry,
            )
            for lifecycle in LIFECYCLES
        }
        self.email_failed = {
            lifecycle.kind.name: Gauge(
                f"carflow_{lifecycle.kind.name}s_email_failed",
                f"{lifecycle.kind.name.capitalize()}s whose side effect gave up and waits for an ADV retry.",
                registry=self.registry,
            )
            for lifecycle in LIFECYCLES
        }
        self.database_up = Gauge(
            "carflow_metrics_database_up",
            "1 when the database answered the last scrape's queries.",
            registry=self.registry,
        )

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """A pure ASGI middleware counting and timing each request (no BaseHTTPMiddleware:
        its task group and streams cost a fraction of a millisecond per request)."""

        async def timed(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 500  # what the server answers when the app raises

            async def send_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, send_status)
            finally:
                # The router writes the matched route into this very scope.
                template = getattr(scope.get("route"), "path", None) or UNMATCHED
                self.requests.labels(scope["method"], template, str(status)).inc()
                self.latency.labels(scope["method"], template).observe(time.perf_counter() - started)

        return timed

    async def refresh_if_due(self, request: Request) -> None:
        """Read the gauges again when the last reading is older than `refresh_s`."""
        async with self._refreshing:  # concurrent scrapes share one reading
            now = self.clock()
            if self._refreshed_at is not None and now - self._refreshed_at < self.refresh_s:
                return
            if await self.refresh_from_database(request):
                self._refreshed_at = now

    async def refresh_from_database(self, request: Request) -> bool:
        counts: dict[str, tuple[dict[str, int], int]] = {}
        try:
            async with request.app.state.session_factory() as session:
                for lifecycle in LIFECYCLES:
                    table = lifecycle.table
                    by_state = (
                        await session.execute(select(table.state, func.count()).group_by(table.state))
                    ).all()
                    failed = await session.scalar(
                        select(func.count()).select_from(table).where(table.email_failed.is_(True))
                    )
                    counts[lifecycle.kind.name] = (dict(by_state), failed or 0)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - a scrape must answer even when the database does not
            log.warning("metrics_database_unavailable", error=str(exc).splitlines()[0][:200])
            self.database_up.set(0)
            return False
        for lifecycle in LIFECYCLES:
            by_state, failed = counts[lifecycle.kind.name]
            for state in sorted(set(lifecycle.states) | set(by_state)):
                self.by_state[lifecycle.kind.name].labels(state).set(by_state.get(state, 0))
            self.email_failed[lifecycle.kind.name].set(failed)
        self.database_up.set(1)
        return True


def install_metrics(app: FastAPI, refresh_s: float = 0.0) -> ApiMetrics:
    metrics = ApiMetrics(refresh_s)
    app.state.metrics = metrics
    app.add_middleware(metrics.middleware)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus(request: Request) -> Response:
        await metrics.refresh_if_due(request)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
