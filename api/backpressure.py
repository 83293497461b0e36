"""Backpressure: new work is refused at once and honestly when the workers cannot keep up.

Without it, a request that fires a workflow action while the worker is behind waits for the
30 s update bound and then answers something it cannot know (the action was in fact done
seconds later). So, before any route or database sees an action (a POST, PUT, PATCH or
DELETE that is not a login/logout), one ASGI middleware asks two things:

* **a slot**: at most `backpressure_slots` actions are in flight in this API process; a
  request waits `backpressure_slot_wait_s` for one, no longer;
* **the workers' backlog**, the one `/readyz` reports (api/platform/readiness.py): when the
  oldest workflow or activity task has waited more than `backpressure_max_backlog_age_s`,
  or no worker polls, new work would only join the queue. The view is cached for
  `backpressure_backlog_ttl_s` and refreshed in the background, so no request waits for it.

Either way the answer is `503 overloaded` with `Retry-After` (JSON), or the French error
page on people's pages, within the slot wait: nothing was stored, nothing will happen, and
the same request may be sent again later. A Temporal that cannot be asked does not count as
a backlog: the routes' own 503s say Temporal is unavailable.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_body, is_page, page_error
from api.platform.readiness import worker_backlog
from carflow.settings import Settings

log = structlog.get_logger(__name__)

OVERLOADED = "overloaded"
ACTION_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Signing in and out, password resets and the developer's mailbox start no workflow action:
# they stay open while the workers are behind (a dealer can log in to see what is pending).
EXEMPT = re.compile(r"(/login|/logout|/connexion|/deconnexion|/mot-de-passe[^/]*(/[^/]+)?)$|^/dev/")
MESSAGE_FR = (
    "Le service reçoit beaucoup de demandes en ce moment et n'a pas pu traiter la vôtre : "
    "rien n'a été enregistré. Réessayez dans quelques instants."
)


class Backlog:
    """A cached view of the task queue's backlog; `busy()` never waits for Temporal."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.checked_at = float("-inf")
        self.overloaded: str | None = None  # why, when the workers do not keep up
        self._refreshing: asyncio.Task[None] | None = None

    def busy(self, app: Any) -> str | None:
        if time.monotonic() - self.checked_at > self.settings.backpressure_backlog_ttl_s and (
            self._refreshing is None or self._refreshing.done()
        ):
            self._refreshing = asyncio.create_task(self._refresh(app))
        return self.overloaded

    async def _refresh(self, app: Any) -> None:
        self.checked_at = time.monotonic()
        try:
            client = await app.state.temporal.get()
            report = await worker_backlog(client, self.settings, self.settings.backpressure_max_backlog_age_s)
        except Exception as err:  # Temporal down: the routes answer their own 503.
            log.info("backpressure_backlog_unknown", error=str(err)[:200])
            self.overloaded = None
            return
        if report.get("checked") is False or "backlog" not in report:
            self.overloaded = None  # a server that cannot tell, or could not be asked
        else:
            self.overloaded = None if report["ok"] else str(report.get("error"))
        self.checked_at = time.monotonic()


class Backpressure:
    """ASGI middleware: one slot per action in flight, refused at once when the workers lag."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.slots = asyncio.Semaphore(settings.backpressure_slots)
        self.backlog = Backlog(settings)
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ACTION_METHODS
            or EXEMPT.search(scope["path"])
            or not self.settings.backpressure_slots
        ):
            await self.app(scope, receive, send)
            return
        why = self.backlog.busy(scope["app"])
        if why is None:
            try:
                await asyncio.wait_for(self.slots.acquire(), self.settings.backpressure_slot_wait_s)
            except TimeoutError:
                why = f"{self.settings.backpressure_slots} actions already in flight"
            else:
                try:
                    await self.app(scope, receive, send)
                finally:
                    self.slots.release()
                return
        self.refused += 1
        log.warning("action_refused_overloaded", path=scope["path"], reason=why)
        await self._refusal(Request(scope), why)(scope, receive, send)

    def _refusal(self, request: Request, why: str) -> Response:
        retry_after = str(self.settings.backpressure_retry_after_s)
        if is_page(request):
            return page_error(request, 503, {"Retry-After": retry_after}, MESSAGE_FR)
        return JSONResponse(
            error_body(
                OVERLOADED,
                f"Carflow is overloaded ({why}); nothing was done. Retry in {retry_after} s.",
                retry_after_s=self.settings.backpressure_retry_after_s,
            ),
            status_code=503,
            headers={"Retry-After": retry_after},
        )
