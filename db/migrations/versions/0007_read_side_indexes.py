"""Read side at scale (issue 12): list indexes matching each list's filter and order, the
normalized search columns (proposals.search_text, listings.make_key/model_key/location_key)
backfilled, and on PostgreSQL pg_trgm GIN indexes so `LIKE '%word%'` on them is indexed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models import proposal_search_text
from db.search_text import normalize

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Replaced by composite indexes that start with the same column (or, for listings, by the
# partial indexes of what the public sees).
_SUPERSEDED = {
    "proposals": [("ix_proposals_dealer_id", ["dealer_id"]), ("ix_proposals_state", ["state"])],
    "sellers": [("ix_sellers_dealer_id", ["dealer_id"])],
    "adv_audit_entries": [("ix_adv_audit_entries_at", ["at"])],
    "listings": [
        ("ix_listings_owner_id", ["owner_id"]),
        ("ix_listings_publicly_visible", ["publicly_visible"]),
        ("ix_listings_published_at", ["published_at"]),
    ],
}
_COMPOSITE = {
    "proposals": [
        ("ix_proposals_dealer_recent", ["dealer_id", "created_at", "id"]),
        ("ix_proposals_dealer_state_recent", ["dealer_id", "state", "created_at", "id"]),
    ],
    "sellers": [("ix_sellers_dealer_recent", ["dealer_id", "last_used_at", "id"])],
    "adv_audit_entries": [("ix_adv_audit_entries_recent", ["at", "id"])],
    "listings": [("ix_listings_owner_recent", ["owner_id", "created_at", "id"])],
}
_PUBLIC = [("ix_listings_public_recent", ["published_at", "id"]), ("ix_listings_public_price", ["price_cents", "id"])]
# Named *_trgm: db/migrations/env.py leaves them out of the model comparison (PostgreSQL only).
TRIGRAM = [
    ("ix_proposals_search_trgm", "proposals", "search_text"),
    ("ix_listings_make_trgm", "listings", "make_key"),
    ("ix_listings_model_trgm", "listings", "model_key"),
    ("ix_listings_location_trgm", "listings", "location_key"),
]
_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.String(length=2000), nullable=False, server_default=""))
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("make_key", sa.String(length=100), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("model_key", sa.String(length=160), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("location_key", sa.String(length=400), nullable=False, server_default=""))
    for table, indexes in _SUPERSEDED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in indexes:
                batch_op.drop_index(name)
            for name, columns in _COMPOSITE[table]:
                batch_op.create_index(name, columns, unique=False)
    for name, columns in _PUBLIC:
        op.create_index(
            name,
            "listings",
            columns,
            unique=False,
            postgresql_where=sa.text("publicly_visible"),
            sqlite_where=sa.text("publicly_visible = 1"),
        )
    _backfill()
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The extension is per database: installed once (in public, where every schema's
        # indexes can name its operator class), reused by every schema after.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        home = bind.execute(
            sa.text(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
                " WHERE e.extname = 'pg_trgm'"
            )
        ).scalar_one()
        for name, table, column in TRIGRAM:
            op.execute(f'CREATE INDEX {name} ON {table} USING gin ({column} "{home}".gin_trgm_ops)')


def _backfill() -> None:
    """Rows written before this revision get their search text, as the app writes it."""
    bind = op.get_bind()
    proposals = sa.table(
        "proposals",
        sa.column("id", sa.Uuid()),
        *(
            sa.column(name, sa.String())
            for name in (
                "buyer_first_name",
                "buyer_last_name",
                "buyer_email",
                "buyer_mobile",
                "buyer_city",
                "contract_number",
                "vehicle_vin",
                "vehicle_registration",
                "vehicle_make",
                "vehicle_model",
                "seller_name",
                "seller_email",
                "search_text",
            )
        ),
    )
    c = proposals.c
    updates = []
    for row in bind.execute(sa.select(proposals)):
        # The same function the app writes with: the backfill cannot drift from it.
        text = proposal_search_text(row)  # type: ignore[arg-type]  # a Row has the same attributes
        updates.append({"row_id": row.id, "text": text})
    _update_in_batches(
        sa.update(proposals).where(c.id == sa.bindparam("row_id")).values(search_text=sa.bindparam("text")),
        updates,
    )

    listings = sa.table(
        "listings",
        sa.column("id", sa.Uuid()),
        sa.column("inspection_id", sa.Uuid()),
        sa.column("location", sa.String()),
        sa.column("make_key", sa.String()),
        sa.column("model_key", sa.String()),
        sa.column("location_key", sa.String()),
    )
    inspections = sa.table(
        "inspections",
        sa.column("id", sa.Uuid()),
        sa.column("vehicle_make", sa.String()),
        sa.column("vehicle_model", sa.String()),
    )
    found = bind.execute(
        sa.select(listings.c.id, listings.c.location, inspections.c.vehicle_make, inspections.c.vehicle_model).join(
            inspections, inspections.c.id == listings.c.inspection_id
        )
    )
    _update_in_batches(
        sa.update(listings)
        .where(listings.c.id == sa.bindparam("row_id"))
        .values(
            make_key=sa.bindparam("make"), model_key=sa.bindparam("model"), location_key=sa.bindparam("place")
        ),
        [
            {
                "row_id": row.id,
                "make": normalize(row.vehicle_make),
                "model": normalize(row.vehicle_model),
                "place": normalize(row.location),
            }
            for row in found
        ],
    )


def _update_in_batches(statement: sa.Update, rows: list[dict[str, object]]) -> None:
    # Nothing is sent for an empty table (the test template replays only unparameterised SQL).
    bind = op.get_bind()
    for start in range(0, len(rows), _BATCH):
        bind.execute(statement, rows[start : start + _BATCH])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _, _ in TRIGRAM:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, _ in _PUBLIC:
        op.drop_index(name, table_name="listings")
    for table, indexes in _SUPERSEDED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in _COMPOSITE[table]:
                batch_op.drop_index(name)
            for name, columns in indexes:
                batch_op.create_index(name, columns, unique=False)
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_column("location_key")
        batch_op.drop_column("model_key")
        batch_op.drop_column("make_key")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_column("search_text")
