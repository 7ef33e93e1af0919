"""partnerships can be paused or ended; staff have a work phone for the directory

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 05:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0003'  # 0004 was never used
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='active'))
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('phone')
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.drop_column('status_changed_at')
        batch_op.drop_column('status')
