"""The main list queries use their indexes on PostgreSQL: no sequential scan on big tables.

Seeds tens of thousands of proposals and listings with `generate_series` (seconds), runs
VACUUM ANALYZE, then asks `EXPLAIN (FORMAT JSON)` about the statements the API itself
builds (the views' query builders and api/paging.py, compiled here, not copied), and fails
on any `Seq Scan` of proposals, listings or inspections. PostgreSQL only: SQLite's planner
is not the one production runs.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.listings.service import (
    SORTS,
    SearchQuery,
    card_query,
    search_query,
    with_inspection,
    with_inspection_card,
)
from api.owners.service import OWNER_LISTINGS, owned_query
from api.paging import PageParams, count_query, page_query
from api.proposals.views import PROPOSALS, proposal_items_query, proposals_query
from carflow.settings import Settings
from db.session import create_engine
from support import PG_URL

pytestmark = pytest.mark.skipif(
    PG_URL is None, reason="PostgreSQL-only: CARFLOW_TEST_DATABASE_URL is not set"
)

PROPOSALS_N = 40_000
BIG_DEALER_N = 10_000  # one dealer holds a quarter, the rest spread over 30 others
LISTINGS_N = 20_000  # one in three public
BIG_TABLES = {"proposals", "listings", "inspections"}
BIG_DEALER = uuid.UUID("00000000-0000-4000-8000-000000000001")
BIG_OWNER = uuid.UUID("00000000-0000-4000-8000-0000000000aa")

SEED = f"""
INSERT INTO dealers (id, name, remote_sale_enabled, created_at)
SELECT CASE WHEN g = 0 THEN '{BIG_DEALER}'::uuid ELSE gen_random_uuid() END, 'Garage ' || g, true, now()
FROM generate_series(0, 30) g;

INSERT INTO proposals (
    id, dealer_id, contract_number, buyer_token_hash, product_code, product_label, product_kind,
    price_cents, duration_months, buyer_first_name, buyer_last_name, buyer_email, buyer_mobile,
    buyer_address_line1, buyer_postal_code, buyer_city, vehicle_vin, vehicle_registration,
    vehicle_make, vehicle_model, vehicle_first_registration, vehicle_mileage_km, seller_name,
    seller_email, created_at, search_text, state, expires_at, sent_count, view_count,
    contract_status, state_version, email_failed, updated_at)
SELECT gen_random_uuid(),
    CASE WHEN g <= {BIG_DEALER_N} THEN '{BIG_DEALER}'::uuid
         ELSE (SELECT id FROM dealers WHERE name = 'Garage ' || (1 + g % 30)) END,
    'CF' || lpad(g::text, 10, '0'), md5(g::text) || md5((g + 1)::text), 'ENT24', 'Entretien', 'service',
    50000, 24, 'Prenom' || (g % 997), 'Nom' || g, 'buyer' || g || '@example.com',
    '+336' || lpad(g::text, 8, '0'), '1 rue', '75001', 'Ville' || (g % 300),
    'VF1' || lpad(g::text, 14, '0'), 'AB-' || lpad((g % 1000)::text, 3, '0') || '-CD',
    'Renault', 'Clio', date '2020-01-01', 1000, 'Vendeur', 'seller@example.com',
    timestamptz '2026-01-01' + g * interval '1 minute',
    'prenom' || (g % 997) || ' nom' || g || ' buyer' || g || '@example.com cf' || lpad(g::text, 10, '0'),
    (ARRAY['draft','sent','viewed','signed','cancelled','expired'])[1 + g % 6],
    timestamptz '2026-06-01', 0, 0, 'none', 1, false, now()
FROM generate_series(1, {PROPOSALS_N}) g;

INSERT INTO owners (id, email, first_name, last_name, failed_logins, session_version, created_at)
SELECT CASE WHEN g = 0 THEN '{BIG_OWNER}'::uuid ELSE gen_random_uuid() END,
    'owner' || g || '@example.com', 'O', 'W', 0, 0, now()
FROM generate_series(0, 2000) g;

INSERT INTO inspections (
    id, owner_id, report_token_hash, reference, vehicle_make, vehicle_model, vehicle_registration,
    vehicle_first_registration, vehicle_mileage_km, inspected_at, inspector_name, summary, created_at)
SELECT gen_random_uuid(), (SELECT id FROM owners WHERE email = 'owner' || (g % 2001) || '@example.com'),
    md5(g::text) || md5((g + 7)::text), 'EX' || g,
    (ARRAY['Peugeot', 'Renault', 'Citroën', 'Volkswagen', 'Toyota', 'Dacia', 'Fiat', 'Ford', 'BMW',
           'Audi'])[1 + g % 10],
    'Modele' || (g % 50), 'AA-000-AA', date '2019-01-01', 50000, now(), 'Expert', 'Résumé', now()
FROM generate_series(1, {LISTINGS_N}) g;

INSERT INTO listings (
    id, inspection_id, owner_id, created_at, make_key, model_key, price_cents, negotiable, location,
    location_key, state, visible_when_sold, publicly_visible, published_at, state_version, email_failed,
    updated_at, mileage_km)
SELECT gen_random_uuid(), i.id, i.owner_id, timestamptz '2026-01-01' + n * interval '1 minute',
    lower(translate(i.vehicle_make, 'ë', 'e')), lower(i.vehicle_model), 100000 + (n % 200) * 10000, false,
    'Lyon ' || (n % 100), 'lyon ' || (n % 100),
    CASE WHEN n % 3 = 0 THEN 'published' ELSE 'private' END, false, n % 3 = 0,
    CASE WHEN n % 3 = 0 THEN timestamptz '2026-01-01' + n * interval '1 minute' END, 1, false, now(),
    (n * 37) % 200000
FROM (SELECT id, owner_id, vehicle_make, vehicle_model, row_number() OVER (ORDER BY reference) AS n
      FROM inspections) i;
"""


@pytest.fixture
async def seeded(migrated: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated)
    try:
        async with engine.begin() as conn:
            for statement in SEED.split(";\n"):
                if statement.strip():
                    await conn.execute(text(statement))
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in ("dealers", "proposals", "owners", "inspections", "listings"):
                await conn.execute(text(f"VACUUM ANALYZE {table}"))
        yield engine
    finally:
        await engine.dispose()


async def plan(conn: AsyncConnection, statement: Select[Any]) -> dict[str, Any]:
    """PostgreSQL's plan for `statement` with its real parameter values."""
    # Expanded: an IN of a list parameter (`states`) becomes one placeholder per value.
    expanded = statement.compile(dialect=conn.dialect).construct_expanded_state()
    params = tuple(expanded.parameters[name] for name in expanded.positiontup or [])
    result = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {expanded.statement}", params)
    raw = result.scalar_one()
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def seq_scans(node: dict[str, Any]) -> list[str]:
    found = [node["Relation Name"]] if node.get("Node Type") == "Seq Scan" else []
    for child in node.get("Plans", []):
        found += seq_scans(child)
    return found


async def a_cursor(conn: AsyncConnection, query: Select[Any], keyset: Any, offset: int) -> str:
    """The cursor the API would hand out after the row at `offset` of the list."""
    row = (await conn.execute(keyset.ordered(query).offset(offset).limit(1))).first()
    assert row is not None
    return keyset.encode(row)


async def test_main_list_queries_use_indexes(seeded: AsyncEngine) -> None:
    first = PageParams(1, 20, None)
    listings_sort = SORTS["newest"]
    async with seeded.connect() as conn:
        big = proposals_query(BIG_DEALER)
        statements: dict[str, Select[Any]] = {
            "dealer first page": page_query(big, PROPOSALS, first),
            "dealer cursor page": page_query(
                big, PROPOSALS, PageParams(1, 20, await a_cursor(conn, big, PROPOSALS, 5_000))
            ),
            "dealer page 50 by number": page_query(big, PROPOSALS, PageParams(50, 20, None)),
            "dealer count": count_query(big),
            "state filter": page_query(proposals_query(BIG_DEALER, states=["sent"]), PROPOSALS, first),
            "two states": page_query(
                proposals_query(BIG_DEALER, states=["sent", "viewed"]), PROPOSALS, first
            ),
            "state count": count_query(proposals_query(BIG_DEALER, states=["sent"])),
            "search": page_query(proposals_query(BIG_DEALER, q="nom1234"), PROPOSALS, first),
            "search count": count_query(proposals_query(BIG_DEALER, q="nom1234")),
            "search small dealer": page_query(
                proposals_query(
                    (await conn.execute(text("SELECT id FROM dealers WHERE name = 'Garage 7'"))).scalar_one(),
                    q="prenom12 nom",
                ),
                PROPOSALS,
                first,
            ),
        }
        public = search_query(SearchQuery())
        by_make = search_query(SearchQuery(make="citroen", max_price_cents=1_500_000))
        statements |= {
            "public first page": page_query(public, listings_sort, first, with_inspection),
            "public cursor page": page_query(
                public,
                listings_sort,
                PageParams(1, 20, await a_cursor(conn, public, listings_sort, 3_000)),
                with_inspection,
            ),
            "public count": count_query(public),
            "public by make and price": page_query(by_make, listings_sort, first, with_inspection),
            "public by make count": count_query(by_make),
            "public by price": page_query(public, SORTS["price_asc"], first, with_inspection),
            "public by mileage": page_query(public, SORTS["mileage_asc"], first, with_inspection),
            "owner listings": page_query(owned_query(BIG_OWNER), OWNER_LISTINGS, first, with_inspection),
            # What the JSON lists run: the same filters, plain columns.
            "api dealer page": page_query(proposal_items_query(BIG_DEALER), PROPOSALS, first),
            "api search": page_query(proposal_items_query(BIG_DEALER, q="nom1234"), PROPOSALS, first),
            "api public by make and price": page_query(
                card_query(SearchQuery(make="citroen", max_price_cents=1_500_000)),
                listings_sort,
                first,
                with_inspection_card,
            ),
        }
        scanned = {name: seq_scans(await plan(conn, stmt)) for name, stmt in statements.items()}
    offending = {name: sorted(set(tables) & BIG_TABLES) for name, tables in scanned.items()}
    assert {name: tables for name, tables in offending.items() if tables} == {}


async def test_the_dealer_activity_and_notice_queries_use_indexes(seeded: AsyncEngine) -> None:
    """The activity dashboard's counts and medians (issue 13) range over (dealer, the event's
    time), and the notices relay's "about to expire" scan over (state, expires_at)."""
    from datetime import UTC, date, datetime, timedelta

    from activities.dealer_notices import expiring_query
    from api.dealer_app.activity_queries import Period, counts_query, medians_query

    async with seeded.connect() as conn:
        # The seed's timeline: sent an hour after creation, half of the sent opened, the
        # signed ones signed a day later, spread over two years.
        await conn.execute(
            text(
                "UPDATE proposals SET"
                " created_at = timestamptz '2025-01-01' + (random() * 700) * interval '1 day'"
            )
        )
        await conn.execute(
            text(
                "UPDATE proposals SET first_sent_at = created_at + interval '1 hour',"
                " first_viewed_at = CASE WHEN state IN ('viewed', 'signed')"
                " THEN created_at + interval '2 hours' END,"
                " signed_at = CASE WHEN state = 'signed' THEN created_at + interval '1 day' END,"
                " expires_at = created_at + interval '30 days'"
                " WHERE state <> 'draft'"
            )
        )
        await conn.commit()
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE proposals"))
        small = (await conn.execute(text("SELECT id FROM dealers WHERE name = 'Garage 7'"))).scalar_one()
        quarter = Period(date(2026, 3, 1), date(2026, 5, 1))
        statements: dict[str, Any] = {
            "big dealer, a quarter": counts_query(BIG_DEALER, quarter, None),
            "big dealer, one seller": counts_query(BIG_DEALER, quarter, "seller@example.com"),
            "small dealer, a year": counts_query(small, Period(date(2025, 6, 1), date(2026, 5, 1)), None),
            "big dealer medians": medians_query("postgresql", BIG_DEALER, quarter, None),
            "expiring soon": expiring_query(datetime(2026, 4, 1, tzinfo=UTC), timedelta(days=3)),
        }
        scanned = {name: seq_scans(await plan(conn, stmt)) for name, stmt in statements.items()}
    offending = {name: sorted(set(tables) & BIG_TABLES) for name, tables in scanned.items()}
    assert {name: tables for name, tables in offending.items() if tables} == {}
