"""generations: permission to feature the posts, with its time (per generation, not per post)

Revision ID: 8e1f4c2d9a60
Revises: c378569b099c
Create Date: 2026-12-05 00:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '8e1f4c2d9a60'
down_revision: str | None = 'c378569b099c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('may_feature_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    # the per-post flag was never settable, so no permission is lost
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_column('may_feature')


def downgrade() -> None:
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('may_feature', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_column('may_feature_at')
