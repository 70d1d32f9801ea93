"""Content keys: which key each encrypted value is under, and rotation to the newest key.

Every ``ContentText`` / ``ContentJSON`` column (found in the schema by its type) and every
sealed binary column (:data:`SEALED_COLUMNS`) holds tokens labelled with their key's id
(``crypto``). :func:`status` counts the values under each key, per column. :func:`rotate`
re-encrypts every value that is not under the newest key, a batch of rows per transaction,
so it can stop anywhere (a crash, ``max_batches``) and a second run carries on: each value is
always under one of the configured keys. A row is written back only if it still holds what
was read (compare and set), so an edit made meanwhile is never overwritten; such a row is
left for the next run.

Only the content keys rotate here. The secret key (``secret.key`` / ``OMNIPOSTR_SECRET_KEY``)
keys the blind indexes (``users.email_index``...), the library's search index and the token
hashes: those are untouched by a content key rotation, so sign-in by address and search keep
working. Values are read and written as stored (no decryption by the column type).
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnipostr import crypto

SEALED_COLUMNS: dict[str, tuple[str, ...]] = {"data_exports": ("archive",)}
"""Binary columns whose values are sealed with the content key (``crypto.seal``)."""

NOT_UNDER_A_KEY = "unknown"
"""What :func:`status` counts a value under when no configured key opens it (an unlabelled
token whose key is gone, or not a token at all)."""


@dataclasses.dataclass(frozen=True)
class EncryptedTable:
    name: str
    key: tuple[str, ...]  # primary key columns
    text: tuple[str, ...]  # ContentText / ContentJSON columns
    sealed: tuple[str, ...] = ()  # binary columns sealed with the content key

    @property
    def columns(self) -> tuple[str, ...]:
        return self.text + self.sealed

    def table(self) -> sa.TableClause:
        """The table with untyped columns: values come and go exactly as stored."""
        return sa.table(self.name, *(sa.column(c) for c in (*self.key, *self.columns)))


def encrypted_tables(engine: Engine | None = None) -> list[EncryptedTable]:
    """Every table with an encrypted column, in the schema's order (only those that exist in
    ``engine``'s database, when given: an older schema has fewer)."""
    from sqlmodel import SQLModel

    import omnipostr.tables  # noqa: F401  (registers every table)

    present = set(sa.inspect(engine).get_table_names()) if engine is not None else None
    out = []
    for t in SQLModel.metadata.sorted_tables:
        if present is not None and t.name not in present:
            continue
        text = tuple(c.name for c in t.columns if isinstance(c.type, crypto.ContentText))
        sealed = tuple(c for c in SEALED_COLUMNS.get(t.name, ()) if c in t.columns)
        if text or sealed:
            out.append(EncryptedTable(t.name, tuple(c.name for c in t.primary_key), text, sealed))
    return out


def _engine(engine: Engine | None) -> Engine:
    if engine is not None:
        return engine
    from omnipostr import db

    return db.engine()


def _label(value: str, sealed: bool) -> str | bytes:
    return value.encode("ascii") if sealed else value


def _head(col: sa.ColumnClause) -> sa.ColumnElement:
    """The first characters of a stored token: its key label when it has one. (Literal
    numbers: PostgreSQL groups by an expression only when it is written the same twice.)"""
    return sa.func.substr(col, sa.literal_column("1"), sa.literal_column("9"))


# --- status ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ColumnStatus:
    table: str
    column: str
    by_key: dict[str, int]  # key id (or NOT_UNDER_A_KEY) -> values

    @property
    def total(self) -> int:
        return sum(self.by_key.values())


def status(engine: Engine | None = None) -> list[ColumnStatus]:
    """How many values each key holds, per encrypted column. Labelled values are counted by
    the database; older unlabelled ones are read and matched to a key one by one."""
    engine = _engine(engine)
    out = []
    with engine.connect() as conn:
        for et in encrypted_tables(engine):
            t = et.table()
            for name in et.columns:
                col, sealed = t.c[name], name in et.sealed
                counts: Counter[str] = Counter()
                unlabelled = False
                rows = conn.execute(sa.select(_head(col), sa.func.count()).where(col.is_not(None)).group_by(_head(col)))
                for head, n in rows:
                    kid = crypto.label_of(head) if head is not None else None
                    if kid is None:
                        unlabelled = True
                    else:
                        counts[kid] += n
                if unlabelled:
                    dot = _label(".", sealed)
                    q = sa.select(col).where(col.is_not(None), sa.func.substr(col, 9, 1) != dot)
                    for (value,) in conn.execute(q.execution_options(yield_per=1000)):
                        counts[crypto.key_of(value) or NOT_UNDER_A_KEY] += 1
                out.append(ColumnStatus(et.name, name, dict(counts)))
    return out


def sample_key_ids(engine: Engine, per_column: int = 5) -> set[str]:
    """The keys of a few values of each encrypted column (a quick look at a restored or
    restorable database): key ids, and NOT_UNDER_A_KEY for values no configured key opens."""
    found: set[str] = set()
    insp = sa.inspect(engine)
    with engine.connect() as conn:
        for et in encrypted_tables():
            if not insp.has_table(et.name):
                continue
            present = {c["name"] for c in insp.get_columns(et.name)}
            t = et.table()
            for name in et.columns:
                if name not in present:
                    continue
                col = t.c[name]
                for (value,) in conn.execute(sa.select(col).where(col.is_not(None)).limit(per_column)):
                    found.add(crypto.key_of(value) or NOT_UNDER_A_KEY)
    return found


# --- rotation --------------------------------------------------------------------------------


@dataclasses.dataclass
class Progress:
    table: str
    done: int  # rows of this table re-encrypted so far in this run
    total: int  # rows of this table that needed it when the run reached it


@dataclasses.dataclass
class RotationResult:
    key_id: str
    rows: int = 0  # rows written under the newest key
    values: int = 0  # values re-encrypted
    changed_meanwhile: int = 0  # rows edited while being rotated: left for the next run
    batches: int = 0
    remaining: int = 0  # rows still holding a value under an older key
    stopped: bool = False  # stopped by max_batches before the end
    seconds: float = 0.0


def _stale(et: EncryptedTable, t: sa.TableClause, newest: str) -> sa.ColumnElement[bool]:
    """Rows holding a value not labelled with the newest key."""
    prefix = newest + "."
    return sa.or_(*(
        sa.and_(t.c[c].is_not(None), _head(t.c[c]) != _label(prefix, c in et.sealed)) for c in et.columns
    ))


def _remaining(conn: sa.Connection, et: EncryptedTable, newest: str) -> int:
    t = et.table()
    return conn.execute(sa.select(sa.func.count()).select_from(t).where(_stale(et, t, newest))).scalar_one()


def _next_batch(conn: sa.Connection, et: EncryptedTable, newest: str, after: tuple | None, size: int) -> list:
    """The next ``size`` stale rows after primary key ``after``, in primary key order."""
    t = et.table()
    key = [t.c[k] for k in et.key]
    q = sa.select(*key, *(t.c[c] for c in et.columns)).where(_stale(et, t, newest))
    if after is not None:
        q = q.where(sa.tuple_(*key) > sa.tuple_(*after) if len(key) > 1 else key[0] > after[0])
    return list(conn.execute(q.order_by(*key).limit(size)).all())


def _rotate_rows(conn: sa.Connection, et: EncryptedTable, newest: str, rows: list, result: RotationResult) -> int:
    """Write ``rows`` back under the newest key. Returns how many were written."""
    t = et.table()
    written = 0
    for row in rows:
        ident = tuple(row[: len(et.key)])
        changes, same = {}, []
        for i, c in enumerate(et.columns):
            value = row[len(et.key) + i]
            if value is None or crypto.label_of(value) == newest:
                continue
            try:
                changes[c] = crypto.reencrypt(value)
            except ValueError as e:
                where = ", ".join(f"{k}={v}" for k, v in zip(et.key, ident, strict=True))
                e.add_note(f"in {et.name}.{c} ({where}); nothing of this batch was written")
                raise
            same.append(t.c[c] == value)
        if not changes:
            continue
        match = [t.c[k] == v for k, v in zip(et.key, ident, strict=True)]
        if conn.execute(sa.update(t).where(*match, *same).values(**changes)).rowcount:
            written += 1
            result.values += len(changes)
        else:
            result.changed_meanwhile += 1
    result.rows += written
    return written


def rotate(
    engine: Engine | None = None,
    *,
    batch: int = 500,
    max_batches: int | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> RotationResult:
    """Re-encrypt every value not under the newest key, ``batch`` rows per transaction.

    Raises (naming the key, the table, the column and the row) when a value is under a key
    that is not configured; the batch it was in is rolled back and nothing is lost."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    engine = _engine(engine)
    crypto.reset_keys()  # the key files as they are now
    newest = crypto.newest_key_id()
    result = RotationResult(newest)
    t0 = time.perf_counter()
    tables = encrypted_tables(engine)
    for et in tables:
        with engine.connect() as conn:
            total = _remaining(conn, et, newest)
        if total == 0:
            continue
        done, after = 0, None
        # sealed binary values can be large (data exports): fewer rows per transaction
        size = max(1, batch // 25) if et.sealed else batch
        while True:
            with engine.begin() as conn:  # one transaction per batch
                rows = _next_batch(conn, et, newest, after, size)
                if not rows:
                    break
                done += _rotate_rows(conn, et, newest, rows, result)
            after = tuple(rows[-1][: len(et.key)])
            result.batches += 1
            if progress is not None:
                progress(Progress(et.name, done, total))
            if max_batches is not None and result.batches >= max_batches:
                result.stopped = True
                break
        if result.stopped:
            break
    with engine.connect() as conn:
        result.remaining = sum(_remaining(conn, et, newest) for et in tables)
    result.seconds = time.perf_counter() - t0
    return result
