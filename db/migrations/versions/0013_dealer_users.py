"""The dealer's web app (issue 13): dealer users, their server-side sessions, and the
one-time set/reset password links (only SHA-256 of tokens are stored).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dealer_users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dealer_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=500), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["dealer_id"], ["dealers.id"], name=op.f("fk_dealer_users_dealer_id_dealers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dealer_users")),
        sa.UniqueConstraint("email", name=op.f("uq_dealer_users_email")),
    )
    with op.batch_alter_table("dealer_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dealer_users_dealer_id"), ["dealer_id"], unique=False)
    op.create_table(
        "dealer_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["dealer_users.id"],
            name=op.f("fk_dealer_sessions_user_id_dealer_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dealer_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_dealer_sessions_token_hash")),
    )
    op.create_table(
        "dealer_password_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["dealer_users.id"],
            name=op.f("fk_dealer_password_tokens_user_id_dealer_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dealer_password_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_dealer_password_tokens_token_hash")),
    )
    for table in ("dealer_sessions", "dealer_password_tokens"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_user_id"), ["user_id"], unique=False)

def downgrade() -> None:
    for table in ("dealer_password_tokens", "dealer_sessions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_user_id"))
        op.drop_table(table)
    with op.batch_alter_table("dealer_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dealer_users_dealer_id"))
    op.drop_table("dealer_users")
