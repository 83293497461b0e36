"""A route class that refuses request bodies over a size limit with 413, before parsing them.

FastAPI reads and parses the JSON body before any dependency runs, so a dependency cannot
protect the parser from a huge body. This route class reads the body itself, stops as soon
as the limit is passed (a lying or missing Content-Length does not help), and hands the
bytes on so FastAPI does not read the stream again.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from api.errors import ApiError

DEFAULT_MAX_BODY_BYTES = 64 * 1024


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "payload_too_large",
        f"Request body is larger than {limit // 1024} KiB.",
        max_bytes=limit,
    )


class _CappedRequest(Request):
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            declared = self.headers.get("content-length")
            if declared is not None:
                if not declared.isdigit():
                    raise ApiError(400, "bad_request", "Invalid Content-Length header.")
                if int(declared) > self.max_body_bytes:
                    raise _too_large(self.max_body_bytes)
            chunks: list[bytes] = []
            size = 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise _too_large(self.max_body_bytes)
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body


def body_limited_route(max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> type[APIRoute]:
    """An APIRoute class for `APIRouter(route_class=...)` capping bodies at `max_bytes`."""

    class CappedRequest(_CappedRequest):
        max_body_bytes = max_bytes

    class BodyLimitedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def capped(request: Request) -> Response:
                capped_request = CappedRequest(request.scope, request.receive)
                # Read now so an oversized body is refused before authentication and parsing.
                await capped_request.body()
                return await handler(capped_request)

            return capped

    return BodyLimitedRoute
