"""Backups of the database, and restoring one.

SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies the database in one
read transaction, so the copy is consistent while the app keeps writing; the copy is then
vacuumed (no pages of deleted rows) and made a single self-contained file. PostgreSQL:
``pg_dump --format=custom`` (a consistent snapshot too); restored with ``pg_restore --clean
--if-exists`` in one transaction. Both need nothing from the app but its database URL.

A backup is the database only: encrypted columns are ciphertext in it, as they are in the
database, and the keys (``keys_dir`` or ``OMNIPOSTR_ENCRYPTION_KEYS``) are never part of it.
Backups go to ``settings.backup_path`` (created owner-only) as
``omnipostr-<UTC time>.db`` or ``.dump``, each file 0600.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from omnipostr import clock, db
from omnipostr.audit import service as audit
from omnipostr.settings import get_settings

_NAME = re.compile(r"omnipostr-(\d{8}T\d{6}Z)(?:-(\d+))?\.(db|dump)")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PGDUMP_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why (never a password)."""


def kind_of(url: str) -> str:
    """``sqlite`` or ``postgresql``."""
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def safe_url(url: str) -> str:
    """The database URL as it may be shown: no password."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_path(url: str) -> Path:
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupError("only a SQLite database file can be backed up")
    return Path(path)


def _pg_command(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and an environment carrying it."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    dsn = u.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return dsn, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian package postgresql-client)")
    return path


def _run(args: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {proc.stderr.strip() or proc.returncode}")
    return proc.stdout


# --- the backup folder -----------------------------------------------------------------------


def folder(path: Path | None = None) -> Path:
    """The backup folder, created owner-only if it does not exist yet (an existing folder,
    e.g. one given with ``--to``, keeps its own permissions)."""
    path = Path(path) if path is not None else get_settings().backup_path
    if not path.exists():
        path.mkdir(parents=True, mode=0o700)
        path.chmod(0o700)  # whatever the umask
    return path


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _order(path: Path) -> tuple[str, int]:
    m = _NAME.fullmatch(path.name)
    return (m.group(1), int(m.group(2) or 1)) if m else ("", 0)


def backups(path: Path | None = None) -> list[Path]:
    """The backups in the folder, newest first (files named as :func:`make_backup` names them)."""
    path = Path(path) if path is not None else get_settings().backup_path
    if not path.is_dir():
        return []
    found = [p for p in path.iterdir() if p.is_file() and _NAME.fullmatch(p.name)]
    return sorted(found, key=_order, reverse=True)


def prune(keep: int, path: Path | None = None) -> list[Path]:
    """Delete all but the ``keep`` newest backups (and copies left half-written by a crash
    over a day ago). Returns what was deleted."""
    if keep < 1:
        raise ValueError("keep at least one backup")
    path = Path(path) if path is not None else get_settings().backup_path
    gone = backups(path)[keep:]
    if path.is_dir():
        day_ago = clock.now().timestamp() - 86400
        gone += [p for p in path.glob("omnipostr-*.partial") if p.stat().st_mtime < day_ago]
    for p in gone:
        p.unlink(missing_ok=True)
    return gone


def _new_file(target: Path, suffix: str) -> tuple[Path, Path]:
    """A free name for a new backup, and its half-written twin created empty, owner-only."""
    stamp = _stamp(clock.now())
    n = 1
    while True:
        name = f"omnipostr-{stamp}{'' if n == 1 else f'-{n}'}"
        final, partial = target / f"{name}.{suffix}", target / f"{name}.partial"
        if not final.exists():
            try:
                fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                n += 1
                continue
            os.close(fd)
            return final, partial
        n += 1


# --- making one ------------------------------------------------------------------------------


def make_backup(to: Path | None = None, *, url: str | None = None) -> Path:
    """Back the database up into a new file in ``to`` (default: the backup folder). Returns
    the file. The file appears under its name only once complete."""
    url = url or get_settings().db_url
    kind = kind_of(url)
    target = folder(to)
    final, partial = _new_file(target, "db" if kind == "sqlite" else "dump")
    try:
        if kind == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
        else:
            dsn, env = _pg_command(url)
            _run([_tool("pg_dump"), "--format=custom", "--file", str(partial), "--dbname", dsn], env)
        partial.chmod(0o600)
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return final


def _sqlite_backup(source: Path, out: Path) -> None:
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(out)
        try:
            src.backup(dst)  # all pages in one step: one read transaction, a consistent copy
            dst.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
            dst.execute("VACUUM")  # no free pages: nothing of deleted rows is carried along
            if (check := dst.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
                raise BackupError(f"the copy failed its check: {check}")
        finally:
            dst.close()
    finally:
        src.close()


# --- restoring one ---------------------------------------------------------------------------


def backup_kind(file: Path) -> str:
    """``sqlite`` or ``postgresql``, from the file's first bytes."""
    with open(file, "rb") as f:
        head = f.read(16)
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(_PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{file} is neither a SQLite backup nor a pg_dump archive")


@dataclasses.dataclass
class Summary:
    """What a database (or a backup) holds, as far as it can be told without decrypting."""

    where: str
    exists: bool = True
    users: int | None = None
    generations: int | None = None
    schema: str | None = None  # alembic revision
    made_at: str | None = None
    size: int | None = None
    key_ids: set[str] = dataclasses.field(default_factory=set)
    running: str = ""  # the app process holding the job lease, if one does now
    note: str = ""

    def describe(self) -> str:
        if not self.exists:
            return f"{self.where}  (does not exist)"
        bits = []
        if self.made_at:
            bits.append(f"made {self.made_at}")
        if self.size is not None:
            bits.append(f"{self.size / 1e6:.1f} MB")
        if self.users is not None:
            bits.append(f"{self.users} users, {self.generations} generations")
        if self.schema:
            bits.append(f"schema {self.schema}")
        if self.note:
            bits.append(self.note)
        elif self.users is None and self.schema is None and self.size is None:
            bits.append("empty: no OmniPostr tables")
        return f"{self.where}  ({'; '.join(bits)})" if bits else self.where


def _count(engine: sa.Engine, out: Summary, *, keys: bool, lease: bool) -> None:
    insp = sa.inspect(engine)
    with engine.connect() as c:
        if insp.has_table("users"):
            out.users = c.execute(sa.text("SELECT count(*) FROM users")).scalar_one()
        if insp.has_table("generations"):
            out.generations = c.execute(sa.text("SELECT count(*) FROM generations")).scalar_one()
        if insp.has_table("alembic_version"):
            out.schema = c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    if lease and insp.has_table("job_leases"):
        from sqlmodel import Session

        from omnipostr.jobs.service import lease_status

        with Session(engine) as s:
            lease = lease_status(s)
        out.running = lease.holder or "" if lease.active else ""
    if keys:
        from omnipostr.ops.keys import sample_key_ids

        out.key_ids = sample_key_ids(engine)


def summarize_database(url: str | None = None, *, keys: bool = False) -> Summary:
    """Counts of the database at ``url`` (the configured one by default)."""
    url = url or get_settings().db_url
    out = Summary(safe_url(url))
    if kind_of(url) == "sqlite" and not _sqlite_path(url).exists():
        out.exists = False
        return out
    engine = sa.create_engine(url)
    try:
        _count(engine, out, keys=keys, lease=True)
    except sa.exc.SQLAlchemyError as e:
        out.note = f"could not be read: {type(e.orig or e).__name__}"
    finally:
        engine.dispose()
    return out


def summarize_backup(file: Path) -> Summary:
    """What a backup file holds: counts, schema and keys of a SQLite backup; the time a
    pg_dump archive was made."""
    file = Path(file)
    if not file.is_file():
        raise BackupError(f"there is no backup at {file}")
    kind = backup_kind(file)
    out = Summary(str(file), size=file.stat().st_size)
    out.made_at = datetime.fromtimestamp(file.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
    if kind == "sqlite":
        engine = sa.create_engine(f"sqlite:///file:{file.resolve()}?mode=ro&uri=true")
        try:
            _count(engine, out, keys=True, lease=False)
        finally:
            engine.dispose()
    else:
        listing = _run([_tool("pg_restore"), "--list", str(file)], dict(os.environ))
        if m := re.search(r"Archive created at (.+)", listing):
            out.made_at = m.group(1).strip()
        out.note = "pg_dump archive"
    return out


def restore(file: Path, *, url: str | None = None) -> None:
    """Replace the database at ``url`` (the configured one) with the backup ``file``. Every
    app process must be stopped first. The schema is the backup's: run the migrations after."""
    file = Path(file)
    url = url or get_settings().db_url
    kind, backup = kind_of(url), backup_kind(file)
    if kind != backup:
        raise BackupError(f"{file} is a {backup} backup; the database is {kind}")
    from omnipostr import db

    db.reset_engine()  # this process's connections go before the database changes under them
    if kind == "sqlite":
        _sqlite_restore(file, _sqlite_path(url))
    else:
        dsn, env = _pg_command(url)
        _run([
            _tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
            "--single-transaction", "--dbname", dsn, str(file),
        ], env)


def _sqlite_restore(file: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{file.resolve()}?mode=ro", uri=True)
    try:
        if (check := src.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
            raise BackupError(f"{file} is damaged: {check}")
        if src.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone() is None:
            raise BackupError(f"{file} is not an OmniPostr database")
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)  # page by page into the database file, under SQLite's own locks
        finally:
            dst.close()
    finally:
        src.close()


def record(kind: str, **detail) -> None:
    """Note an operation in the audit log (``backup``, ``key_rotation``): when, and how much."""
    with db.session() as s:
        audit.record(s, kind, actor_id=None, **detail)
        s.commit()
