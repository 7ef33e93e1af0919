"""deadlines: an index in due order per kind, so a list page reads its rows in
order and stops, instead of sorting every clock of the kind

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 17:10:00
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_deadlines_due_order', 'deadlines', ['subject_type', 'kind', 'due_at', 'subject_id'])


def downgrade() -> None:
    op.drop_index('ix_deadlines_due_order', table_name='deadlines')
