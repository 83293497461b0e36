"""The problems Temporal itself reports (visibility), asked once per few seconds per API process.

The visibility query behind the stuck list is a filter over every running workflow: on the
dev server's SQLite it costs about 2 µs per open workflow (24 ms with 10,000 open, 212 ms with
100,000: `bench.reads --open-workflows`), and visibility is eventually consistent anyway. So
one `ProblemWatch` per API process keeps the last answer: younger than
`adv_visibility_refresh_s`, it is the answer; older, it is still the answer while one refresh
runs in the background (single-flight: one RPC however many staff pages load). A refresh that
fails drops the kept answer, so the next page asks Temporal itself and says so (503) if it
still cannot: a stale list never hides that Temporal is gone for longer than one refresh
(`refresh_s` + the RPC's timeout).
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

log = structlog.get_logger("adv")

RPC_TIMEOUT = timedelta(seconds=5)
# The visibility section is a handful of broken or paused workflows; past this many, the
# list shows the first ones (and the Temporal UI has the query for the rest).
VISIBILITY_LIMIT = 1000
PROBLEMS_QUERY = (
    'ExecutionStatus="Running" AND (TemporalReportedProblems IN '
    '("category=WorkflowTaskFailed", "category=WorkflowTaskTimedOut") OR TemporalPauseInfo IS NOT NULL)'
)


class WorkflowsUnseen(Exception):
    """Temporal did not answer the visibility query: the stuck list cannot be complete."""


async def ask_problems(client: Client) -> list[Any]:
    """The running workflows with a reported problem, asked now."""
    found = []
    try:
        async for execution in client.list_workflows(
            PROBLEMS_QUERY, limit=VISIBILITY_LIMIT, page_size=VISIBILITY_LIMIT, rpc_timeout=RPC_TIMEOUT
        ):
            found.append(execution)
    except RPCError as err:
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            status = err.status.name if err.status else "error"
            raise WorkflowsUnseen(f"{status}: {err.message[:200]}") from err
        # The time-skipping test server has no visibility: nothing it could report.
    except RuntimeError as err:  # the SDK's "Failed client connect" (server gone)
        raise WorkflowsUnseen(str(err).splitlines()[0][:200]) from err
    return found


class ProblemWatch:
    def __init__(self, refresh_s: float) -> None:
        self.refresh_s = refresh_s
        self.asked = 0  # visibility queries sent (tests/adv/test_visibility_watch.py counts them)
        self._answer: list[Any] | None = None
        self._answered_at = 0.0
        self.refresh_task: asyncio.Task[list[Any]] | None = None

    async def problems(self, client: Client) -> list[Any]:
        age = time.monotonic() - self._answered_at
        if self._answer is not None and age < self.refresh_s:
            return self._answer
        refresh = self._refreshing(client)
        if self._answer is not None and self.refresh_s > 0:
            return self._answer  # the refresh goes on in the background
        # Shielded: a page whose client went away does not cancel the others' answer.
        return await asyncio.shield(refresh)

    def _refreshing(self, client: Client) -> asyncio.Task[list[Any]]:
        loop = asyncio.get_running_loop()
        if self.refresh_task is None or self.refresh_task.done() or self.refresh_task.get_loop() is not loop:
            self.refresh_task = loop.create_task(self._ask(client))
            self.refresh_task.add_done_callback(_retrieved)
        return self.refresh_task

    async def _ask(self, client: Client) -> list[Any]:
        self.asked += 1
        try:
            answer = await ask_problems(client)
        except WorkflowsUnseen:
            self._answer = None  # the next page asks, and answers 503 if Temporal is still gone
            raise
        self._answer, self._answered_at = answer, time.monotonic()
        return answer

    def forget(self) -> None:
        """After an ADV retry: the next page asks Temporal instead of showing the kept answer."""
        self._answer = None

    async def close(self) -> None:
        if self.refresh_task is not None and not self.refresh_task.done():
            self.refresh_task.cancel()


def _retrieved(task: asyncio.Task[list[Any]]) -> None:
    """A background refresh's failure is the next page's answer, not an unretrieved exception."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.info("adv_visibility_refresh_failed", error=str(error)[:200])
