"""users get a row key: the associated data of their encrypted fields

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 09:00:00

Encrypted values used to be bound to the row's autoincrement id, which is
unknown before INSERT. Now each row has a random key made in Python, so a
value is sealed at assignment. Existing rows get a key here; their values
(format v1, bound to the id) stay readable, and `keys rotate` rewrites them as
v2. No key material is needed to migrate.
"""
import secrets

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# The tables that hold encrypted fields at this revision, and their ciphertext columns.
ENCRYPTED = {'users': ['totp_secret_enc']}


def upgrade() -> None:
    bind = op.get_bind()
    for table_name in ENCRYPTED:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('row_key', sa.String(length=32), nullable=True))
        table = sa.table(table_name, sa.column('id', sa.Integer), sa.column('row_key', sa.String))
        ids = bind.execute(sa.select(table.c.id).order_by(table.c.id)).scalars().all()
        if ids:
            bind.execute(table.update().where(table.c.id == sa.bindparam('row_id'))
                         .values(row_key=sa.bindparam('new_key')),
                         [{'row_id': row_id, 'new_key': secrets.token_hex(16)} for row_id in ids])
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column('row_key', existing_type=sa.String(length=32), nullable=False)
            batch_op.create_index(batch_op.f(f'ix_{table_name}_row_key'), ['row_key'], unique=True)


def downgrade() -> None:
    bind = op.get_bind()
    for table_name, columns in ENCRYPTED.items():
        # Values sealed with a row key cannot be read without it: refuse rather than lose them.
        for column in columns:
            bound = bind.execute(sa.text(f"SELECT count(*) FROM {table_name} WHERE {column} LIKE 'v2.%'")).scalar()
            if bound:
                raise RuntimeError(
                    f"cannot downgrade below 0009: {table_name}.{column} holds {bound} values bound to row keys, "
                    f"which the older code cannot read; clear them first (for users.totp_secret_enc, those "
                    f"users set up two-factor login again)")
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table_name}_row_key'))
            batch_op.drop_column('row_key')
