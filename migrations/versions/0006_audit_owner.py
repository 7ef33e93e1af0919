"""audit entries name the organization that owns the record, besides the actor's

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 05:00:00

So an agency's audit page lists a partner's views of the agency's shared cases.
Old entries keep a NULL owner; their hashes do not cover the new field, so the
chain still verifies (see audit.service.canonical).
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# Batch mode on SQLite rebuilds the table to drop a column, and the old table's
# triggers go with it: the downgrade creates them again (see 0003).
_SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]


def upgrade() -> None:
    # A plain ADD COLUMN: SQLite keeps the table, and with it the triggers.
    op.add_column('audit_log', sa.Column('owner_organization_id', sa.Integer(), nullable=True))
    op.create_index('ix_audit_log_owner_seq', 'audit_log', ['owner_organization_id', 'seq'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_log_owner_seq', table_name='audit_log')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        with op.batch_alter_table('audit_log', schema=None) as batch_op:
            batch_op.drop_column('owner_organization_id')
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        op.drop_column('audit_log', 'owner_organization_id')
