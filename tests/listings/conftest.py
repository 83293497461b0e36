from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from listings_harness import ListingHarness, inspector_headers
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from stack import http_client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from carflow.settings import Settings


@pytest.fixture
def listings(
    worker: Worker,
    migrated: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    temporal_env: WorkflowEnvironment,
) -> ListingHarness:
    """Intakes as the API runs them, on the real worker (mailing to `sink`)."""
    return ListingHarness(migrated, session_factory, temporal_env)


@pytest.fixture
async def inspector(session_factory) -> dict[str, str]:  # noqa: ANN001
    """Authorization headers of an inspector account."""
    return await inspector_headers(session_factory)


@pytest.fixture
async def visitor(app) -> AsyncIterator[httpx.AsyncClient]:  # noqa: ANN001
    """Another browser (a member of the public) on the same app, with its own cookies."""
    async with http_client(app) as http:
        yield http
