"""Set-up for the operations tests: a keys folder of the test's own, and a scratch database
(SQLite file, or a PostgreSQL database of its own) the app's services are pointed at."""

from __future__ import annotations

import dataclasses
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from omnipostr import crypto, db, migrate
from omnipostr.settings import reset_settings

PG_ADMIN_URL = os.environ.get("OMNIPOSTR_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"


def _reload() -> None:
    reset_settings()
    crypto.reset_keys()
    db.reset_engine()


@pytest.fixture
def own_keys(tmp_path, monkeypatch) -> Path:
    """A keys folder of this test's own (the first content key is made on first use)."""
    folder = tmp_path / "keys"
    monkeypatch.setenv("OMNIPOSTR_KEYS_DIR", str(folder))
    monkeypatch.delenv("OMNIPOSTR_ENCRYPTION_KEYS", raising=False)
    reset_settings()
    crypto.reset_keys()
    yield folder
    monkeypatch.undo()
    reset_settings()
    crypto.reset_keys()


def postgres_admin() -> sa.Engine:
    """An AUTOCOMMIT engine on the PostgreSQL server, or a skip when none answers."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError:
        admin.dispose()
        pytest.skip(f"no PostgreSQL answers at {sa.engine.make_url(PG_ADMIN_URL).render_as_string()}")
    return admin


@dataclasses.dataclass
class Scratch:
    kind: str
    url: str
    path: Path | None = None  # SQLite
    name: str = ""  # PostgreSQL
    admin: sa.Engine | None = None

    def wipe(self) -> None:
        """Lose the database: delete the SQLite file, or drop and recreate the PostgreSQL
        database (empty)."""
        db.reset_engine()
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        else:
            with self.admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE "{self.name}" WITH (FORCE)'))
                c.execute(sa.text(f'CREATE DATABASE "{self.name}"'))


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch_db(request, tmp_path, monkeypatch, own_keys) -> Scratch:
    """The app's services on a database of this test's own, migrated to the head, with keys of
    its own: on SQLite, and on PostgreSQL when a server answers on 127.0.0.1:5432."""
    if request.param == "sqlite":
        path = tmp_path / "scratch.db"
        scratch = Scratch("sqlite", f"sqlite:///{path}", path=path)
    else:
        admin = postgres_admin()
        name = f"omnipostr_ops_{uuid.uuid4().hex[:10]}"
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        scratch = Scratch("postgresql", PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, name=name, admin=admin)
    monkeypatch.setenv("OMNIPOSTR_DATABASE_URL", scratch.url)
    _reload()
    migrate.upgrade()
    try:
        yield scratch
    finally:
        db.reset_engine()
        if scratch.admin is not None:
            with scratch.admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch.name}" WITH (FORCE)'))
            scratch.admin.dispose()
        monkeypatch.undo()
        _reload()
