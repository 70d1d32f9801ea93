"""Helpers for the outbox and job tests: sessions on any engine, a scratch PostgreSQL database."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

_url = (
    os.environ.get("OMNIPOSTR_TEST_DATABASE_URL")
    or os.environ.get("OMNIPOSTR_CI_POSTGRES_URL")
    or "postgresql://postgres@127.0.0.1:5432/postgres"
)
# The project installs psycopg 3 (SQLAlchemy 2.1 maps a bare postgresql:// to it); say so explicitly.
PG_ADMIN_URL = "postgresql+psycopg://" + _url.split("://", 1)[1] if _url.startswith("postgresql://") else _url


def factory_for(engine: Engine):
    """A session factory like ``db.session`` (commit on success) for ``engine``."""

    @contextlib.contextmanager
    def session() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    return session


def postgres_available() -> bool:
    try:
        import psycopg

        conn = psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=2)
        conn.close()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def scratch_postgres() -> Iterator[Engine]:
    """A new database ``omnipostr_scratch_<random>`` migrated to head; dropped afterwards."""
    from omnipostr import db, migrate

    name = f"omnipostr_scratch_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = None
    try:
        migrate.upgrade(url)
        engine = db.make_engine(url)
        yield engine
    finally:
        if engine is not None:
            engine.dispose()
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
