"""Test set-up shared by every non-browser test.

Each run gets its own data directory and database: a SQLite file by default, or a fresh
PostgreSQL database when ``OMNIPOSTR_TEST_DATABASE_URL`` names a server (``.ci/run`` does).
The schema is built once by the real migrations; every test starts from empty tables and a
clock at the real time.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="omnipostr-test-"))
os.environ["OMNIPOSTR_ENV"] = "test"
os.environ["OMNIPOSTR_DATA_DIR"] = str(_TMP)
os.environ["OMNIPOSTR_KEYS_DIR"] = str(_TMP / "keys")
os.environ["OMNIPOSTR_SECRET_KEY"] = secrets.token_urlsafe(32)
os.environ.setdefault("OMNIPOSTR_JOBS_ENABLED", "false")
os.environ["OMNIPOSTR_SMTP_HOST"] = ""
os.environ.pop("ANTHROPIC_API_KEY", None)
os.environ.pop("OMNIPOSTR_ANTHROPIC_API_KEY", None)

_PG_ADMIN_URL = os.environ.get("OMNIPOSTR_TEST_DATABASE_URL", "")
_PG_DB = ""
if _PG_ADMIN_URL:
    import sqlalchemy as sa

    _PG_DB = f"omnipostr_test_{uuid.uuid4().hex[:10]}"
    _admin = sa.create_engine(_PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with _admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{_PG_DB}"'))
    _admin.dispose()
    os.environ["OMNIPOSTR_DATABASE_URL"] = _PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + _PG_DB
else:
    os.environ["OMNIPOSTR_DATABASE_URL"] = f"sqlite:///{_TMP / 'test.db'}"

from sqlalchemy import text  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from omnipostr import clock, crypto, db, migrate  # noqa: E402
from omnipostr.settings import reset_settings  # noqa: E402

reset_settings()
crypto.reset_keys()
db.reset_engine()
migrate.upgrade()


def _tables() -> list[str]:
    import omnipostr.tables  # noqa: F401

    return [t.name for t in reversed(SQLModel.metadata.sorted_tables)]


def _wipe() -> None:
    names = _tables()
    with db.engine().begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
        else:
            for n in names:
                conn.execute(text(f'DELETE FROM "{n}"'))


@pytest.fixture(autouse=True)
def _fresh_state():
    """Every test starts with empty tables, the real time and no rate-limit counters."""
    from omnipostr.accounts import ratelimit

    _wipe()
    clock.reset()
    ratelimit.reset()
    yield
    clock.reset()


@pytest.fixture
def session():
    with db.session() as s:
        yield s


def pytest_sessionfinish(session, exitstatus):
    db.reset_engine()
    if _PG_DB:
        import sqlalchemy as sa

        admin = sa.create_engine(_PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{_PG_DB}" WITH (FORCE)'))
        admin.dispose()
    shutil.rmtree(_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def anthropic_server():
    """The loopback Anthropic API, answering at once (tests that time things set knobs)."""
    from fakes.anthropic_server import FakeAnthropic

    with FakeAnthropic(ttft=0.0) as fake:
        yield fake


@pytest.fixture
def fake(anthropic_server):
    """The loopback Anthropic API with no faults, no cache and an empty request log."""
    anthropic_server.reset()
    yield anthropic_server
    anthropic_server.reset()
