"""The worker's Prometheus endpoint: Temporal SDK runtime metrics, on a configurable port."""

from __future__ import annotations

import asyncio
import socket
import urllib.request

from proposal_harness import Proposals, fire
from stack import running_worker
from temporalio.testing import WorkflowEnvironment

import support
from carflow.observability import metrics_runtime
from carflow.settings import Settings
from support import Sink, free_port, register_search_attributes


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


async def test_worker_serves_sdk_metrics_after_a_workflow_ran(
    migrated: Settings, session_factory, sink: Sink
) -> None:
    port = free_port()
    settings = migrated.model_copy(update={"worker_metrics_port": port})
    runtime = metrics_runtime(settings)
    assert runtime is not None
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=support.test_server_path(), runtime=runtime
    )
    try:
        await register_search_attributes(env.client)
        async with running_worker(env, settings, session_factory):
            handle = await Proposals(settings, session_factory, env).create(send_now=True)
            await fire(handle, "cancel")
            assert (await handle.result()).state == "cancelled"
            text = ""
            for _ in range(50):  # the exporter publishes on its own period
                text = await asyncio.to_thread(scrape, port)
                if "temporal_workflow_completed" in text and "temporal_activity_execution_latency" in text:
                    break
                await asyncio.sleep(0.2)
    finally:
        await env.shutdown()
    assert "temporal_workflow_completed" in text, text[:2000]
    assert "temporal_activity_execution_latency" in text
    assert 'task_queue="carflow"' in text
    assert 'activity_type="send_proposal_email"' in text


def test_metrics_port_zero_disables_and_a_taken_port_does_not_stop_the_worker(migrated: Settings) -> None:
    assert metrics_runtime(migrated.model_copy(update={"worker_metrics_port": 0})) is None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert metrics_runtime(migrated.model_copy(update={"worker_metrics_port": port})) is None
