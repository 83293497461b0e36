"""Backpressure (api/backpressure.py): new work is refused at once and honestly.

Before: under load a create with `send: true` waited for the 30 s update bound and answered
503 "saved as draft but could not be sent" although it was sent seconds later. Now an
action that finds every slot taken, or the workers' backlog too old, is refused within the
slot wait with `503 overloaded` and `Retry-After` (a French page on people's pages), before
anything is stored. The middleware runs here around a small app whose action waits until
the test lets it go, so the slots are really held.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.backpressure import Backpressure
from support import make_settings


class Held:
    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered = 0
        self.done = 0


@pytest.fixture
async def held(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Held, Backpressure]]:
    settings = make_settings(tmp_path, backpressure_slots=2, backpressure_slot_wait_s=0.1)
    state = Held()

    async def action(_request: Request) -> JSONResponse:
        state.entered += 1
        await state.release.wait()
        state.done += 1
        return JSONResponse({"ok": True}, status_code=201)

    async def read(_request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    inner = Starlette(
        routes=[
            Route("/api/v1/proposals", action, methods=["POST"]),
            Route("/api/v1/proposals", read, methods=["GET"]),
            Route("/api/v1/owner/login", read, methods=["POST"]),
            Route("/p/{token}/accept", action, methods=["POST"]),
        ]
    )
    inner.state.settings = settings
    guard = Backpressure(inner, settings)
    guard.backlog.checked_at = float("inf")  # no Temporal here: the backlog view stays "fine"

    async def served(scope, receive, send) -> None:  # as inside the app's middleware stack
        await guard({**scope, "app": inner}, receive, send)

    transport = httpx.ASGITransport(app=served)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http, state, guard


async def test_an_action_beyond_the_slots_is_refused_at_once_with_retry_after(held) -> None:
    http, state, _ = held
    first = [asyncio.create_task(http.post("/api/v1/proposals")) for _ in range(2)]
    while state.entered < 2:
        await asyncio.sleep(0.01)
    started = time.monotonic()
    refused = await http.post("/api/v1/proposals")
    took = time.monotonic() - started
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "overloaded"
    assert refused.headers["Retry-After"] == "2"
    assert took < 1.0  # the slot wait, not a 30 s bound
    assert state.entered == 2  # the refused request never reached the route
    # Reads and logins are not actions: they still answer while the slots are taken.
    assert (await http.get("/api/v1/proposals")).status_code == 200
    assert (await http.post("/api/v1/owner/login")).status_code == 200
    state.release.set()
    assert [r.status_code for r in await asyncio.gather(*first)] == [201, 201]
    # Slots given back: the same request now goes through.
    assert (await http.post("/api/v1/proposals")).status_code == 201


async def test_a_people_page_is_refused_with_a_french_page(held) -> None:
    http, state, _ = held
    first = [asyncio.create_task(http.post("/api/v1/proposals")) for _ in range(2)]
    while state.entered < 2:
        await asyncio.sleep(0.01)
    page = await http.post("/p/abc/accept")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "2"
    assert "text/html" in page.headers["content-type"]
    assert "rien n'a été enregistré" in html.unescape(page.text)
    state.release.set()
    await asyncio.gather(*first)


async def test_workers_behind_refuse_new_work_before_any_slot(held) -> None:
    http, state, guard = held
    guard.backlog.overloaded = "the oldest task has waited 42 s for a worker"
    refused = await http.post("/api/v1/proposals")
    assert refused.status_code == 503
    assert "42 s" in refused.json()["error"]["message"]
    assert state.entered == 0
    guard.backlog.overloaded = None
    state.release.set()
    assert (await http.post("/api/v1/proposals")).status_code == 201


async def test_the_backlog_view_is_not_overloaded_when_temporal_cannot_tell(app) -> None:
    # The time-skipping server does not describe task queues: no false refusals.
    guard = Backpressure(app, app.state.settings)
    assert guard.backlog.busy(app) is None
    await asyncio.sleep(0.5)
    assert guard.backlog.overloaded is None
