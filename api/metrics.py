"""The API's Prometheus endpoint `/metrics`: requests and latency by route, proposals by state.

Requests are labelled by route template (`/api/v1/proposals/{proposal_id}`), never by raw
path, so ids do not explode the series; a path no route matches counts as `<unmatched>`.
The proposal gauges are read from the database read model at scrape time. Each app has its
own registry, so several apps in one process (tests) do not collide.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

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

from db.models import Proposal
from statemachines.proposal import PROPOSAL_STATES

log = structlog.get_logger(__name__)

UNMATCHED = "<unmatched>"


class ApiMetrics:
    def __init__(self) -> None:
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
        self.proposals = Gauge(
            "carflow_proposals",
            "Proposals by lifecycle state (database read model, read at scrape time).",
            ["state"],
            registry=self.registry,
        )
        self.email_failed = Gauge(
            "carflow_proposals_email_failed",
            "Proposals whose email sending gave up and waits for an ADV retry.",
            registry=self.registry,
        )
        self.database_up = Gauge(
            "carflow_metrics_database_up",
            "1 when the database answered the last scrape's queries.",
            registry=self.registry,
        )

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            self.requests.labels(request.method, template, str(status)).inc()
            self.latency.labels(request.method, template).observe(time.perf_counter() - started)

    async def refresh_from_database(self, request: Request) -> None:
        try:
            async with request.app.state.session_factory() as session:
                by_state = dict(
                    (
                        await session.execute(select(Proposal.state, func.count()).group_by(Proposal.state))
                    ).all()
                )
                failed = await session.scalar(
                    select(func.count()).select_from(Proposal).where(Proposal.email_failed.is_(True))
                )
        except Exception as exc:  # noqa: BLE001 - a scrape must answer even when the database does not
            log.warning("metrics_database_unavailable", error=str(exc).splitlines()[0][:200])
            self.database_up.set(0)
            return
        for state in sorted(set(PROPOSAL_STATES) | set(by_state)):
            self.proposals.labels(state).set(by_state.get(state, 0))
        self.email_failed.set(failed or 0)
        self.database_up.set(1)


def install_metrics(app: FastAPI) -> ApiMetrics:
    metrics = ApiMetrics()
    app.state.metrics = metrics
    app.middleware("http")(metrics.middleware)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus(request: Request) -> Response:
        await metrics.refresh_from_database(request)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
