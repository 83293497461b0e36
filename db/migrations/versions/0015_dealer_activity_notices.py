"""The dealer's activity and notifications (issue 13): when a withdrawal was recorded, the
indexes the activity dashboard's counts range over, the centres' notification settings and
the notices queued once per proposal and event.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-02 20:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_proposals_dealer_first_sent": ["dealer_id", "first_sent_at"],
    "ix_proposals_dealer_first_viewed": ["dealer_id", "first_viewed_at"],
    "ix_proposals_dealer_signed": ["dealer_id", "signed_at"],
    "ix_proposals_dealer_withdrawn": ["dealer_id", "withdrawn_at"],
    "ix_proposals_dealer_state_expires": ["dealer_id", "state", "expires_at"],
    "ix_proposals_state_expires": ["state", "expires_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    # Proposals withdrawn before this column: the last projection's time is the best we know.
    op.execute("UPDATE proposals SET withdrawn_at = updated_at WHERE state = 'withdrawn'")
    for name, columns in INDEXES.items():
        op.create_index(name, "proposals", columns, unique=False)
    op.create_table(
        "dealer_notification_settings",
        sa.Column("dealer_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("on_first_view", sa.Boolean(), nullable=False),
        sa.Column("on_signed", sa.Boolean(), nullable=False),
        sa.Column("on_withdrawn", sa.Boolean(), nullable=False),
        sa.Column("on_expiring", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dealer_id"],
            ["dealers.id"],
            name=op.f("fk_dealer_notification_settings_dealer_id_dealers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dealer_id", name=op.f("pk_dealer_notification_settings")),
    )
    op.create_table(
        "dealer_notices",
        sa.Column("proposal_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_dealer_notices_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", "event", name=op.f("pk_dealer_notices")),
    )


def downgrade() -> None:
    op.drop_table("dealer_notices")
    op.drop_table("dealer_notification_settings")
    for name in INDEXES:
        op.drop_index(name, table_name="proposals")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
