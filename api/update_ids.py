"""Which update a user action is: its id comes from the request, so a retry is the same update.

Temporal answers a second `start_update` with an id it already has by attaching to the first
one (still running: the same outcome when it finishes; finished: that outcome again), so a
request retried after a timeout, a lost answer or a double click fires its event once.

* With an `Idempotency-Key` header, the id is the event and the key (hashed: keys are the
  client's text): the same key for the same action is the same update.
* Without one, the id is the event and the read model's `state_version` it applies to:
  two clicks on the same page are one update, while the same action done again later (a
  second "resend" after the first was done) applies to a newer version and is a new one.

The key is read once per request by `IdempotencyKeyCapture` (an ASGI middleware) into a
context variable, so every route's fire gets it without passing it through each layer.
"""

from __future__ import annotations

import hashlib
from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 200

_request_key: ContextVar[str | None] = ContextVar("idempotency_key", default=None)


def request_key() -> str | None:
    """The current request's Idempotency-Key, if it sent one."""
    return _request_key.get()


def update_id_for(event: str, version: int | None) -> str | None:
    """The id of `event` fired for the current request; None when nothing identifies it."""
    key = request_key()
    if key is not None:
        return f"{event}/key/{hashlib.sha256(key.encode()).hexdigest()[:32]}"
    if version is not None:
        return f"{event}/v{version}"
    return None


class IdempotencyKeyCapture:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = next((v for k, v in scope.get("headers") or [] if k == HEADER), None)
        value = key.decode("latin-1").strip()[:MAX_KEY_LENGTH] if key else None
        token = _request_key.set(value or None)
        try:
            await self.app(scope, receive, send)
        finally:
            _request_key.reset(token)
