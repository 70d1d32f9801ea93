"""search terms from the one tokenizer

The library's blind search index is rebuilt with the product's one tokenizer: CJK text is
indexed by characters and pairs of characters (a search for "東京" finds "東京は晴れです"),
and words are split the way word counts and the faithfulness check split them.

Revision ID: 4c1e9a7d2b60
Revises: da531da7bb52
Create Date: 2026-12-03 10:55:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '4c1e9a7d2b60'
down_revision: str | None = 'da531da7bb52'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The index built by the older tokenizer is emptied here; 5d2f8a61c3b9, which changes the
    # table's shape, indexes every generation without rows again with the current code.
    op.execute(sa.text("DELETE FROM search_terms"))


def downgrade() -> None:
    # The index stays as the new tokenizer built it: the old code searches it for most Latin
    # words, and nothing is lost (the index is derived from the stored posts).
    pass
