"""DealerNoticesWorkflow: the relay of the dealers' notices (issue 13), one per namespace.

Every `interval_s` it runs the `relay_dealer_notices` activity (activities/dealer_notices.py),
which queues the "about to expire unsigned" notices that are due and sends every queued
notice once. The proposal workflows are not changed: the other notices are queued by their
projections (db/dealer_notices.py). The worker starts it at start-up (`ensure_running`);
it continues as new every `rounds_per_run` rounds, so its history stays short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy

WORKFLOW_TYPE = "DealerNoticesWorkflow"
WORKFLOW_ID = "dealer-notices"
ACTIVITY_RELAY = "relay_dealer_notices"


@dataclass
class NoticesConfig:
    expiring_within_days: int  # "about to expire": validity ending within so many days
    interval_s: float = 60.0
    rounds_per_run: int = 200


@dataclass
class RelayInput:
    expiring_within_days: int


@dataclass
class RelayResult:
    queued: int = 0  # "about to expire" notices queued this round
    sent: int = 0
    failed: int = 0  # tried again next round


@workflow.defn(name=WORKFLOW_TYPE)
class DealerNoticesWorkflow:
    @workflow.run
    async def run(self, config: NoticesConfig) -> None:
        for _ in range(config.rounds_per_run):
            await workflow.execute_activity(
                ACTIVITY_RELAY,
                RelayInput(config.expiring_within_days),
                result_type=RelayResult,
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
                summary="queue the notices due, send the queued ones",
            )
            await workflow.sleep(timedelta(seconds=config.interval_s))
        workflow.continue_as_new(config)


async def ensure_running(client: Client, task_queue: str, config: NoticesConfig) -> None:
    """Start the relay unless it runs already (several workers start it: one runs)."""
    await client.start_workflow(
        WORKFLOW_TYPE,
        config,
        id=WORKFLOW_ID,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary="Notifications des centres : relais des e-mails aux vendeurs",
    )
