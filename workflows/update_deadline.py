"""An update the API has given up on is refused when it reaches the workflow, not applied.

The API waits a bounded time for the workflow to accept an update (api/lifecycle_client.py).
When no worker picks it up in time — the worker is down or far behind — Temporal still holds
the update and would deliver it whenever a worker polls again, minutes later, while the API
could not tell the user whether it would happen. So every update carries a deadline header
(`carflow-accept-by`: a wall-clock Unix time, set by the API a little before it stops
waiting) and this worker interceptor's validator refuses an update that arrives after it.

A refused (rejected) update leaves nothing in the workflow's history, so the API can answer
a true `503 action_not_applied`: it will not happen, and the same request retried (same
update id) is a new chance. Validators do not run on replay, so the wall clock here cannot
make a replay diverge; it is read outside the sandbox's restrictions on purpose.
"""

from __future__ import annotations

import time
from typing import Any

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

HEADER = "carflow-accept-by"
LATE_ERROR_TYPE = "UpdateDeadlinePassed"


def deadline_header(accept_by: float) -> Payload:
    return Payload(metadata={"encoding": b"binary/plain"}, data=f"{accept_by:.3f}".encode())


def accept_by(headers: Any) -> float | None:
    payload = headers.get(HEADER) if headers else None
    if payload is None:
        return None
    try:
        return float(payload.data.decode())
    except (UnicodeDecodeError, ValueError):
        return None


def _now() -> float:
    with workflow.unsafe.sandbox_unrestricted():
        return time.time()


class _DeadlineInbound(WorkflowInboundInterceptor):
    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        deadline = accept_by(input.headers)
        if deadline is not None and _now() > deadline:
            raise ApplicationError(
                f"update {input.update} arrived after its caller stopped waiting",
                type=LATE_ERROR_TYPE,
                non_retryable=True,
            )
        super().handle_update_validator(input)


class UpdateDeadline(Interceptor):
    """Worker interceptor: refuses updates that reach the workflow after their deadline."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _DeadlineInbound
