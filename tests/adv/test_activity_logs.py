"""Every activity log line names its workflow: workflow id and run id as JSON fields, on
our own lines (activity.logger and structlog) and on the SDK's (a failed attempt)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import timedelta

import structlog
from proposal_harness import Proposals
from stack import running_worker
from temporalio import activity, workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.logging_interceptor import ActivityLogContext
from carflow.logs import configure_logging
from carflow.settings import Settings
from support import Sink


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def test_proposal_activity_lines_carry_workflow_and_run_ids(
    migrated: Settings, session_factory, temporal_env: WorkflowEnvironment, sink: Sink, capfd
) -> None:
    configure_logging(migrated.model_copy(update={"log_format": "json"}), service="worker")
    sink.stop()  # down at first: one failed attempt, then delivered
    try:
        async with running_worker(temporal_env, migrated, session_factory):
            handle = await Proposals(migrated, session_factory, temporal_env).create(send_now=True)
            await asyncio.sleep(1)
            sink.start()
            for _ in range(50):
                if sink.messages():
                    break
                await temporal_env.sleep(timedelta(seconds=5))
            run_id = (await handle.describe()).run_id
        lines = json_lines(capfd.readouterr().err)
    finally:
        logging.getLogger().handlers.clear()
        structlog.reset_defaults()

    [sent] = [line for line in lines if str(line.get("event", "")).startswith("email proposal-")]
    assert sent["event"] == f"email {handle.id}:proposal_sent:1 sent to marie@example.com"
    assert (sent["workflow_id"], sent["workflow_run_id"]) == (handle.id, run_id)
    assert sent["activity_type"] == "send_proposal_email" and sent["activity_attempt"] >= 2
    assert "{'activity_id'" not in sent["event"]  # ids are fields, not a suffix

    [failed, *_] = [line for line in lines if "Completing activity as failed" in str(line.get("event"))]
    assert (failed["workflow_id"], failed["workflow_run_id"]) == (handle.id, run_id)
    assert failed["activity_type"] == "send_proposal_email" and failed["activity_attempt"] == 1
    assert failed["service"] == "worker" and failed["level"] == "warning"


@activity.defn
async def chatty(note: str) -> str:
    structlog.get_logger("tests.chatty").info("structlog line", note=note)
    activity.logger.info("stdlib line %s", note)
    return note


@workflow.defn(sandboxed=False)
class Chatty:
    @workflow.run
    async def run(self, note: str) -> str:
        return await workflow.execute_activity(chatty, note, start_to_close_timeout=timedelta(seconds=10))


async def test_concurrent_activities_each_log_their_own_workflow(
    migrated: Settings, temporal_env: WorkflowEnvironment, capfd
) -> None:
    configure_logging(migrated.model_copy(update={"log_format": "json"}), service="worker")
    try:
        async with Worker(
            temporal_env.client,
            task_queue="chatty",
            workflows=[Chatty],
            activities=[chatty],
            interceptors=[ActivityLogContext()],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            ids = [f"chatty-{uuid.uuid4()}" for _ in range(5)]
            handles = [
                await temporal_env.client.start_workflow(Chatty.run, wid, id=wid, task_queue="chatty")
                for wid in ids
            ]
            with temporal_env.auto_time_skipping_disabled():  # real time: nothing here waits
                await asyncio.gather(*(h.result() for h in handles))
        lines = json_lines(capfd.readouterr().err)
    finally:
        logging.getLogger().handlers.clear()
        structlog.reset_defaults()
    ours = [line for line in lines if line.get("event") == "structlog line" or "stdlib line" in line["event"]]
    assert len(ours) == 10
    for line in ours:
        note = line.get("note") or line["event"].removeprefix("stdlib line ")
        assert line["workflow_id"] == note  # never another activity's workflow
        assert line["workflow_run_id"] and line["activity_type"] == "chatty"
