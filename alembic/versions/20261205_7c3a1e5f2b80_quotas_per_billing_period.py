"""quotas per billing period: monthly_usage moves to usage_periods; generations record their unit

Revision ID: 7c3a1e5f2b80
Revises: 6b2f0e9c1d47
Create Date: 2026-12-05 12:00:00
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '7c3a1e5f2b80'
down_revision: str | None = '6b2f0e9c1d47'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the tables as this revision knows them (typed, so times are written as the app writes them)
monthly_usage = sa.table(
    'monthly_usage',
    sa.column('id', sa.Integer()),
    sa.column('workspace_id', sa.Integer()),
    sa.column('period', sa.String()),
    sa.column('generations', sa.Integer()),
    sa.column('variants', sa.Integer()),
)
usage_periods = sa.table(
    'usage_periods',
    sa.column('id', sa.Integer()),
    sa.column('workspace_id', sa.Integer()),
    sa.column('period_start', sqlmodel.sql.sqltypes.UTCDateTime()),
    sa.column('period_end', sqlmodel.sql.sqltypes.UTCDateTime()),
    sa.column('generations', sa.Integer()),
    sa.column('variants', sa.Integer()),
)
generations = sa.table(
    'generations',
    sa.column('id', sa.Integer()),
    sa.column('status', sa.String()),
    sa.column('created_at', sqlmodel.sql.sqltypes.UTCDateTime()),
    sa.column('quota_period_start', sqlmodel.sql.sqltypes.UTCDateTime()),
    sa.column('quota_taken_at', sqlmodel.sql.sqltypes.UTCDateTime()),
)


def _month(period: str) -> tuple[datetime, datetime]:
    """"2026-11" -> (1 Nov 2026 00:00 UTC, 1 Dec 2026 00:00 UTC)."""
    year, month = (int(x) for x in period.split('-'))
    start = datetime(year, month, 1, tzinfo=UTC)
    return start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quota_period_start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('quota_taken_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('quota_refunded', sa.Boolean(), nullable=False, server_default=sa.false()))

    bind = op.get_bind()
    # every count so far was per calendar month (UTC): the same counts, as periods
    have = {
        (r.workspace_id, r.period_start): r
        for r in bind.execute(sa.select(usage_periods.c.workspace_id, usage_periods.c.period_start,
                                        usage_periods.c.generations, usage_periods.c.variants))
    }
    for row in bind.execute(sa.select(monthly_usage).order_by(monthly_usage.c.id)).all():
        start, end = _month(row.period)
        known = have.get((row.workspace_id, start))
        if known is None:
            bind.execute(usage_periods.insert().values(
                workspace_id=row.workspace_id, period_start=start, period_end=end,
                generations=row.generations, variants=row.variants,
            ))
        else:
            bind.execute(usage_periods.update()
                         .where(usage_periods.c.workspace_id == row.workspace_id,
                                usage_periods.c.period_start == start)
                         .values(generations=known.generations + row.generations,
                                 variants=known.variants + row.variants))
    # generations still waiting or running were counted in their calendar month: a failure
    # gives their unit back there
    for g in bind.execute(sa.select(generations.c.id, generations.c.created_at)
                          .where(generations.c.status.in_(('queued', 'running')))).all():
        bind.execute(generations.update().where(generations.c.id == g.id).values(
            quota_period_start=_month(g.created_at.strftime('%Y-%m'))[0], quota_taken_at=g.created_at))

    with op.batch_alter_table('monthly_usage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monthly_usage_workspace_id'))
    op.drop_table('monthly_usage')


def downgrade() -> None:
    op.create_table('monthly_usage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('generations', sa.Integer(), nullable=False),
    sa.Column('variants', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'period')
    )
    with op.batch_alter_table('monthly_usage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_usage_workspace_id'), ['workspace_id'], unique=False)

    # back to calendar months: a subscription's period counts in the month it started
    bind = op.get_bind()
    months: dict[tuple[int, str], list[int]] = {}
    for row in bind.execute(sa.select(usage_periods).order_by(usage_periods.c.id)).all():
        counts = months.setdefault((row.workspace_id, row.period_start.strftime('%Y-%m')), [0, 0])
        counts[0] += row.generations
        counts[1] += row.variants
    for (workspace_id, period), (gens, variants) in months.items():
        bind.execute(monthly_usage.insert().values(
            workspace_id=workspace_id, period=period, generations=gens, variants=variants))
    bind.execute(usage_periods.delete())

    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_column('quota_refunded')
        batch_op.drop_column('quota_taken_at')
        batch_op.drop_column('quota_period_start')
