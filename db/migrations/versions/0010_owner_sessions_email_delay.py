"""Server-side owner sessions (revocable: logout and password change delete them), the
proposals' "email delivery delayed" flag set from the first failed attempt, and the
inspection intake's Idempotency-Key records.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "owner_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["owners.id"], name=op.f("fk_owner_sessions_owner_id_owners"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owner_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_owner_sessions_token_hash")),
    )
    with op.batch_alter_table("owner_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_owner_sessions_owner_id"), ["owner_id"], unique=False)
    op.create_table(
        "intake_idempotency_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("inspector_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("inspection_id", sa.Uuid(), nullable=False),
        sa.Column("owner_created", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_intake_idempotency_records_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_idempotency_records")),
        sa.UniqueConstraint("inspector_id", "key", name="uq_intake_idempotency_records_inspector_key"),
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_delayed_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("email_delay_reason", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    op.drop_table("intake_idempotency_records")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_column("email_delay_reason")
        batch_op.drop_column("email_delayed_since")
    with op.batch_alter_table("owner_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_owner_sessions_owner_id"))
    op.drop_table("owner_sessions")
