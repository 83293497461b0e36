"""CPU of a new workflow's sandbox, strict and as the worker runs it: `python -m bench.sandbox_starts`.

Each new workflow (and each one evicted from the sticky cache) gets a fresh sandbox, into
which every module not passed through is imported again. This builds that sandbox for the
proposal and the listing workflow (`WorkflowRunner.prepare_workflow`, what the worker does
per new workflow, without the server round trip), under the strict restrictions the test
suite uses and under the worker's (`CARFLOW_WORKER_REUSE_WORKFLOW_MODULES`), and prints
the CPU milliseconds per sandbox. In one process, nothing else involved: the figure behind
`bench.lifecycle --starts`, steadier than it on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from temporalio import workflow
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from carflow.settings import Settings
from worker import sandbox_restrictions
from workflows.registry import ALL_WORKFLOWS


async def cpu_ms_per_sandbox(reuse: bool, workflow_class: type, n: int) -> float:
    settings = Settings(_env_file=None, worker_reuse_workflow_modules=reuse)  # type: ignore[call-arg]
    runner = SandboxedWorkflowRunner(restrictions=sandbox_restrictions(settings))
    definition = workflow._Definition.must_from_class(workflow_class)
    runner.prepare_workflow(definition)  # warm: the modules outside the sandbox are loaded once
    started = time.process_time()
    for _ in range(n):
        runner.prepare_workflow(definition)
    return (time.process_time() - started) * 1000 / n


async def run(n: int) -> None:
    print(f"{'CPU ms per new workflow sandbox':34} {'strict':>8} {'worker':>8}")
    for workflow_class in ALL_WORKFLOWS:
        strict = await cpu_ms_per_sandbox(False, workflow_class, n)
        reused = await cpu_ms_per_sandbox(True, workflow_class, n)
        print(f"{workflow_class.__name__:34} {strict:8.1f} {reused:8.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sandbox_starts", description=__doc__.split("\n")[0]
    )
    parser.add_argument("-n", type=int, default=50, help="sandboxes per measure (default 50)")
    asyncio.run(run(parser.parse_args(argv).n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
