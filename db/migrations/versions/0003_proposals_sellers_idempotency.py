"""Proposals (content + read model of their workflow), seller profiles, idempotency keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:28:26.530863
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "proposals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=False),
        sa.Column("contract_number", sa.String(length=20), nullable=False),
        sa.Column("buyer_token_hash", sa.String(length=64), nullable=False),
        sa.Column("product_code", sa.String(length=50), nullable=False),
        sa.Column("product_label", sa.String(length=200), nullable=False),
        sa.Column("product_kind", sa.String(length=20), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("duration_months", sa.Integer(), nullable=False),
        sa.Column("buyer_first_name", sa.String(length=100), nullable=False),
        sa.Column("buyer_last_name", sa.String(length=100), nullable=False),
        sa.Column("buyer_email", sa.String(length=320), nullable=False),
        sa.Column("buyer_mobile", sa.String(length=20), nullable=False),
        sa.Column("buyer_address_line1", sa.String(length=200), nullable=False),
        sa.Column("buyer_postal_code", sa.String(length=10), nullable=False),
        sa.Column("buyer_city", sa.String(length=100), nullable=False),
        sa.Column("vehicle_vin", sa.String(length=17), nullable=False),
        sa.Column("vehicle_registration", sa.String(length=20), nullable=False),
        sa.Column("vehicle_make", sa.String(length=50), nullable=False),
        sa.Column("vehicle_model", sa.String(length=80), nullable=False),
        sa.Column("vehicle_first_registration", sa.Date(), nullable=False),
        sa.Column("vehicle_mileage_km", sa.Integer(), nullable=False),
        sa.Column("seller_name", sa.String(length=200), nullable=False),
        sa.Column("seller_email", sa.String(length=320), nullable=False),
        sa.Column("seller_phone", sa.String(length=20), nullable=True),
        sa.Column("replaces_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_version", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_count", sa.Integer(), nullable=False),
        sa.Column("view_count", sa.Integer(), nullable=False),
        sa.Column("first_viewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_viewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawal_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contract_status", sa.String(length=20), nullable=False),
        sa.Column("email_failed", sa.Boolean(), nullable=False),
        sa.Column("email_error", sa.String(length=1000), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealers.id"], name=op.f("fk_proposals_dealer_id_dealers")),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["proposals.id"], name=op.f("fk_proposals_replaces_id_proposals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
        sa.UniqueConstraint("buyer_token_hash", name=op.f("uq_proposals_buyer_token_hash")),
        sa.UniqueConstraint("contract_number", name=op.f("uq_proposals_contract_number")),
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposals_dealer_id"), ["dealer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposals_state"), ["state"], unique=False)

    op.create_table(
        "sellers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dealer_id"], ["dealers.id"], name=op.f("fk_sellers_dealer_id_dealers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sellers")),
        sa.UniqueConstraint("dealer_id", "email", name="uq_sellers_dealer_email"),
    )
    with op.batch_alter_table("sellers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sellers_dealer_id"), ["dealer_id"], unique=False)

    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("proposal_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dealer_id"], ["dealers.id"], name=op.f("fk_idempotency_records_dealer_id_dealers")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_idempotency_records_proposal_id_proposals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint("dealer_id", "key", name="uq_idempotency_records_dealer_key"),
    )


def downgrade() -> None:

    op.drop_table("idempotency_records")
    with op.batch_alter_table("sellers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sellers_dealer_id"))

    op.drop_table("sellers")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposals_state"))
        batch_op.drop_index(batch_op.f("ix_proposals_dealer_id"))

    op.drop_table("proposals")
