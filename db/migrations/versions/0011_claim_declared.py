"""Proposals: when the buyer declared a claim since sending (the reason of that decline).

A buyer may decline because they do not want the contract, or because a claim happened
since the proposal was sent; the pages say different things, so the read model keeps which.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_declared_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_column("claim_declared_at")
