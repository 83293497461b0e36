"""What an authenticated request costs besides its own work: one query for the token and
its account, no ping of a busy pooled connection, a dropped idle connection replaced."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import event, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from carflow.tokens import hash_token
from db.accounts import create_dealer, create_staff
from db.models import AccessToken, utcnow
from support import PG_URL


@contextlib.contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_authentication_is_one_query_and_revocation_is_immediate(
    client: httpx.AsyncClient, app, session_factory
) -> None:
    async with session_factory() as session:
        dealer = await create_dealer(session, "Garage Hélène")
        staff = await create_staff(session, "ADV")
        await session.commit()
    for token in (dealer.token, staff.token):
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 200  # warm the pool
        with statements(app.state.engine) as seen:
            response = await client.get("/api/v1/me", headers=headers)
        assert response.status_code == 200
        # `/me` does nothing but authenticate: the token joined with its account, once.
        assert len(seen) == 1, seen
        assert "access_tokens" in seen[0] and "JOIN" in seen[0].upper()

    async with session_factory() as session:
        await session.execute(
            update(AccessToken)
            .where(AccessToken.token_hash == hash_token(dealer.token))
            .values(revoked_at=utcnow())
        )
        await session.commit()
    refused = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {dealer.token}"})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"


@pytest.mark.skipif(PG_URL is None, reason="PostgreSQL-only: CARFLOW_TEST_DATABASE_URL is not set")
async def test_a_dropped_idle_connection_is_replaced_without_an_error(migrated, session_factory) -> None:
    from api import create_app

    async with session_factory() as session:
        dealer = await create_dealer(session, "Garage Nord")
        await session.commit()
    # Every returned connection counts as idle at once: checked (pinged) at its next checkout.
    app = create_app(migrated.model_copy(update={"database_ping_idle_s": 0.0}))
    headers = {"Authorization": f"Bearer {dealer.token}"}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            assert (await http.get("/api/v1/me", headers=headers)).status_code == 200
            async with app.state.engine.connect() as connection:
                pid = await connection.scalar(text("SELECT pg_backend_pid()"))
            async with session_factory() as session:  # the database drops the pooled connection
                await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            assert (await http.get("/api/v1/me", headers=headers)).status_code == 200
    finally:
        await app.state.engine.dispose()
