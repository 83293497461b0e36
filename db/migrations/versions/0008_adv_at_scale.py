"""ADV at scale: the activity failures the worker records, and partial indexes for the
stuck list (failed emails, long signings, unsent outbox rows).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activity_failures",
        sa.Column("workflow_run_id", sa.String(length=100), nullable=False),
        sa.Column("activity_id", sa.String(length=100), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.String(length=100), nullable=False),
        sa.Column("activity_type", sa.String(length=200), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("workflow_run_id", "activity_id", name=op.f("pk_activity_failures")),
    )
    op.create_index("ix_activity_failures_workflow_id", "activity_failures", ["workflow_id"])
    op.create_index("ix_activity_failures_first_failed_at", "activity_failures", ["first_failed_at"])
    email_failed = sa.text("email_failed IS true")
    op.create_index(
        "ix_proposals_email_failed_updated_at",
        "proposals",
        ["updated_at", "id"],
        postgresql_where=email_failed,
        sqlite_where=email_failed,
    )
    op.create_index(
        "ix_listings_email_failed_updated_at",
        "listings",
        ["updated_at", "id"],
        postgresql_where=email_failed,
        sqlite_where=email_failed,
    )
    op.create_index("ix_proposals_state_updated_at", "proposals", ["state", "updated_at", "id"])
    unsent = sa.text("status != 'sent'")
    op.create_index(
        "ix_outbox_emails_unsent",
        "outbox_emails",
        ["idempotency_key"],
        postgresql_where=unsent,
        sqlite_where=unsent,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_emails_unsent", table_name="outbox_emails")
    op.drop_index("ix_proposals_state_updated_at", table_name="proposals")
    op.drop_index("ix_listings_email_failed_updated_at", table_name="listings")
    op.drop_index("ix_proposals_email_failed_updated_at", table_name="proposals")
    op.drop_index("ix_activity_failures_first_failed_at", table_name="activity_failures")
    op.drop_index("ix_activity_failures_workflow_id", table_name="activity_failures")
    op.drop_table("activity_failures")
