"""The API's Temporal client: injected (tests) or connected on first use, then kept."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from carflow.settings import Settings
from carflow.temporal_client import connect


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
