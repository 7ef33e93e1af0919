"""third-party complaints, their violation types, the strategic queue's
employer evidence, and complaints' employer key

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:00:00
"""
from alembic import op
import sqlalchemy as sa

from coenforce.employers import employer_key

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'third_party_complaints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('filed_by_org_id', sa.Integer(), nullable=True),
        sa.Column('filed_by_user_id', sa.Integer(), nullable=True),
        sa.Column('employer_name', sa.String(length=200), nullable=False),
        sa.Column('employer_key', sa.String(length=200), nullable=False),
        sa.Column('worksite_address', sa.String(length=300), nullable=True),
        sa.Column('area', sa.String(length=100), nullable=True),
        sa.Column('industry', sa.String(length=32), nullable=False),
        sa.Column('workers_affected', sa.Integer(), nullable=True),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('can_connect_workers', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('received_at', UTC, nullable=False),
        sa.Column('acknowledged_at', UTC, nullable=True),
        sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
        sa.Column('decision', sa.String(length=16), nullable=True),
        sa.Column('decision_reason', sa.Text(), nullable=True),
        sa.Column('decided_at', UTC, nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('case_reference', sa.String(length=100), nullable=True),
        sa.Column('linked_complaint_id', sa.Integer(), nullable=True),
        sa.Column('public_reply', sa.Text(), nullable=True),
        sa.Column('receipt_digest', sa.String(length=64), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'],
                                name=op.f('fk_third_party_complaints_agency_id_organizations')),
        sa.ForeignKeyConstraint(['filed_by_org_id'], ['organizations.id'],
                                name=op.f('fk_third_party_complaints_filed_by_org_id_organizations')),
        sa.ForeignKeyConstraint(['filed_by_user_id'], ['users.id'],
                                name=op.f('fk_third_party_complaints_filed_by_user_id_users')),
        sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'],
                                name=op.f('fk_third_party_complaints_acknowledged_by_id_users')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                                name=op.f('fk_third_party_complaints_decided_by_id_users')),
        sa.ForeignKeyConstraint(['linked_complaint_id'], ['complaints.id'],
                                name=op.f('fk_third_party_complaints_linked_complaint_id_complaints')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_third_party_complaints')),
        sa.UniqueConstraint('receipt_digest', name=op.f('uq_third_party_complaints_receipt_digest')),
    )
    for column in ('agency_id', 'filed_by_org_id', 'employer_key', 'area', 'industry', 'received_at'):
        op.create_index(op.f(f'ix_third_party_complaints_{column}'), 'third_party_complaints', [column])
    op.create_table(
        'third_party_violation_types',
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['third_party_complaints.id'], ondelete='CASCADE',
                                name=op.f('fk_third_party_violation_types_report_id_third_party_complaints')),
        sa.PrimaryKeyConstraint('report_id', 'type', name=op.f('pk_third_party_violation_types')),
    )
    op.create_table(
        'employer_evidence',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('employer_key', sa.String(length=200), nullable=False),
        sa.Column('employer_name', sa.String(length=200), nullable=False),
        sa.Column('industry', sa.String(length=32), nullable=False),
        sa.Column('area', sa.String(length=100), nullable=True),
        sa.Column('reports', sa.Integer(), nullable=False),
        sa.Column('partners', sa.Integer(), nullable=False),
        sa.Column('complaints', sa.Integer(), nullable=False),
        sa.Column('workers', sa.Integer(), nullable=False),
        sa.Column('last_evidence_at', UTC, nullable=False),
        sa.Column('investigation_opened_at', UTC, nullable=True),
        sa.Column('investigation_opened_by_id', sa.Integer(), nullable=True),
        sa.Column('case_reference', sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'],
                                name=op.f('fk_employer_evidence_agency_id_organizations')),
        sa.ForeignKeyConstraint(['investigation_opened_by_id'], ['users.id'],
                                name=op.f('fk_employer_evidence_investigation_opened_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_employer_evidence')),
        sa.UniqueConstraint('agency_id', 'employer_key', name=op.f('uq_employer_evidence_agency_id')),
    )
    op.create_index(op.f('ix_employer_evidence_industry'), 'employer_evidence', ['industry'])

    # Complaints get the same employer key, computed for the ones already filed.
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('employer_key', sa.String(length=200), nullable=False, server_default=''))
    complaints = sa.table('complaints', sa.column('id', sa.Integer()), sa.column('employer_name', sa.String()),
                          sa.column('employer_key', sa.String()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(complaints.c.id, complaints.c.employer_name)).all()
    for start in range(0, len(rows), 1000):
        connection.execute(
            complaints.update().where(complaints.c.id == sa.bindparam('row_id'))
            .values(employer_key=sa.bindparam('key')),
            [{'row_id': row.id, 'key': employer_key(row.employer_name)} for row in rows[start:start + 1000]])
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.alter_column('employer_key', server_default=None)
        batch_op.create_index(batch_op.f('ix_complaints_employer_key'), ['employer_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_employer_key'))
        batch_op.drop_column('employer_key')
    op.drop_table('employer_evidence')
    op.drop_table('third_party_violation_types')
    op.drop_table('third_party_complaints')
