"""Long activities (PDFs, e-signature envelopes) say they are alive while they work.

Without a heartbeat, an activity that died with its worker (kill -9, OOM) is retried only
when its whole start-to-close timeout has run out: minutes during which a signed buyer
waits for their contract. With one, Temporal retries it after `HEARTBEAT_TIMEOUT` in the
workflow. Heartbeats are not history events: they cost no billable action.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from temporalio import activity

# Well under the workflows' heartbeat timeout (20 s): the SDK throttles what it forwards anyway.
BEAT_EVERY_S = 5.0


@asynccontextmanager
async def heartbeating(every_s: float = BEAT_EVERY_S) -> AsyncIterator[None]:
    """Heartbeat every `every_s` seconds while the block runs (the work itself runs in
    threads or awaits I/O, so the event loop is free to beat). Outside an activity (a
    direct call in a test or from another activity already beating), or in a local
    activity, it does nothing."""
    if not activity.in_activity() or activity.info().is_local:
        # A local activity cannot heartbeat: it lives inside its workflow task, which the
        # worker keeps alive (and which times out if the worker dies).
        yield
        return

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every_s)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
