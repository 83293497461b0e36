"""The access log: one line per request, and its `X-Request-ID` (the caller's, else a new one).

A pure ASGI middleware: Starlette's `BaseHTTPMiddleware` (`app.middleware("http")`) runs
each request through a task group and memory streams, which cost about 0.4 ms of CPU per
request on this machine (a 404 went from 0.92 to 0.51 ms with both this and the metrics
middleware rewritten).
"""

from __future__ import annotations

import time
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("api.access")

REQUEST_ID = b"x-request-id"


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers") or [] if k == REQUEST_ID), None)
        request_id = given.decode("latin-1") if given else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # The router writes the matched route into this very scope.
            template = getattr(scope.get("route"), "path", None)
            log.info(
                "request",
                method=scope["method"],
                # A path with a capability token in it (/p/{token}, /r/{token}, …) is logged by
                # its template: anyone reading the logs could otherwise open the buyer's proposal.
                path=template if template and "{token}" in template else scope["path"],
                route=template,
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
