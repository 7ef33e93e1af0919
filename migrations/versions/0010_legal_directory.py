"""the legal directory: immigration legal providers with their languages and
counties, consulates, and the region (US state) of organizations

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'legal_providers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('service_model', sa.String(length=32), nullable=False),
        sa.Column('phone', sa.String(length=40), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('address', sa.String(length=300), nullable=True),
        sa.Column('website', sa.String(length=300), nullable=True),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('accepting', sa.Boolean(), nullable=False),
        sa.Column('last_verified_on', sa.Date(), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('updated_at', UTC, nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'],
                                name=op.f('fk_legal_providers_agency_id_organizations')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name=op.f('fk_legal_providers_updated_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_providers')),
    )
    op.create_index(op.f('ix_legal_providers_agency_id'), 'legal_providers', ['agency_id'])
    op.create_table(
        'legal_provider_languages',
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(['provider_id'], ['legal_providers.id'], ondelete='CASCADE',
                                name=op.f('fk_legal_provider_languages_provider_id_legal_providers')),
        sa.PrimaryKeyConstraint('provider_id', 'language', name=op.f('pk_legal_provider_languages')),
    )
    op.create_index(op.f('ix_legal_provider_languages_language'), 'legal_provider_languages', ['language'])
    op.create_table(
        'legal_provider_counties',
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(['provider_id'], ['legal_providers.id'], ondelete='CASCADE',
                                name=op.f('fk_legal_provider_counties_provider_id_legal_providers')),
        sa.PrimaryKeyConstraint('provider_id', 'key', name=op.f('pk_legal_provider_counties')),
    )
    op.create_index(op.f('ix_legal_provider_counties_key'), 'legal_provider_counties', ['key'])
    op.create_table(
        'consulates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('region', sa.String(length=2), nullable=True),
        sa.Column('city', sa.String(length=100), nullable=False),
        sa.Column('phone', sa.String(length=40), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('address', sa.String(length=300), nullable=True),
        sa.Column('hours', sa.String(length=300), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('updated_at', UTC, nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'],
                                name=op.f('fk_consulates_agency_id_organizations')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_consulates_updated_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consulates')),
    )
    op.create_index(op.f('ix_consulates_agency_id'), 'consulates', ['agency_id'])
    op.create_index(op.f('ix_consulates_country'), 'consulates', ['country'])
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region', sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('region')
    op.drop_table('consulates')
    op.drop_table('legal_provider_counties')
    op.drop_table('legal_provider_languages')
    op.drop_table('legal_providers')
