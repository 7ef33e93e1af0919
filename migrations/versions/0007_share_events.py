"""who shared a complaint with a partner, or revoked it, and when

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 05:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('complaint_share_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('by_user_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['by_user_id'], ['users.id'], name=op.f('fk_complaint_share_events_by_user_id_users')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_share_events_complaint_id_complaints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['organizations.id'], name=op.f('fk_complaint_share_events_partner_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_share_events'))
    )
    op.create_index(op.f('ix_complaint_share_events_complaint_id'), 'complaint_share_events', ['complaint_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_complaint_share_events_complaint_id'), table_name='complaint_share_events')
    op.drop_table('complaint_share_events')
