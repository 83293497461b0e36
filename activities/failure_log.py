"""Failed activity attempts, written where the ADV stuck list can read them by index.

A worker interceptor (no workflow change, nothing in histories): when an attempt of a
Carflow lifecycle's activity fails and Temporal will retry it, one row of
`activity_failures` says which activity, how many attempts, since when and the error;
the row goes when the activity succeeds, gives up (last attempt, non-retryable error) or
is cancelled, and every row of a workflow goes when its projection says it gave up on an
effect (`email_failed`) or ended. The ADV list then answers
from that small table instead of describing every running workflow.

Bookkeeping never fails an activity: a database error here is logged, and the activity's
own outcome (result or exception) goes on unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from db.models import ActivityFailure, utcnow
from workflows.contract import LifecycleProjection
from workflows.kinds import kind_of

log = structlog.get_logger("activity_failures")


def retried(info: activity.Info, error: BaseException) -> bool:
    """Whether Temporal will run this activity again after this failure."""
    if isinstance(error, ApplicationError) and error.non_retryable:
        return False
    policy = info.retry_policy
    if policy is None:
        return True
    if policy.maximum_attempts and info.attempt >= policy.maximum_attempts:
        return False
    error_type = error.type if isinstance(error, ApplicationError) and error.type else type(error).__name__
    return error_type not in (policy.non_retryable_error_types or ())


class _FailureLogInbound(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(next)
        self.sessions = sessions

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        parsed = kind_of(info.workflow_id or "")
        if parsed is None:
            return await self.next.execute_activity(input)
        try:
            result = await self.next.execute_activity(input)
        except asyncio.CancelledError:
            await self._forget(info)
            raise
        except BaseException as error:
            if retried(info, error):
                await self._record(info, parsed[0].name, parsed[1], error)
            else:
                await self._forget(info)
            raise
        if info.attempt > 1:  # a first attempt that succeeds never left a row
            await self._forget(info)
        projection = input.args[0] if input.args else None
        if isinstance(projection, LifecycleProjection) and (
            projection.email_failed or projection.state in parsed[0].final_states
        ):
            # The workflow gave up on an effect (it now waits for ADV) or its lifecycle is
            # over: none of its earlier failures is being retried any more. The retry policy
            # would tell the last attempt, but not every server sends it to the worker.
            await self._forget_workflow(info.workflow_id or "")
        return result

    async def _record(self, info: activity.Info, kind: str, target_id: str, error: BaseException) -> None:
        now = utcnow()
        try:
            async with self.sessions() as session:
                row = await session.scalar(
                    select(ActivityFailure).where(
                        ActivityFailure.workflow_run_id == info.workflow_run_id,
                        ActivityFailure.activity_id == info.activity_id,
                    )
                )
                if row is None:
                    row = ActivityFailure(
                        workflow_run_id=info.workflow_run_id,
                        activity_id=info.activity_id,
                        workflow_id=info.workflow_id,
                        kind=kind,
                        target_id=target_id,
                        activity_type=info.activity_type,
                        first_failed_at=now,
                    )
                    session.add(row)
                row.attempt = info.attempt
                row.last_failed_at = now
                row.last_error = (str(error) or type(error).__name__)[:1000]
                await session.commit()
        except Exception as exc:  # noqa: BLE001 - bookkeeping must not change the activity's outcome
            log.warning("activity_failure_not_recorded", error=str(exc).splitlines()[0][:200])

    async def _forget(self, info: activity.Info) -> None:
        try:
            async with self.sessions() as session:
                await session.execute(
                    delete(ActivityFailure).where(
                        ActivityFailure.workflow_run_id == info.workflow_run_id,
                        ActivityFailure.activity_id == info.activity_id,
                    )
                )
                await session.commit()
        except Exception as exc:  # noqa: BLE001 - as above
            log.warning("activity_failure_not_cleared", error=str(exc).splitlines()[0][:200])

    async def _forget_workflow(self, workflow_id: str) -> None:
        try:
            async with self.sessions() as session:
                await session.execute(
                    delete(ActivityFailure).where(ActivityFailure.workflow_id == workflow_id)
                )
                await session.commit()
        except Exception as exc:  # noqa: BLE001 - as above
            log.warning("activity_failure_not_cleared", error=str(exc).splitlines()[0][:200])


class ActivityFailureLog(Interceptor):
    """Worker interceptor: `Worker(..., interceptors=[ActivityFailureLog(session_factory)])`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _FailureLogInbound(next, self.sessions)
