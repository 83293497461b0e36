"""Whether the workers keep up: the task queue's backlog, as Temporal reports it.

`/healthz` says whether the API can reach its database and Temporal; that is true while
thousands of workflow tasks wait for a worker and every action times out. Readiness
(`/readyz`) also asks Temporal about the task queue (DescribeTaskQueue with its stats):
how many tasks wait, how old the oldest is, and whether any worker polls. It is not ready
when the oldest task waits longer than `ready_max_backlog_age_s`, or when no worker polls.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from carflow.settings import Settings

CHECK_TIMEOUT = timedelta(seconds=3)
_TYPES = {
    "workflow": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    "activity": TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
}


async def worker_backlog(
    client: Client, settings: Settings, max_age_s: float | None = None
) -> dict[str, Any]:
    """{"ok", "backlog": {type: {"count", "oldest_s"}}, "pollers"}; `checked: False` when the
    server cannot report it (an old server, the time-skipping test server). Not ok past
    `max_age_s` (default `ready_max_backlog_age_s`; backpressure has its own)."""
    max_age = settings.ready_max_backlog_age_s if max_age_s is None else max_age_s

    async def describe(kind: TaskQueueType.ValueType) -> Any:
        return await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=settings.temporal_namespace,
                task_queue=TaskQueue(name=settings.task_queue),
                task_queue_type=kind,
                report_stats=True,
            ),
            timeout=CHECK_TIMEOUT,
        )

    try:
        answers = await asyncio.gather(*(describe(kind) for kind in _TYPES.values()))
    except RPCError as err:
        if err.status == RPCStatusCode.UNIMPLEMENTED:
            return {"ok": True, "checked": False}
        return {"ok": False, "error": f"task queue not described: {str(err)[:200]}"}
    backlog: dict[str, dict[str, Any]] = {}
    pollers = 0
    for name, answer in zip(_TYPES, answers, strict=True):
        stats = answer.stats
        backlog[name] = {
            "count": int(stats.approximate_backlog_count),
            "oldest_s": round(stats.approximate_backlog_age.ToTimedelta().total_seconds(), 1),
        }
        pollers += len(answer.pollers)
    oldest = max(entry["oldest_s"] for entry in backlog.values())
    result: dict[str, Any] = {
        "backlog": backlog,
        "pollers": pollers,
        "max_oldest_s": max_age,
    }
    if oldest > max_age:
        return {
            **result,
            "ok": False,
            "error": f"the oldest task has waited {oldest:.0f} s for a worker "
            f"(more than {max_age:.0f} s): the workers do not keep up",
        }
    if pollers == 0:
        return {**result, "ok": False, "error": f"no worker polls the task queue {settings.task_queue}"}
    return {**result, "ok": True}
