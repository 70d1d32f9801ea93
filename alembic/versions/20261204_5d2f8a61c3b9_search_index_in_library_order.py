"""search index in library order

The blind search index keeps each word's rows of a workspace in the library's order (newest
first), so a search reads one page of the index and stops: a word's key is the first 8 bytes
of its keyed hash as a 64-bit integer, and each row carries its generation's ``created_at``
(in microseconds, 8 bytes).
The table is keyed by (generation, word), without a surrogate id (and, on SQLite, without a
rowid). The platform filter checks a generation's variants on (generation, platform);
single-column indexes that a composite one already starts with are dropped.

Existing rows are converted without decrypting anything (the new key is the start of the old
hex key); generations without rows (an index emptied by 4c1e9a7d2b60, which the tokenizer
change left to this revision) are indexed again from their posts. This revision uses the
application's ``reindex`` for them: it must stay the last one that changes this table's shape.

Revision ID: 5d2f8a61c3b9
Revises: 9b3e51c0a7d4
Create Date: 2026-12-04 16:30:00
"""
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '5d2f8a61c3b9'
down_revision: str | None = '9b3e51c0a7d4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def _signed(hex_key: str) -> int:
    return int.from_bytes(bytes.fromhex(hex_key[:16]), "big", signed=True)


def _micros(value) -> int:
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def upgrade() -> None:
    conn = op.get_bind()
    op.rename_table('search_terms', 'search_terms_old')
    if conn.dialect.name == 'postgresql':  # index names are the schema's: free the new table's
        op.execute('ALTER INDEX search_terms_pkey RENAME TO search_terms_old_pkey')
    op.create_table(
        'search_terms',
        sa.Column('generation_id', sa.Integer(), nullable=False),
        sa.Column('term', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('created_us', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['generation_id'], ['generations.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('generation_id', 'term'),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_search_terms_lookup', 'search_terms', ['workspace_id', 'term', 'created_us', 'generation_id'])
    rows = conn.execute(sa.text(
        "SELECT o.generation_id, o.term, o.workspace_id, g.created_at FROM search_terms_old o "
        "JOIN generations g ON g.id = o.generation_id ORDER BY o.generation_id"
    ))
    insert = sa.text("INSERT INTO search_terms (generation_id, term, workspace_id, created_us) VALUES (:g, :t, :w, :c)")
    while batch := rows.fetchmany(BATCH):
        unique = {(r[0], _signed(r[1])): (r[2], _micros(r[3])) for r in batch}
        conn.execute(insert, [{"g": g, "t": t, "w": w, "c": c} for (g, t), (w, c) in unique.items()])
    op.drop_table('search_terms_old')

    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_index('ix_variants_generation_id')
        batch_op.drop_index('ix_variants_platform')
        batch_op.drop_index('ix_variants_workspace_id')
        batch_op.create_index('ix_variants_generation_platform', ['generation_id', 'platform'], unique=False)
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_index('ix_generations_workspace_id')

    missing = [r[0] for r in conn.execute(sa.text(
        "SELECT id FROM generations g WHERE NOT EXISTS (SELECT 1 FROM search_terms t WHERE t.generation_id = g.id) "
        "ORDER BY id"
    ))]
    if missing:
        from sqlmodel import Session

        from omnipostr.library.service import reindex

        with Session(bind=conn) as s:
            for gid in missing:
                reindex(s, gid)
                s.flush()


def downgrade() -> None:
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.create_index('ix_generations_workspace_id', ['workspace_id'], unique=False)
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_index('ix_variants_generation_platform')
        batch_op.create_index('ix_variants_workspace_id', ['workspace_id'], unique=False)
        batch_op.create_index('ix_variants_platform', ['platform'], unique=False)
        batch_op.create_index('ix_variants_generation_id', ['generation_id'], unique=False)
    # The older index held the whole 32-character hex key, of which this one keeps 16: it is
    # left empty, and the older code fills a generation's rows again when it next changes.
    op.drop_table('search_terms')
    op.create_table(
        'search_terms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('generation_id', sa.Integer(), nullable=False),
        sa.Column('term', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(['generation_id'], ['generations.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('generation_id', 'term'),
    )
    op.create_index('ix_search_terms_generation_id', 'search_terms', ['generation_id'])
    op.create_index('ix_search_terms_ws_term', 'search_terms', ['workspace_id', 'term'])
