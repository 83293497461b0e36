"""Migrations go up (and down) on SQLite and on PostgreSQL, and match the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from database_template import DatabaseTemplate
from sqlalchemy import inspect, text

from carflow.settings import Settings
from db.migrate import current_revision, head_revision, include_object, upgrade
from db.models import Base
from db.session import create_engine
from support import PG_URL, make_settings

EXPECTED_TABLES = {
    "dealers",
    "staff_members",
    "inspectors",
    "access_tokens",
    "outbox_emails",
    "proposals",
    "sellers",
    "idempotency_records",
}


async def _tables(settings: Settings) -> set[str]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def _model_diff(settings: Settings) -> list:
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"include_object": include_object}),
                    Base.metadata,
                )
            )
    finally:
        await engine.dispose()


@pytest.fixture
async def migrated(settings: Settings) -> Settings:
    """Here, the real Alembic upgrade (elsewhere tests copy a template migrated once)."""
    await upgrade(settings)
    return settings


async def test_upgrade_creates_schema_at_head(settings: Settings) -> None:
    assert await current_revision(settings) is None
    await upgrade(settings)
    assert await current_revision(settings) == head_revision(settings)
    assert await _tables(settings) >= EXPECTED_TABLES


async def test_migrations_match_models(migrated: Settings) -> None:
    # A model changed without a migration (or the reverse) shows up as a non-empty diff.
    assert await _model_diff(migrated) == []


async def test_upgrade_is_idempotent_and_downgrade_round_trips(migrated: Settings) -> None:
    await upgrade(migrated)  # second run: nothing to do, no error
    from alembic import command

    from db.migrate import alembic_config

    engine = create_engine(migrated)
    try:
        async with engine.begin() as conn:

            def down_then_up(sync) -> None:  # noqa: ANN001
                config = alembic_config(migrated)
                config.attributes["connection"] = sync
                command.downgrade(config, "base")
                assert "dealers" not in inspect(sync).get_table_names()
                command.upgrade(config, "head")

            await conn.run_sync(down_then_up)
    finally:
        await engine.dispose()
    assert await _tables(migrated) >= EXPECTED_TABLES


async def test_sqlite_default_lives_under_var_dir(tmp_path: Path) -> None:
    """The zero-configuration database: a SQLite file created under var/ on first migrate."""
    settings = make_settings(tmp_path, database_url="")
    assert settings.is_sqlite
    await upgrade(settings)
    assert (tmp_path / "var" / "carflow.db").exists()
    assert await _tables(settings) >= EXPECTED_TABLES


@pytest.mark.skipif(PG_URL is None, reason="PostgreSQL-only: CARFLOW_TEST_DATABASE_URL is not set")
async def test_postgres_schema_isolation(migrated: Settings) -> None:
    """Tables land in the configured schema (search_path), not in public."""
    engine = create_engine(migrated)
    try:
        async with engine.connect() as conn:
            schema = await conn.scalar(text("SELECT current_schema()"))
            assert schema == migrated.database_schema
            count = await conn.scalar(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = :s"),
                {"s": migrated.database_schema},
            )
    finally:
        await engine.dispose()
    assert count >= len(EXPECTED_TABLES)


async def test_the_per_test_template_copy_is_the_migrated_schema(
    settings: Settings, database_template: DatabaseTemplate
) -> None:
    """What the other tests get as `migrated` (a copy of one real upgrade) is, like a real
    upgrade, at head and identical to the models."""
    await database_template.fill(settings)
    assert await current_revision(settings) == head_revision(settings)
    assert await _tables(settings) >= EXPECTED_TABLES
    assert await _model_diff(settings) == []
