"""escalation steps: the entries a tick skipped are kept in the row of the rung
it fired (column `skipped`) instead of one row each; `outcome` goes, every row
being a fired rung

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 17:00:00

After an outage a tick used to write one row per skipped entry (three for each
fired one in the benchmark); one row per deadline and tick is a quarter of the
writes. Existing skipped rows move into the fired row that followed them in the
same tick; the downgrade writes them back as rows of their own.
"""
from collections import defaultdict
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)

steps = sa.table(
    'escalation_steps', sa.column('id', sa.Integer), sa.column('deadline_id', sa.Integer),
    sa.column('position', sa.Integer), sa.column('rung', sa.String), sa.column('scheduled_at', UTC),
    sa.column('handled_at', UTC), sa.column('outcome', sa.String), sa.column('notices', sa.Integer),
    sa.column('skipped', sa.JSON(none_as_null=True)))


def _iso(value: datetime) -> str:
    """As the app writes times in JSON (clock.iso); SQLite gives them back naive, in UTC."""
    aware = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return aware.isoformat().replace('+00:00', 'Z')


def _time(value: str, dialect: str) -> datetime:
    """A JSON time for a DateTime column: SQLite stores UTC without an offset (as UTCDateTime does)."""
    parsed = datetime.fromisoformat(value).astimezone(timezone.utc)
    return parsed.replace(tzinfo=None) if dialect == 'sqlite' else parsed


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('escalation_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('skipped', sa.JSON(none_as_null=True), nullable=True))
    # Only the skipped rows are read (few: outages and reschedules), each with the
    # position of the fired row that followed it, found by the (deadline, position) key.
    fired = steps.alias('fired')
    following = (sa.select(sa.func.min(fired.c.position))
                 .where(fired.c.deadline_id == steps.c.deadline_id, fired.c.outcome == 'fired',
                        fired.c.position > steps.c.position)
                 .scalar_subquery())
    rows = bind.execute(sa.select(steps.c.deadline_id, steps.c.position, steps.c.rung, steps.c.scheduled_at,
                                  following.label('fired_position'))
                        .where(steps.c.outcome == 'skipped')
                        .order_by(steps.c.deadline_id, steps.c.position)).all()
    orphans = sorted({row.deadline_id for row in rows if row.fired_position is None})
    if orphans:
        raise RuntimeError(f"escalation_steps: skipped rows with no fired row after them, deadlines "
                           f"{orphans[:10]}; fix them before upgrading")
    skipped: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for row in rows:
        skipped[(row.deadline_id, row.fired_position)].append(
            {'position': row.position, 'rung': row.rung, 'scheduled_at': _iso(row.scheduled_at)})
    if skipped:
        bind.execute(steps.update()
                     .where(steps.c.deadline_id == sa.bindparam('at_deadline'),
                            steps.c.position == sa.bindparam('at_position'))
                     .values(skipped=sa.bindparam('entries')),
                     [{'at_deadline': deadline_id, 'at_position': position, 'entries': entries}
                      for (deadline_id, position), entries in skipped.items()])
        bind.execute(steps.delete().where(steps.c.outcome == 'skipped'))
    with op.batch_alter_table('escalation_steps', schema=None) as batch_op:
        batch_op.drop_column('outcome')


def downgrade() -> None:
    bind = op.get_bind()
    # Every row left is a fired rung: the default fills them (PostgreSQL without a rewrite).
    with op.batch_alter_table('escalation_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=16), nullable=False, server_default='fired'))
    rows = bind.execute(sa.select(steps.c.deadline_id, steps.c.handled_at, steps.c.skipped)
                        .where(steps.c.skipped.is_not(None))).all()
    restored = [{'deadline_id': row.deadline_id, 'position': entry['position'], 'rung': entry['rung'],
                 'scheduled_at': _time(entry['scheduled_at'], bind.dialect.name), 'handled_at': row.handled_at,
                 'outcome': 'skipped', 'notices': 0}
                for row in rows for entry in row.skipped]
    if restored:
        bind.execute(steps.insert(), restored)
    with op.batch_alter_table('escalation_steps', schema=None) as batch_op:
        batch_op.alter_column('outcome', existing_type=sa.String(length=16), server_default=None)
        batch_op.drop_column('skipped')
