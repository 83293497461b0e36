"""Accounts: dealers (with the remote-sale option), staff, inspectors, hashed access tokens.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 09:12:43.355558
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('dealers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('remote_sale_enabled', sa.Boolean(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dealers'))
    )
    op.create_table('inspectors',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspectors'))
    )
    op.create_table('staff_members',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_members'))
    )
    op.create_table('access_tokens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('display_prefix', sa.String(length=16), nullable=False),
    sa.Column('dealer_id', sa.Uuid(), nullable=True),
    sa.Column('staff_id', sa.Uuid(), nullable=True),
    sa.Column('inspector_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(role = 'dealer' AND dealer_id IS NOT NULL AND staff_id IS NULL AND inspector_id IS NULL) OR (role = 'staff' AND staff_id IS NOT NULL AND dealer_id IS NULL AND inspector_id IS NULL) OR (role = 'inspector' AND inspector_id IS NOT NULL AND dealer_id IS NULL AND staff_id IS NULL)", name=op.f('ck_access_tokens_one_owner_matching_role')),
    sa.ForeignKeyConstraint(['dealer_id'], ['dealers.id'], name=op.f('fk_access_tokens_dealer_id_dealers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['inspector_id'], ['inspectors.id'], name=op.f('fk_access_tokens_inspector_id_inspectors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], name=op.f('fk_access_tokens_staff_id_staff_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_access_tokens_token_hash'))
    )
    with op.batch_alter_table('access_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_tokens_dealer_id'), ['dealer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_tokens_inspector_id'), ['inspector_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_tokens_staff_id'), ['staff_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('access_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_tokens_staff_id'))
        batch_op.drop_index(batch_op.f('ix_access_tokens_inspector_id'))
        batch_op.drop_index(batch_op.f('ix_access_tokens_dealer_id'))

    op.drop_table('access_tokens')
    op.drop_table('staff_members')
    op.drop_table('inspectors')
    op.drop_table('dealers')
