"""immigration protections: the agency holiday calendar (business-day
deadlines), each agency's legal targets, T and U visa certification requests,
Statement of Interest letters and labor-based deferred action grants

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'))


def _case_record(table: str, *columns: sa.Column, users: tuple[str, ...] = ()) -> None:
    """A protection record of a complaint: id, row key, agency, complaint, its own columns."""
    op.create_table(
        table,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('row_key', sa.String(length=32), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        *columns,
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        _fk(table, 'agency_id', 'organizations'),
        _fk(table, 'complaint_id', 'complaints'),
        *(_fk(table, column, 'users') for column in users + ('recorded_by_id',)),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}')),
    )
    op.create_index(op.f(f'ix_{table}_row_key'), table, ['row_key'], unique=True)
    op.create_index(op.f(f'ix_{table}_agency_id'), table, ['agency_id'])
    op.create_index(op.f(f'ix_{table}_complaint_id'), table, ['complaint_id'])


def upgrade() -> None:
    op.create_table(
        'holidays',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        _fk('holidays', 'organization_id', 'organizations'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_holidays')),
        sa.UniqueConstraint('organization_id', 'date', name='uq_holidays_organization_date'),
    )
    op.create_index(op.f('ix_holidays_organization_id'), 'holidays', ['organization_id'])
    op.create_table(
        'protection_settings',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('certification_days', sa.Integer(), nullable=False),
        sa.Column('removal_business_days', sa.Integer(), nullable=False),
        sa.Column('letter_business_days', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTC, nullable=False),
        _fk('protection_settings', 'organization_id', 'organizations'),
        sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_protection_settings')),
    )
    _case_record(
        'certification_requests',
        sa.Column('certification_form', sa.String(length=8), nullable=False),
        sa.Column('requested_at', UTC, nullable=False),
        sa.Column('requested_by', sa.String(length=200), nullable=False),
        sa.Column('removal_proceedings', sa.Boolean(), nullable=False),
        sa.Column('removal_proceedings_noted_at', UTC, nullable=True),
        sa.Column('decision', sa.String(length=16), nullable=True),
        sa.Column('decision_note_enc', sa.Text(), nullable=True),
        sa.Column('decided_at', UTC, nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        users=('decided_by_id',))
    _case_record(
        'interest_letters',
        sa.Column('requested_at', UTC, nullable=False),
        sa.Column('requested_by', sa.String(length=200), nullable=False),
        sa.Column('sent_at', UTC, nullable=True),
        sa.Column('sent_to', sa.String(length=200), nullable=True),
        sa.Column('sent_by_id', sa.Integer(), nullable=True),
        sa.Column('note_enc', sa.Text(), nullable=True),
        users=('sent_by_id',))
    _case_record(
        'deferred_action_grants',
        sa.Column('granted_on', sa.Date(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('renewal_filed_at', UTC, nullable=True),
        sa.Column('renewal_filed_by_id', sa.Integer(), nullable=True),
        sa.Column('note_enc', sa.Text(), nullable=True),
        users=('renewal_filed_by_id',))


def downgrade() -> None:
    op.drop_table('deferred_action_grants')
    op.drop_table('interest_letters')
    op.drop_table('certification_requests')
    op.drop_table('protection_settings')
    op.drop_table('holidays')
