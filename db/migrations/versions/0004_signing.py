"""Signing: the buyer's bank details (encrypted), attestations, contract documents, SMS codes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:59:16.608987
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "signing_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("proposal_id", sa.Uuid(), nullable=False),
        sa.Column("attempt_key", sa.String(length=200), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_signing_codes_proposal_id_proposals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_codes")),
        sa.UniqueConstraint("attempt_key", name=op.f("uq_signing_codes_attempt_key")),
    )
    with op.batch_alter_table("signing_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signing_codes_proposal_id"), ["proposal_id"], unique=False)

    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("iban_encrypted", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("iban_masked", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("account_holder", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("conditions_accepted_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("no_claim_attested_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("contract_pdf_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("contract_reviewed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("signed_pdf_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("conditions_pdf_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("signature_method", sa.String(length=20), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_column("signature_method")
        batch_op.drop_column("conditions_pdf_sha256")
        batch_op.drop_column("signed_pdf_sha256")
        batch_op.drop_column("contract_reviewed_at")
        batch_op.drop_column("contract_pdf_sha256")
        batch_op.drop_column("no_claim_attested_at")
        batch_op.drop_column("conditions_accepted_at")
        batch_op.drop_column("account_holder")
        batch_op.drop_column("iban_masked")
        batch_op.drop_column("iban_encrypted")

    with op.batch_alter_table("signing_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signing_codes_proposal_id"))

    op.drop_table("signing_codes")
