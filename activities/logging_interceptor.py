"""Every log line an activity writes names its workflow: workflow id, run id, activity.

An activity inbound interceptor binds the activity's identity into structlog's context
variables for the duration of the call. The logging setup (carflow/logs.py) merges those
into every line, structlog's and the standard library's alike, so `activity.logger.info`
and `structlog.get_logger().info` inside an activity both carry `workflow_id` and
`workflow_run_id`. Each activity runs in its own asyncio task (its own context), so
concurrent activities never see each other's ids.
"""

from __future__ import annotations

from typing import Any

import structlog
from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

CONTEXT_KEYS = (
    "workflow_id",
    "workflow_run_id",
    "workflow_type",
    "activity_id",
    "activity_type",
    "activity_attempt",
)


def activity_context(info: activity.Info) -> dict[str, Any]:
    return {
        "workflow_id": info.workflow_id,
        "workflow_run_id": info.workflow_run_id,
        "workflow_type": info.workflow_type,
        "activity_id": info.activity_id,
        "activity_type": info.activity_type,
        "activity_attempt": info.attempt,
    }


class _ContextInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        with structlog.contextvars.bound_contextvars(**activity_context(activity.info())):
            return await self.next.execute_activity(input)


class ActivityLogContext(Interceptor):
    """Worker interceptor: `Worker(..., interceptors=[ActivityLogContext()])`."""

    def __init__(self) -> None:
        # The ids are structured fields now; the SDK's "(<dict of ids>)" suffix on each
        # activity.logger message would only repeat them.
        activity.logger.activity_info_on_message = False

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ContextInbound(next)
