from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from listings_harness import ListingHarness, inspector_headers
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
async def listings(
    migrated: Settings, session_factory, temporal_env: WorkflowEnvironment, sink: Sink
) -> AsyncIterator[ListingHarness]:
    """A real worker on the time-skipping server, the database and an SMTP sink."""
    async with create_worker(temporal_env.client, migrated, session_factory=session_factory):
        yield ListingHarness(migrated, session_factory, temporal_env)


@pytest.fixture
async def inspector(session_factory) -> dict[str, str]:  # noqa: ANN001
    """Authorization headers of an inspector account."""
    return await inspector_headers(session_factory)


@pytest.fixture
async def visitor(app) -> AsyncIterator[httpx.AsyncClient]:  # noqa: ANN001
    """Another browser (a member of the public) on the same app, with its own cookies."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http
