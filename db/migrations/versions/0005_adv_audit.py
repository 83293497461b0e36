"""ADV audit: every retry of a workflow by after-sales staff (who, when, what, result).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "adv_audit_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("staff_name", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.String(length=100), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=2000), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_members.id"],
            name=op.f("fk_adv_audit_entries_staff_id_staff_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adv_audit_entries")),
    )
    with op.batch_alter_table("adv_audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adv_audit_entries_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_adv_audit_entries_workflow_id"), ["workflow_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("adv_audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adv_audit_entries_workflow_id"))
        batch_op.drop_index(batch_op.f("ix_adv_audit_entries_at"))
    op.drop_table("adv_audit_entries")
