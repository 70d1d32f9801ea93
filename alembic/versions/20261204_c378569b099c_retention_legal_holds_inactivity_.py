"""retention: legal holds, inactivity warnings, removed originals and history

Revision ID: c378569b099c
Revises: 4b366a8d761b
Create Date: 2026-12-04 22:41:41.430662
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
import omnipostr.crypto


revision: str = 'c378569b099c'
down_revision: str | None = '4b366a8d761b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'legal_holds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('reason', omnipostr.crypto.ContentText(), nullable=False),
        sa.Column('placed_by', sa.Integer(), nullable=True),
        sa.Column('placed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('released_by', sa.Integer(), nullable=True),
        sa.Column('released_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('release_reason', omnipostr.crypto.ContentText(), nullable=False),
        sa.ForeignKeyConstraint(['placed_by'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['released_by'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_holds_placed_at'), ['placed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_legal_holds_released_at'), ['released_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_legal_holds_user_id'), ['user_id'], unique=False)

    op.create_table(
        'retention_warnings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('active_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('deletes_on', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('retention_warnings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_warnings_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('history_purged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_removed_by', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default=''))
    # texts deleted before this revision were deleted by their users (retention did not run yet)
    op.execute(sa.text("UPDATE sources SET text_removed_by = 'user' WHERE text_deleted_at IS NOT NULL"))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deletion_reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('deletion_reason')

    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('text_removed_by')

    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_column('history_purged_at')

    with op.batch_alter_table('retention_warnings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retention_warnings_user_id'))
    op.drop_table('retention_warnings')

    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_holds_user_id'))
        batch_op.drop_index(batch_op.f('ix_legal_holds_released_at'))
        batch_op.drop_index(batch_op.f('ix_legal_holds_placed_at'))
    op.drop_table('legal_holds')
