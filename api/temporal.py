"""The API's Temporal client: injected (tests) or connected on first use, then kept."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowHandle

from carflow.settings import Settings
from carflow.temporal_client import connect

T = TypeVar("T")


class TemporalHandle:
    """Lets the API start while Temporal is down; requests needing it get a clear 503."""

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self._settings = settings
        self._client = client
        self._lock = asyncio.Lock()

    async def get(self) -> Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    self._client = await connect(self._settings, attempt_timeout_s=3.0)
        return self._client


async def execute_update_bounded(
    handle: WorkflowHandle,
    update: str,
    argument: Any,
    *,
    update_id: str | None,
    result_type: type[T],
    within: timedelta,
) -> T:
    """`execute_update` done `within` the given time overall, or TimeoutError.

    The SDK keeps polling for the outcome while no worker runs (the per-RPC timeout never
    ends it), so without this bound a stopped worker hangs every request for as long as the
    outage lasts. Retrying with the same update id is harmless.
    """
    async with asyncio.timeout(within.total_seconds()):
        result: T = await handle.execute_update(
            update, argument, id=update_id, result_type=result_type, rpc_timeout=within
        )
    return result
