"""Long activities heartbeat while they work, so one that died with its worker is retried
after the heartbeat timeout, not its whole start-to-close timeout (the chaos suite kills the
worker for real; tests/workflows/test_lean_lifecycle.py checks what the workflow schedules)."""

from __future__ import annotations

import asyncio

from temporalio.testing import ActivityEnvironment

from activities.heartbeat import heartbeating


async def test_heartbeating_beats_while_the_work_runs_and_stops_after() -> None:
    beats: list[object] = []
    environment = ActivityEnvironment()
    environment.on_heartbeat = lambda *details: beats.append(details)

    async def long_work() -> int:
        async with heartbeating(every_s=0.02):
            await asyncio.sleep(0.2)
        after = len(beats)
        await asyncio.sleep(0.1)
        return after

    after = await environment.run(long_work)
    assert after >= 5, beats
    assert len(beats) == after  # no beat once the block is left


async def test_heartbeating_outside_an_activity_is_a_plain_block() -> None:
    async with heartbeating(every_s=0.01):
        await asyncio.sleep(0.03)
