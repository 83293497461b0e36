"""`python worker.py`: connects with retry, runs the task queue, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from carflow.settings import Settings
from carflow.temporal_client import TemporalUnreachable, connect_with_retry
from support import free_port, make_settings
from worker import create_worker

ROOT = Path(__file__).resolve().parent.parent


def worker_env(settings: Settings, address: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARFLOW_")}
    env.update(
        CARFLOW_VAR_DIR=str(settings.var_dir),
        CARFLOW_DATABASE_URL=settings.database.render_as_string(hide_password=False),
        CARFLOW_TEMPORAL_ADDRESS=address,
        CARFLOW_LOG_FORMAT="json",
        # Never the default 9464: a developer's own worker may be serving its metrics there.
        CARFLOW_WORKER_METRICS_PORT=str(free_port()),
        **extra,
    )
    if settings.database_schema:
        env["CARFLOW_DATABASE_SCHEMA"] = settings.database_schema
    return env


async def test_create_worker_serves_the_configured_task_queue(
    migrated: Settings, temporal_env: WorkflowEnvironment
) -> None:
    settings = migrated.model_copy(update={"task_queue": "carflow-test-queue"})
    worker = create_worker(temporal_env.client, settings)
    assert worker.task_queue == "carflow-test-queue"
    async with worker:  # polls without error, then shuts down
        await asyncio.sleep(0.3)
        assert worker.is_running
    assert not worker.is_running


async def test_create_worker_is_sized_and_sandboxed_from_the_settings(
    migrated: Settings, temporal_env: WorkflowEnvironment
) -> None:
    sized = migrated.model_copy(
        update={
            "worker_max_cached_workflows": 123,
            "worker_max_concurrent_workflow_tasks": 7,
            "worker_max_concurrent_activities": 9,
            "worker_max_concurrent_local_activities": 5,
            "worker_reuse_workflow_modules": True,
        }
    )
    config = create_worker(temporal_env.client, sized).config()
    assert (
        config["max_cached_workflows"],
        config["max_concurrent_workflow_tasks"],
        config["max_concurrent_activities"],
        config["max_concurrent_local_activities"],
    ) == (123, 7, 9, 5)
    passed = config["workflow_runner"].restrictions.passthrough_modules  # type: ignore[attr-defined]
    assert {"workflows", "statemachines", "workflows.proposal_contract"} <= passed

    # Strict (as the suite runs): the workflow code is re-imported and checked in each sandbox;
    # building the worker validated every workflow under that sandbox.
    strict_settings = migrated.model_copy(update={"task_queue": "carflow-strict"})
    strict = create_worker(temporal_env.client, strict_settings).config()
    passed = strict["workflow_runner"].restrictions.passthrough_modules  # type: ignore[attr-defined]
    assert "workflows" not in passed and "workflows.lifecycle" not in passed
    assert {"statemachines", "workflows.contract"} <= passed


def test_default_sizing_fits_a_small_machine() -> None:
    defaults = Settings.model_fields
    assert defaults["worker_max_cached_workflows"].default == 500  # README "Worker sizing": ~0.12 MiB each
    assert defaults["worker_max_concurrent_workflow_tasks"].default == 20
    assert defaults["worker_reuse_workflow_modules"].default is True


async def test_connect_with_retry_gives_up_with_a_clear_message(tmp_path) -> None:
    settings = make_settings(tmp_path)
    reasons: list[str] = []
    started = time.monotonic()
    with pytest.raises(TemporalUnreachable) as info:
        await connect_with_retry(settings, deadline_s=1.5, on_retry=lambda r, _d: reasons.append(r))
    assert time.monotonic() - started < 5
    assert len(reasons) >= 1  # it did retry before giving up
    assert f"CARFLOW_TEMPORAL_ADDRESS={settings.temporal_address}" in str(info.value)
    assert "connection refused" in str(info.value)


def test_worker_process_runs_and_stops_on_sigterm(
    migrated: Settings, temporal_env: WorkflowEnvironment
) -> None:
    address = temporal_env.client.service_client.config.target_host
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "worker.py")],
        env=worker_env(migrated, address),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        seen = ""
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            seen += line
            if '"worker_started"' in line:
                break
        assert '"worker_started"' in seen, seen
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_worker_process_exits_with_one_line_when_temporal_never_answers(migrated: Settings) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "worker.py")],
        env=worker_env(migrated, migrated.temporal_address, CARFLOW_TEMPORAL_CONNECT_TIMEOUT_S="1.5"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("worker: cannot reach Temporal at CARFLOW_TEMPORAL_ADDRESS=")
    assert "Traceback" not in result.stderr
    assert '"temporal_not_ready"' in result.stderr  # the retries were logged while waiting


HISTORIES = sorted((ROOT / "tests" / "workflows" / "histories").glob("*.json"))


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_histories_replay_on_the_production_sandbox(path: Path, tmp_path: Path) -> None:
    """tests/workflows/test_replay.py replays under the strict sandbox; production passes the
    workflow modules through: the same histories must replay that way too."""
    from temporalio.client import WorkflowHistory
    from temporalio.worker import Replayer
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

    from worker import sandbox_restrictions
    from workflows.registry import ALL_WORKFLOWS

    production = make_settings(tmp_path, worker_reuse_workflow_modules=True)
    replayer = Replayer(
        workflows=list(ALL_WORKFLOWS),
        workflow_runner=SandboxedWorkflowRunner(restrictions=sandbox_restrictions(production)),
    )
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
