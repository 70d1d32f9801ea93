"""generation tasks: a durable queue for generation workers

Generation work is queued in ``generation_tasks`` and taken by workers with a lease, so it
runs outside the web process and a dead worker's task is taken over. Generations left
"queued" or "running" by the code before this (which ran them inside the web process) are
marked interrupted: nothing will run them now; their finished posts are kept.

Revision ID: 9b3e51c0a7d4
Revises: 4c1e9a7d2b60
Create Date: 2026-12-03 17:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import omnipostr.crypto

revision: str = '9b3e51c0a7d4'
down_revision: str | None = '4c1e9a7d2b60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'generation_tasks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation_id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('variant_ids', sa.JSON(), nullable=True),
        sa.Column('feedback', omnipostr.crypto.ContentJSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('owner', sa.String(length=200), nullable=False),
        sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('claims', sa.Integer(), nullable=False),
        sa.Column('stored', sa.JSON(), nullable=False),
        sa.Column('cpu_pids', sa.JSON(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['generation_id'], ['generations.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_generation_tasks_generation_id', 'generation_tasks', ['generation_id'])
    op.create_index('ix_generation_tasks_workspace_id', 'generation_tasks', ['workspace_id'])
    op.create_index('ix_generation_tasks_status_lease', 'generation_tasks', ['status', 'lease_until'])
    op.execute(
        "UPDATE variants SET status = 'failed', error = 'Interrupted: the server stopped while this was being written. Retry it.' "
        "WHERE status IN ('queued', 'streaming') AND generation_id IN "
        "(SELECT id FROM generations WHERE status IN ('queued', 'running'))"
    )
    op.execute(
        "UPDATE generations SET status = 'interrupted', "
        "error = 'The server stopped while this generation ran. Finished posts are kept; retry the rest.' "
        "WHERE status IN ('queued', 'running')"
    )


def downgrade() -> None:
    op.drop_index('ix_generation_tasks_status_lease', table_name='generation_tasks')
    op.drop_index('ix_generation_tasks_workspace_id', table_name='generation_tasks')
    op.drop_index('ix_generation_tasks_generation_id', table_name='generation_tasks')
    op.drop_table('generation_tasks')
