"""Readiness reports the workers' backlog: `/readyz` is 503 while tasks wait for a worker.

Before: `/healthz` answered 200 while thousands of workflow tasks waited, the oldest for
minutes, and every action timed out. A real dev server (DescribeTaskQueue with its stats).
"""

from __future__ import annotations

import httpx
from stack import http_client
from test_visibility_devserver import devserver  # noqa: F401 - the dev server fixture

from api import create_app
from support import eventually
from worker import create_worker


async def test_readyz_says_when_no_worker_keeps_up_and_healthz_stays_liveness(
    devserver, session_factory  # noqa: F811
) -> None:
    settings, client = devserver
    settings = settings.model_copy(update={"ready_max_backlog_age_s": 1.0})
    app = create_app(settings, temporal_client=client)
    async with http_client(app) as http:
        # No worker yet, and work waiting for one.
        for n in range(3):
            await client.start_workflow("ProposalWorkflow", id=f"waiting-{n}", task_queue=settings.task_queue)

        async def ready() -> httpx.Response:
            return await http.get("/readyz")

        stalled = await eventually(ready, lambda r: "oldest task" in r.text, timeout_s=30)
        assert stalled.status_code == 503
        workers = stalled.json()["workers"]
        assert workers["ok"] is False and workers["backlog"]["workflow"]["count"] >= 1
        assert workers["pollers"] == 0
        assert stalled.headers["retry-after"]
        # Liveness is not readiness: the API itself, its database and Temporal are fine.
        assert (await http.get("/healthz")).status_code == 200

        for n in range(3):  # the waiting work is gone; a worker comes
            await client.get_workflow_handle(f"waiting-{n}").terminate()
        async with create_worker(client, settings, session_factory=session_factory):
            ok = await eventually(ready, lambda r: r.status_code == 200, timeout_s=60)
        assert ok.json()["workers"]["pollers"] >= 1
        assert ok.json()["status"] == "ok"
