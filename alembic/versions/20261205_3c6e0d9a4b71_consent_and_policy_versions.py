"""consent records and policy versions; no usage analytics until consent

Revision ID: 3c6e0d9a4b71
Revises: 077e9f7e2faf
Create Date: 2026-12-05 00:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '3c6e0d9a4b71'
down_revision: str | None = '077e9f7e2faf'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'consent_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('consent_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('analytics', sa.Boolean(), nullable=False),
        sa.Column('preferences', sa.Boolean(), nullable=False),
        sa.Column('gpc', sa.Boolean(), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('policy_version', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_records_consent_id'), ['consent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_records_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_records_user_id'), ['user_id'], unique=False)

    op.create_table(
        'policy_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('material', sa.Boolean(), nullable=False),
        sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('notified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('version'),
    )


    # usage analytics needs consent now: nobody has given it yet, so nothing is recorded about
    # anyone until they choose
    op.execute(sa.text("UPDATE users SET object_usage = :yes").bindparams(yes=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('object_usage', existing_type=sa.Boolean(), existing_nullable=False,
                              server_default=sa.true())


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('object_usage', existing_type=sa.Boolean(), existing_nullable=False,
                              server_default=sa.false())
    op.drop_table('policy_versions')
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_records_user_id'))
        batch_op.drop_index(batch_op.f('ix_consent_records_created_at'))
        batch_op.drop_index(batch_op.f('ix_consent_records_consent_id'))
    op.drop_table('consent_records')
