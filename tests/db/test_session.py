"""The engine's PostgreSQL connections plan each statement for its parameters' values."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from api import create_app
from carflow.settings import Settings
from support import PG_URL

pytestmark = pytest.mark.skipif(
    PG_URL is None, reason="PostgreSQL-only: CARFLOW_TEST_DATABASE_URL is not set"
)


async def test_app_connections_force_custom_plans_and_keep_their_schema(migrated: Settings) -> None:
    # asyncpg prepares every statement; PostgreSQL's generic plan after five runs ignores how
    # selective the values are (measured: the `q=dubois` count 18 ms -> 286 ms).
    app = create_app(migrated)
    try:
        for _ in range(2):  # a fresh connection, then one back from the pool
            async with app.state.engine.connect() as connection:
                assert await connection.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
                assert migrated.database_schema in await connection.scalar(text("SHOW search_path"))
    finally:
        await app.state.engine.dispose()
