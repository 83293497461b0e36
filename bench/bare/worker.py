"""The bare baseline's worker: `python -m bench.bare.worker` (settings from BARE_* variables).

SDK defaults for everything (sticky cache, concurrency, sandbox): that is the bare baseline.
"""

from __future__ import annotations

import asyncio
import os
import signal

from temporalio.client import Client
from temporalio.worker import Worker

from bench.bare.activities import BareMailer
from bench.bare.workflow import TASK_QUEUE, BareProposal


async def run() -> None:
    client = await Client.connect(os.environ["BARE_TEMPORAL_ADDRESS"])
    mailer = BareMailer.from_env()
    worker = Worker(client, task_queue=TASK_QUEUE, workflows=[BareProposal], activities=[mailer.send_email])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        print("worker_started", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(run())
