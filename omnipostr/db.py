"""The database engine and sessions. Nothing else in the product opens an engine.

Services are plain synchronous functions that take a ``Session``. Reflex event handlers and
API routes run them in a worker thread through :func:`run`, so the event loop never waits on
the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from omnipostr.settings import get_settings

P = ParamSpec("P")
T = TypeVar("T")

_engine: Engine | None = None


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(eng, "connect", _sqlite_pragmas)
        return eng
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def engine() -> Engine:
    global _engine
    if _engine is None:
        _engine = make_engine(get_settings().db_url)
    return _engine


def reset_engine() -> None:
    """Drop the engine (tests that switch databases call this)."""
    global _engine
    if _engine is not None:
        _engine.dispose()
    _engine = None


@contextlib.contextmanager
def session() -> Iterator[Session]:
    """A session that commits when the block ends without error, else rolls back."""
    with Session(engine(), expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


def in_session(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with session() as s:
        return fn(s, *args, **kwargs)


async def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn(session, *args, **kwargs)`` in a thread, in its own committed session."""
    return await asyncio.to_thread(functools.partial(in_session, fn, *args, **kwargs))


def is_postgres() -> bool:
    return engine().dialect.name == "postgresql"


def upsert(s, model):
    """An INSERT for this database that takes ``.on_conflict_do_nothing(...)`` or
    ``.on_conflict_do_update(...)``: how a row is created once when several requests race,
    without a savepoint (SQLite's driver commits early on RELEASE when no DML came before)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"INSERT ... ON CONFLICT is not set up for {dialect}")
