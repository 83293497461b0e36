"""The dealer's "Consulter" timeline (issue 13): one row per step of a proposal's life
(sent, each view, signing, signed, cancelled...), written by the records activity.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "proposal_timeline_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("proposal_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_timeline_entries_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_timeline_entries")),
        sa.UniqueConstraint(
            "proposal_id", "version", "event", name=op.f("uq_proposal_timeline_entries_step")
        ),
    )
    with op.batch_alter_table("proposal_timeline_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_timeline_entries_proposal_id"), ["proposal_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("proposal_timeline_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_timeline_entries_proposal_id"))
    op.drop_table("proposal_timeline_entries")
