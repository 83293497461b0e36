"""Listings: the vehicle's mileage copied from its inspection, for the public sort by mileage.

Like make and model (0007), the public search reads listings alone: the mileage sort is a
keyset on a partial index of the publicly visible listings.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mileage_km", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE listings SET mileage_km = "
        "(SELECT inspections.vehicle_mileage_km FROM inspections WHERE inspections.id = listings.inspection_id)"
    )
    op.create_index(
        "ix_listings_public_mileage",
        "listings",
        ["mileage_km", "id"],
        unique=False,
        postgresql_where=sa.text("publicly_visible"),
        sqlite_where=sa.text("publicly_visible = 1"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_listings_public_mileage",
        table_name="listings",
        postgresql_where=sa.text("publicly_visible"),
        sqlite_where=sa.text("publicly_visible = 1"),
    )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_column("mileage_km")
