"""The Carflow Temporal worker: `python worker.py` (or `carflow worker`).

`create_worker(client, settings)` wires every workflow and activity on the task queue; tests
use it with the time-skipping server's client.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.failure_log import ActivityFailureLog
from activities.logging_interceptor import ActivityLogContext
from activities.registry import build_activities, warm_documents
from carflow.heap import freeze_startup_heap
from carflow.observability import metrics_runtime
from carflow.settings import ConfigurationError, Settings, load_settings
from carflow.temporal_client import TemporalUnreachable, connect_with_retry
from db.session import create_engine, create_session_factory
from workflows.dealer_notices import NoticesConfig, ensure_running
from workflows.registry import ALL_WORKFLOWS
from workflows.update_deadline import UpdateDeadline

log = structlog.get_logger("worker")

# Deterministic modules without side effects, shared with the sandbox instead of re-imported
# for every workflow: the machines (no I/O, no clock; passing them through also avoids the
# import-time restrictions python-statemachine trips, DESIGN.md §3), the contracts (names
# and dataclasses), the search-attribute keys and the record helper they import. None holds
# state that a workflow mutates, so workflows cannot leak into one another through them.
PASSTHROUGH_MODULES = (
    "statemachines",
    "carflow.records",
    "workflows.contract",
    "workflows.kinds",
    "workflows.proposal_contract",
    "workflows.listing_contract",
    "workflows.search_attributes",
)
# The workflow code itself (the engine and each kind). Re-importing it into each new
# workflow's sandbox was most of that workflow's first task (15-20 ms of CPU of about 30:
# `python -m bench.sandbox_starts`). Passed through, the sandbox no longer checks that code
# at run time (a `datetime.now()` in it would not be refused), so the test suite and the
# replay test run it strictly (`worker_reuse_workflow_modules=False`). Safe because these
# modules keep no mutable module-level state: constants, classes, handlers built at import.
WORKFLOW_MODULES = ("workflows",)


def sandbox_restrictions(settings: Settings) -> SandboxRestrictions:
    modules = PASSTHROUGH_MODULES + (WORKFLOW_MODULES if settings.worker_reuse_workflow_modules else ())
    return SandboxRestrictions.default.with_passthrough_modules(*modules)


def create_worker(
    client: Client,
    settings: Settings,
    *,
    session_factory: async_sessionmaker[AsyncSession] | None = None,
) -> Worker:
    if session_factory is None:
        session_factory = create_session_factory(create_engine(settings))
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=list(ALL_WORKFLOWS),
        activities=build_activities(settings, session_factory),
        # Every activity log line carries its workflow id and run id; failed attempts are
        # recorded for the ADV stuck list (activities/failure_log.py).
        # An update the API stopped waiting for is refused, not applied later (workflows/update_deadline.py).
        interceptors=[ActivityLogContext(), ActivityFailureLog(session_factory), UpdateDeadline()],
        # A redeploy's SIGTERM lets running activities (an SMTP send) finish first.
        graceful_shutdown_timeout=timedelta(seconds=30),
        workflow_runner=SandboxedWorkflowRunner(restrictions=sandbox_restrictions(settings)),
        # Sized for a small machine (README "Worker sizing"); the SDK's defaults are for big ones.
        max_cached_workflows=settings.worker_max_cached_workflows,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_concurrent_local_activities=settings.worker_max_concurrent_local_activities,
    )


async def run(settings: Settings) -> None:
    # SDK metrics on a Prometheus endpoint: the runtime must exist before the client connects.
    runtime = metrics_runtime(settings)
    client = await connect_with_retry(
        settings,
        on_retry=lambda reason, delay: log.warning("temporal_not_ready", reason=reason, retry_in_s=delay),
        runtime=runtime,
    )
    engine = create_engine(settings)
    worker = create_worker(client, settings, session_factory=create_session_factory(engine))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "worker_started",
        address=settings.temporal_address,
        namespace=settings.temporal_namespace,
        task_queue=settings.task_queue,
        max_cached_workflows=settings.worker_max_cached_workflows,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        reuse_workflow_modules=settings.worker_reuse_workflow_modules,
    )
    async with worker:
        # carflow/heap.py: full collections no longer scan the modules and the worker's objects.
        frozen = freeze_startup_heap()
        log.info("startup_heap_frozen", objects=frozen)
        warming = asyncio.create_task(warm_documents(settings))  # the documents the API serves
        # The dealers' notices relay (issue 13): one per namespace, whichever worker starts it.
        await ensure_running(
            client,
            settings.task_queue,
            NoticesConfig(settings.dealer_notice_expiring_days, settings.dealer_notice_interval_s),
        )
        await stop.wait()
        warming.cancel()
        log.info("worker_stopping")
    await engine.dispose()


def main() -> int:
    from carflow.logs import configure_logging

    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings, service="worker")
    try:
        asyncio.run(run(settings))
    except TemporalUnreachable as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return 1
    return 0


def exit_now(code: int) -> None:
    """Exit without interpreter finalization.

    The SDK's Rust runtime keeps native threads; finalizing the interpreter under them has
    been seen to abort the process (SIGABRT) after a failed connect, turning a clean
    "cannot reach Temporal" exit 1 into a crash. Everything worth keeping is flushed first.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
