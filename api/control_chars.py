"""Control characters stop at the edge: every query parameter and every text in a body.

A NUL byte makes PostgreSQL refuse the statement (a 500), and on SQLite `LIKE '%\\x00%'`
matches every row; other control characters end up in email headers and PDFs. So one ASGI
middleware looks at the request before any route does:

* the path and query parameters: no control character at all (they are single-line by
  nature; a path's ids and tokens reach the database and the audit log);
* bodies (JSON, URL-encoded forms): no control character except tab, newline and carriage
  return, which multi-line text (a message, a comment) may hold. Single-line fields refuse
  those too through their types (api/fields.py).

JSON routes (`/api/...`) answer 422 `control_character` naming the field; pages a French
page with the same status. Bodies over `MAX_CHECKED_BYTES` are passed on unchecked: the
routes' body limits (api/body_limit.py) refuse them anyway.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from api.templating import templates

CONTROL_CHARACTER = "control_character"
MAX_CHECKED_BYTES = 1024 * 1024
# Single-line input (query parameters, names): every C0 control and DEL.
SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f]")
# Multi-line text: the same but tab, newline and carriage return.
MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def first_control_field(pairs: Iterator[tuple[str, str]], pattern: re.Pattern[str]) -> str | None:
    """The name of the first (name, value) pair whose name or value holds a control character."""
    for name, value in pairs:
        if pattern.search(name) or pattern.search(value):
            return SINGLE_LINE.sub("?", name) or "?"
    return None


def _json_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path or "body", value
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, str(key)  # a key is input too
            yield from _json_strings(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{path}.{index}" if path else str(index))


def _json_field(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None  # malformed JSON is the route's 422, not ours
    for path, text in _json_strings(data):
        if MULTI_LINE.search(text):
            return SINGLE_LINE.sub("?", path)
    return None


def _form_field(body: bytes) -> str | None:
    try:
        pairs = parse_qsl(body.decode("utf-8", "strict"), keep_blank_values=True)
    except UnicodeDecodeError:
        return None
    return first_control_field(iter(pairs), MULTI_LINE)


def _refusal(scope: Scope, where: str, field: str) -> Response:
    if scope["path"].startswith("/api/"):
        return JSONResponse(
            error_body(
                CONTROL_CHARACTER,
                f"Invalid request: {field}: must not contain control characters (NUL, escape…)",
                field=field,
                location=where,
                fields=[{"field": field, "message": "must not contain control characters"}],
            ),
            status_code=422,
        )
    return templates.TemplateResponse(
        Request(scope),
        "bad_input.html",
        {"field": field},
        status_code=422,
        headers={"Cache-Control": "no-store"},
    )


class ControlCharacterGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The path too: its parameters (ids, tokens) reach the database and the audit log.
        if SINGLE_LINE.search(scope.get("path", "")):
            await _refusal(scope, "path", "path")(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        if query:
            field = first_control_field(iter(parse_qsl(query, keep_blank_values=True)), SINGLE_LINE)
            if field is not None:
                await _refusal(scope, "query", field)(scope, receive, send)
                return
        checker = _body_checker(scope)
        if checker is None:
            await self.app(scope, receive, send)
            return
        messages, body, complete = await _buffer(receive)
        field = checker(body) if complete else None
        if field is not None:
            await _refusal(scope, "body", field)(scope, receive, send)
            return
        await self.app(scope, _replay(messages, receive), send)


def _body_checker(scope: Scope) -> Any:
    if scope.get("method") not in ("POST", "PUT", "PATCH"):
        return None
    headers = dict(scope.get("headers") or [])
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if content_type == b"application/json" or content_type.endswith(b"+json"):
        return _json_field
    if content_type == b"application/x-www-form-urlencoded":
        return _form_field
    return None


async def _buffer(receive: Receive) -> tuple[list[Message], bytes, bool]:
    """Reads the body up to MAX_CHECKED_BYTES; (messages read, body, whether it is whole)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, b"", False
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages), True
        if size > MAX_CHECKED_BYTES:
            return messages, b"", False


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
