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


async def test_0007_backfills_the_search_columns_of_existing_rows(settings: Settings) -> None:
    """Rows written before 0007 are found by the new search: their normalized text is filled."""
    import uuid
    from datetime import UTC, date, datetime

    import sqlalchemy as sa

    await upgrade(settings, "0006")
    engine = create_engine(settings)
    ids = {name: uuid.uuid4() for name in ("dealer", "proposal", "owner", "inspection", "listing")}
    given = {
        "dealers": {"id": ids["dealer"], "name": "Garage"},
        "proposals": {
            "id": ids["proposal"],
            "dealer_id": ids["dealer"],
            "buyer_first_name": "Léa",
            "buyer_last_name": "Dubois",
            "buyer_mobile": "+33698765432",
            "buyer_city": "Besançon",
            "vehicle_registration": "AB-123-CD",
        },
        "owners": {"id": ids["owner"]},
        "inspections": {
            "id": ids["inspection"],
            "owner_id": ids["owner"],
            "vehicle_make": "Citroën",
            "vehicle_model": "Berlingo Électrique",
        },
        "listings": {
            "id": ids["listing"],
            "inspection_id": ids["inspection"],
            "owner_id": ids["owner"],
            "location": "Saint-Étienne",
        },
    }

    def fill(column: sa.Column) -> object:
        # Any value of the column's type for what the test does not care about.
        python_type = column.type.python_type if not isinstance(column.type, sa.Uuid) else uuid.UUID
        return {
            str: "x" + uuid.uuid4().hex[:8],
            int: 0,
            bool: False,
            datetime: datetime(2026, 1, 1, tzinfo=UTC),
            date: date(2020, 1, 1),
            uuid.UUID: uuid.uuid4(),
        }[python_type]

    def insert(sync) -> None:  # noqa: ANN001
        metadata = sa.MetaData()
        metadata.reflect(sync, only=list(given))
        for name, values in given.items():
            table = metadata.tables[name]
            row = {c.name: fill(c) for c in table.columns if not c.nullable and c.name not in values}
            row.update(values)
            if sync.dialect.name == "sqlite":  # reflected as CHAR(32): the app's Uuid storage
                row = {k: v.hex if isinstance(v, uuid.UUID) else v for k, v in row.items()}
            sync.execute(table.insert().values(**row))

    try:
        async with engine.begin() as conn:
            await conn.run_sync(insert)
    finally:
        await engine.dispose()
    await upgrade(settings)

    from db.models import Listing, Proposal

    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            text_ = await conn.scalar(sa.select(Proposal.search_text).where(Proposal.id == ids["proposal"]))
            keys = (
                await conn.execute(
                    sa.select(Listing.make_key, Listing.model_key, Listing.location_key).where(
                        Listing.id == ids["listing"]
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    assert text_ is not None
    for word in ("lea", "dubois", "besancon", "0698765432", "ab123cd"):
        assert word in text_.split(), (word, text_)
    assert tuple(keys) == ("citroen", "berlingo electrique", "saint-etienne")
