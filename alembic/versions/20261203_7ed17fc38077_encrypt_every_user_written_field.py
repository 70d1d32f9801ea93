"""encrypt every user-written field

Names, email addresses, workspace and brand-voice names, file names and links, the options of
a generation (audience, call to action, brand voice) and the flags and problems of a post were
stored in the clear. They become ``ContentText`` / ``ContentJSON`` (Fernet with the content
key); email addresses are found by a blind index. Existing rows are encrypted in place.
Login failures are keyed by the address's index from now on: the old ones (a few minutes of
throttling state) are dropped.

Revision ID: 7ed17fc38077
Revises: bcbec3c769f3
Create Date: 2026-12-03 08:39:51.608174
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from omnipostr import crypto

revision: str = '7ed17fc38077'
down_revision: str | None = 'bcbec3c769f3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> [(column, old type, plain kind)]: kind "text" or "json"
COLUMNS = {
    "auth_tokens": [("data", sa.String(2000), "text")],
    "brand_voices": [("name", sa.String(100), "text")],
    "generations": [("options", sa.JSON(), "json")],
    "invites": [("email", sa.String(254), "text")],
    "outbox_messages": [("to_address", sa.String(320), "text"), ("subject", sa.String(300), "text")],
    "sources": [("filename", sa.String(255), "text"), ("url", sa.String(2000), "text")],
    "users": [("name", sa.String(100), "text"), ("email", sa.String(254), "text")],
    "variants": [("problems", sa.JSON(), "json"), ("flags", sa.JSON(), "json")],
    "workspaces": [("name", sa.String(100), "text")],
}


def _to_text(table: str, column: str, old) -> None:
    with op.batch_alter_table(table) as batch:
        batch.alter_column(column, existing_type=old, type_=sa.Text(), existing_nullable=False,
                           postgresql_using=f'"{column}"::text')


def _rewrite(table: str, columns: list[str], fn, extra=None) -> None:
    """Rewrite every row's ``columns`` with ``fn`` (and set ``extra(row)`` columns)."""
    conn = op.get_bind()
    rows = conn.execute(sa.text(f'SELECT id, {", ".join(columns)} FROM "{table}"')).mappings().all()
    for row in rows:
        values = {c: (fn(row[c]) if row[c] is not None else None) for c in columns}
        if extra is not None:
            values.update(extra(row))
        sets = ", ".join(f'"{c}" = :{c}' for c in values)
        conn.execute(sa.text(f'UPDATE "{table}" SET {sets} WHERE id = :id'), {**values, "id": row["id"]})


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email_index", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=""))
        batch.drop_index("ix_users_email")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("to_index", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=""))
        batch.drop_index("ix_outbox_messages_to_address")
    with op.batch_alter_table("invites") as batch:
        batch.drop_index("ix_invites_email")
    for table, cols in COLUMNS.items():
        for column, old, _ in cols:
            _to_text(table, column, old)

    _rewrite("users", ["name", "email"], crypto.encrypt, lambda r: {"email_index": crypto.email_index(r["email"])})
    _rewrite("outbox_messages", ["to_address", "subject"], crypto.encrypt,
             lambda r: {"to_index": crypto.email_index(r["to_address"])})
    for table, cols in COLUMNS.items():
        if table not in ("users", "outbox_messages"):
            _rewrite(table, [c for c, _, _ in cols], crypto.encrypt)
    op.execute("DELETE FROM login_failures")

    with op.batch_alter_table("users") as batch:
        batch.alter_column("email_index", server_default=None, existing_type=sqlmodel.sql.sqltypes.AutoString(length=64))
        batch.create_index("ix_users_email_index", ["email_index"], unique=True)
    with op.batch_alter_table("outbox_messages") as batch:
        batch.alter_column("to_index", server_default=None, existing_type=sqlmodel.sql.sqltypes.AutoString(length=64))
        batch.create_index("ix_outbox_messages_to_index", ["to_index"], unique=False)


def downgrade() -> None:
    for table, cols in COLUMNS.items():
        _rewrite(table, [c for c, _, _ in cols], crypto.decrypt)
    op.execute("DELETE FROM login_failures")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_index("ix_outbox_messages_to_index")
        batch.drop_column("to_index")
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_email_index")
        batch.drop_column("email_index")
    for table, cols in COLUMNS.items():
        for column, old, kind in cols:
            with op.batch_alter_table(table) as batch:
                batch.alter_column(column, existing_type=sa.Text(), type_=old, existing_nullable=False,
                                   postgresql_using=f'"{column}"::json' if kind == "json" else None)
    with op.batch_alter_table("users") as batch:
        batch.create_index("ix_users_email", ["email"], unique=True)
    with op.batch_alter_table("outbox_messages") as batch:
        batch.create_index("ix_outbox_messages_to_address", ["to_address"], unique=False)
    with op.batch_alter_table("invites") as batch:
        batch.create_index("ix_invites_email", ["email"], unique=False)
