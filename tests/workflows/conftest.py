from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from proposal_harness import Proposals
from temporalio.testing import WorkflowEnvironment

from carflow.settings import Settings
from support import Sink
from worker import create_worker


@pytest.fixture
def sink(migrated: Settings) -> Iterator[Sink]:
    s = Sink(migrated)
    s.start()
    yield s
    s.stop()


@pytest.fixture
async def proposals(
    migrated: Settings, session_factory, temporal_env: WorkflowEnvironment, sink: Sink
) -> AsyncIterator[Proposals]:
    async with create_worker(temporal_env.client, migrated, session_factory=session_factory):
        yield Proposals(migrated, session_factory, temporal_env)
