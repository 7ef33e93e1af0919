"""detained-worker alerts: the alert (sealed worker fields), partners involved,
acknowledgements and response tasks

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 15:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'detentions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('row_key', sa.String(length=32), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('raised_by_org_id', sa.Integer(), nullable=False),
        sa.Column('raised_by_user_id', sa.Integer(), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=True),
        sa.Column('worker_name_enc', sa.Text(), nullable=True),
        sa.Column('a_number_enc', sa.Text(), nullable=True),
        sa.Column('a_number_bidx', sa.String(length=64), nullable=True),
        sa.Column('country_enc', sa.Text(), nullable=True),
        sa.Column('family_contact_enc', sa.Text(), nullable=True),
        sa.Column('notes_enc', sa.Text(), nullable=True),
        sa.Column('facility', sa.String(length=200), nullable=True),
        sa.Column('detained_at', UTC, nullable=False),
        sa.Column('detained_where', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('outcome_note', sa.Text(), nullable=True),
        sa.Column('closed_at', UTC, nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('purged_at', UTC, nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'], name=op.f('fk_detentions_agency_id_organizations')),
        sa.ForeignKeyConstraint(['raised_by_org_id'], ['organizations.id'],
                                name=op.f('fk_detentions_raised_by_org_id_organizations')),
        sa.ForeignKeyConstraint(['raised_by_user_id'], ['users.id'], name=op.f('fk_detentions_raised_by_user_id_users')),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_detentions_complaint_id_complaints')),
        sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_detentions_closed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_detentions')),
    )
    for column, unique in (('row_key', True), ('agency_id', False), ('complaint_id', False),
                           ('a_number_bidx', False), ('closed_at', False)):
        op.create_index(op.f(f'ix_detentions_{column}'), 'detentions', [column], unique=unique)
    op.create_table(
        'detention_partners',
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['alert_id'], ['detentions.id'], ondelete='CASCADE',
                                name=op.f('fk_detention_partners_alert_id_detentions')),
        sa.ForeignKeyConstraint(['partner_id'], ['organizations.id'],
                                name=op.f('fk_detention_partners_partner_id_organizations')),
        sa.PrimaryKeyConstraint('alert_id', 'partner_id', name=op.f('pk_detention_partners')),
    )
    op.create_index(op.f('ix_detention_partners_partner_id'), 'detention_partners', ['partner_id'])
    op.create_table(
        'detention_acknowledgements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['alert_id'], ['detentions.id'], ondelete='CASCADE',
                                name=op.f('fk_detention_acknowledgements_alert_id_detentions')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_detention_acknowledgements_user_id_users')),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_detention_acknowledgements_organization_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_detention_acknowledgements')),
        sa.UniqueConstraint('alert_id', 'user_id', name=op.f('uq_detention_acknowledgements_alert_id')),
    )
    op.create_index(op.f('ix_detention_acknowledgements_alert_id'), 'detention_acknowledgements', ['alert_id'])
    op.create_table(
        'detention_tasks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('row_key', sa.String(length=32), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('due_at', UTC, nullable=False),
        sa.Column('done_at', UTC, nullable=True),
        sa.Column('done_by_id', sa.Integer(), nullable=True),
        sa.Column('note_enc', sa.Text(), nullable=True),
        sa.Column('intervention', sa.String(length=32), nullable=True),
        sa.Column('attorney_provider_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['alert_id'], ['detentions.id'], ondelete='CASCADE',
                                name=op.f('fk_detention_tasks_alert_id_detentions')),
        sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_detention_tasks_done_by_id_users')),
        sa.ForeignKeyConstraint(['attorney_provider_id'], ['legal_providers.id'],
                                name=op.f('fk_detention_tasks_attorney_provider_id_legal_providers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_detention_tasks')),
        sa.UniqueConstraint('alert_id', 'kind', name=op.f('uq_detention_tasks_alert_id')),
    )
    op.create_index(op.f('ix_detention_tasks_row_key'), 'detention_tasks', ['row_key'], unique=True)
    op.create_index(op.f('ix_detention_tasks_alert_id'), 'detention_tasks', ['alert_id'])


def downgrade() -> None:
    op.drop_table('detention_tasks')
    op.drop_table('detention_acknowledgements')
    op.drop_table('detention_partners')
    op.drop_table('detentions')
