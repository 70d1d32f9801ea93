"""audit log and the breach register: audit_events, incidents, incident_recipients

Revision ID: 4b366a8d761b
Revises: d27e534c6382
Create Date: 2026-12-04 22:38:58.460673
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
import omnipostr.crypto


revision: str = '4b366a8d761b'
down_revision: str | None = 'd27e534c6382'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_actor_at', ['actor_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_kind'), ['kind'], unique=False)

    op.create_table(
        'incidents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('summary', omnipostr.crypto.ContentText(), nullable=False),
        sa.Column('occurred_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('discovered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('data_categories', sa.JSON(), nullable=False),
        sa.Column('consequences', omnipostr.crypto.ContentText(), nullable=False),
        sa.Column('measures', omnipostr.crypto.ContentText(), nullable=False),
        sa.Column('advice', omnipostr.crypto.ContentText(), nullable=False),
        sa.Column('authority_notified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_created_by_id'), ['created_by_id'], unique=False)

    op.create_table(
        'incident_recipients',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('selected_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('notified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('incident_id', 'user_id'),
    )
    with op.batch_alter_table('incident_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_recipients_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_recipients_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incident_recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_recipients_user_id'))
        batch_op.drop_index(batch_op.f('ix_incident_recipients_incident_id'))
    op.drop_table('incident_recipients')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_incidents_created_at'))
    op.drop_table('incidents')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_kind'))
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index('ix_audit_events_actor_at')
    op.drop_table('audit_events')
