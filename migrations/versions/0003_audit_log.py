"""audit log: an append-only, hash-chained record of views, reveals and exports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:47:26.482669

Besides the table, triggers refuse UPDATE and DELETE on audit_log, so the app
(or a careless insider with the app's credentials) cannot change an entry by
mistake; the HMAC chain, not the triggers, is what catches someone who can
drop them. A later migration that rebuilds this table in SQLite batch mode
drops the triggers with the old table and must create them again.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]
_POSTGRESQL_TRIGGERS = [
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
]


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('record_type', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_org_actor_seq', ['organization_id', 'actor_id', 'seq'], unique=False)
        batch_op.create_index('ix_audit_log_org_at', ['organization_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_log_org_record', ['organization_id', 'record_type', 'record_id'], unique=False)
        batch_op.create_index('ix_audit_log_org_seq', ['organization_id', 'seq'], unique=False)

    dialect = op.get_bind().dialect.name
    for statement in _POSTGRESQL_TRIGGERS if dialect == 'postgresql' else _SQLITE_TRIGGERS if dialect == 'sqlite' else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    elif dialect == 'sqlite':
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_org_seq')
        batch_op.drop_index('ix_audit_log_org_record')
        batch_op.drop_index('ix_audit_log_org_at')
        batch_op.drop_index('ix_audit_log_org_actor_seq')

    op.drop_table('audit_log')
