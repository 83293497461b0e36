"""Engine and session factory built from Settings; one engine per process."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from carflow.settings import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.database
    connect_args: dict[str, Any] = {}
    if settings.is_sqlite:
        if url.database and url.database != ":memory:":
            from pathlib import Path

            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # The API, the worker and the CLI share one SQLite file; wait for a lock, don't fail.
        connect_args["timeout"] = 30
    else:
        # asyncpg prepares every statement; after five runs PostgreSQL may switch to a generic
        # plan that ignores the parameters' values (a dealer holding 20 % of the rows, a common
        # search word): `q=dubois` went from 18 ms to 286 ms. Plan each execution for its values.
        server_settings = {"plan_cache_mode": "force_custom_plan"}
        if settings.database_schema:
            server_settings["search_path"] = settings.database_schema
        connect_args["server_settings"] = server_settings
    engine = create_async_engine(
        url,
        connect_args=connect_args,
        # No ping at every checkout (a round trip before each request's first query): only a
        # connection idle for a while is pinged, see `_ping_when_idle`.
        pool_pre_ping=False,
        pool_recycle=settings.database_pool_recycle_s,
    )
    if settings.is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        _ping_when_idle(engine, settings.database_ping_idle_s)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle_s: float) -> None:
    """Ping a pooled connection before reuse only if it sat idle longer than `idle_s`.

    A database restart or a firewall drops idle connections; a busy pool's connections are
    in use every few milliseconds and known good. Raising `DisconnectionError` at checkout
    makes the pool discard the connection and hand out a fresh one (SQLAlchemy's documented
    pessimistic-disconnect hook), so no request sees the dropped connection.
    """
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _stamp(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_s:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure means: not this connection
            raise DisconnectionError(str(exc)) from exc
        if not alive:
            raise DisconnectionError("ping failed")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the worker writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # SQLite's own lower() folds ASCII only; searches must find "Émile" when typed "émile",
    # as PostgreSQL does.
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
