"""Per-test databases made cheap: the real Alembic migrations run once per session.

Running `db.migrate.upgrade` for every test cost ~0.3 s (load the scripts, six revisions, a
dozen round trips each); most tests only need the schema. So the session migrates once, for
real, and each test gets a copy:

* SQLite: the migrated file, copied into the test's tmp dir;
* PostgreSQL: every statement Alembic sent while migrating an empty template schema is
  recorded, and replayed in one round trip into the test's own empty schema (same tables,
  indexes, constraints and `alembic_version` row; the template schema is dropped at once).

`tests/db/test_migrations.py` keeps running the real migrations on every kind of database,
and checks that a copy from the template is at head and matches the models.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

from carflow.settings import Settings
from db.migrate import upgrade
from support import make_settings


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """`postgresql+asyncpg://...` as the plain DSN asyncpg itself takes."""
    url: URL = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def execute(pg_url: str, sql: str, *, schema: str | None = None) -> None:
    """Run `sql` (one or more statements) in one transaction, `schema` first on the search path."""
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        async with conn.transaction():
            if schema:
                await conn.execute(f"SET LOCAL search_path TO {quoted(schema)}")
            await conn.execute(sql)
    finally:
        await conn.close()


async def create_schema(pg_url: str, schema: str) -> None:
    await execute(pg_url, f"CREATE SCHEMA {quoted(schema)}")


async def drop_schema(pg_url: str, schema: str) -> None:
    await execute(pg_url, f"DROP SCHEMA IF EXISTS {quoted(schema)} CASCADE")


class _Recorder:
    """Every statement SQLAlchemy sends, on any engine, while active."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self.statements.append((statement, parameters))

    def __enter__(self) -> _Recorder:
        event.listen(Engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(Engine, "before_cursor_execute", self)


def replay_script(statements: list[tuple[str, Any]]) -> str:
    """The recorded migration as one SQL script.

    Alembic's only parameterised statements are its reflection queries (does alembic_version
    exist?): reads, left out. Anything else with parameters cannot be replayed as text, and
    says so rather than silently building a different schema.
    """
    script = []
    for statement, parameters in statements:
        if parameters:
            if not statement.lstrip().upper().startswith("SELECT"):
                raise RuntimeError(f"cannot replay a parameterised write: {statement[:200]}")
            continue
        script.append(statement.strip().rstrip(";") + ";")
    return "\n".join(script)


@dataclass(frozen=True)
class DatabaseTemplate:
    """The schema at head, migrated once: `fill(settings)` gives an empty database of it."""

    sqlite_file: Path | None = None
    pg_script: str | None = None

    @classmethod
    def build(cls, directory: Path, pg_url: str | None) -> DatabaseTemplate:
        return asyncio.run(cls._build(directory, pg_url))

    @classmethod
    async def _build(cls, directory: Path, pg_url: str | None) -> DatabaseTemplate:
        if not pg_url:
            path = directory / "template.db"
            await upgrade(make_settings(directory, database_url=f"sqlite+aiosqlite:///{path}"))
            return cls(sqlite_file=path)
        schema = f"template_{uuid.uuid4().hex[:12]}"
        await create_schema(pg_url, schema)
        try:
            with _Recorder() as recorder:
                await upgrade(make_settings(directory, database_url=pg_url, database_schema=schema))
        finally:
            await drop_schema(pg_url, schema)
        return cls(pg_script=replay_script(recorder.statements))

    async def fill(self, settings: Settings) -> None:
        """Make the (empty) database of `settings` a migrated one, as `upgrade()` would."""
        if self.sqlite_file is not None:
            target = Path(str(settings.database.database))
            assert settings.is_sqlite and not target.exists(), f"not an empty SQLite database: {target}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.sqlite_file, target)
            return
        assert self.pg_script is not None and settings.database_schema
        await execute(settings.database_url, self.pg_script, schema=settings.database_schema)
