"""SEC-4: a backup command (SQLite online backup / pg_dump), a scheduled backup job that keeps
a number of copies, and a restore that is tested: backup, wipe, restore, and the member signs
in with their password and reads their posts. A backup holds ciphertext only, and no keys."""

from __future__ import annotations

import shutil
import stat
import subprocess
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from omnipostr import clock, db, jobs
from omnipostr.__main__ import main
from omnipostr.audit.models import AuditEvent
from omnipostr.jobs import registry
from omnipostr.ops import backup
from omnipostr.settings import get_settings, reset_settings
from tests.ops.helpers import MARKER, read_posts, search, seed


@pytest.mark.promise("SEC-4")
async def test_backup_wipe_restore_and_the_member_signs_in_and_reads_their_posts(scratch_db, tmp_path, capsys):
    seeded = await seed()
    assert seeded.posts["x"] == f"{MARKER} harbour lanterns, said once more."

    assert main(["backup", "--to", str(tmp_path / "backups")]) == 0
    out = capsys.readouterr().out
    assert "backup written" in out and "keys are not in it" in out
    [made] = backup.backups(tmp_path / "backups")
    assert made.suffix == (".db" if scratch_db.kind == "sqlite" else ".dump")
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "backups").stat().st_mode) == 0o700

    scratch_db.wipe()
    assert scratch_db.kind != "sqlite" or not scratch_db.path.exists()
    with pytest.raises(Exception):  # noqa: B017 - gone: no table, no user
        read_posts(seeded.email, seeded.generation_id)
    db.reset_engine()

    # without --yes nothing happens, and it says what it would replace
    assert main(["restore", str(made)]) == 2
    out = capsys.readouterr().out
    assert "This replaces the database" in out and str(made) in out and "--yes" in out
    if scratch_db.kind == "sqlite":
        assert "1 users, 1 generations" in out  # what the backup holds

    assert main(["restore", str(made), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "restored" in out and "WARNING" not in out

    assert read_posts(seeded.email, seeded.generation_id) == seeded.posts
    assert search(seeded.email, "lanterns") == [seeded.generation_id]  # the search index came back too


@pytest.mark.promise("SEC-4")
@pytest.mark.promise("SEC-2")
async def test_a_backup_holds_ciphertext_and_no_keys(scratch_db, tmp_path):
    seeded = await seed()
    made = backup.make_backup(tmp_path)
    raw = made.read_bytes()
    if scratch_db.kind == "postgresql":
        # a custom-format archive is compressed: read what it would restore, as SQL text
        tool = shutil.which("pg_restore")
        raw += subprocess.run([tool, "--file=-", str(made)], capture_output=True, check=True).stdout  # noqa: S603
    assert seeded.email_index.encode() in raw  # the data is there, and readable as stored
    for plain in (MARKER, "harbour lanterns", seeded.email, "Grace", "3.4 times"):
        assert plain.lower().encode() not in raw.lower(), plain
    cfg = get_settings()
    for key in (*cfg.fernet_keys(), cfg.signing_key().decode()):
        assert key.encode() not in raw


@pytest.mark.promise("SEC-4")
def test_the_backup_job_runs_daily_and_keeps_the_newest_copies(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIPOSTR_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setenv("OMNIPOSTR_BACKUP_KEEP", "3")
    reset_settings()
    try:
        registry.discover()
        trigger = str(registry.get("ops.backup").make_trigger())
        assert "hour='2'" in trigger and "minute='30'" in trigger and "day='*'" in trigger
        stamps = []
        for _ in range(5):
            run = jobs.run_now("ops.backup")
            assert run.outcome == "ok", run.error
            stamps.append(backup._stamp(clock.now()))
            clock.advance(timedelta(days=1))
        kept = backup.backups(tmp_path / "backups")
        # the three newest, newest first (by day: a run may end in the next second)
        assert [backup._order(p)[0][:8] for p in kept] == [s[:8] for s in stamps[:1:-1]]
        assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == sorted(p.name for p in kept)
        with db.session() as s:  # each one is in the audit log
            assert len(s.exec(select(AuditEvent).where(AuditEvent.kind == "backup")).all()) == 5
    finally:
        monkeypatch.undo()
        reset_settings()


def test_a_bad_backup_schedule_fails_at_start(monkeypatch):
    from pydantic import ValidationError

    from omnipostr.settings import Settings

    monkeypatch.setenv("OMNIPOSTR_BACKUP_CRON", "every night")
    with pytest.raises(ValidationError, match="backup_cron"):
        Settings()


def test_two_backups_in_one_second_both_keep_their_file(tmp_path):
    first, second = backup.make_backup(tmp_path), backup.make_backup(tmp_path)
    assert first != second and backup.backups(tmp_path) == [second, first]
    assert not list(tmp_path.glob("*.partial"))


def test_restore_refuses_what_is_not_a_backup_of_this_database(tmp_path, capsys):
    junk = tmp_path / "omnipostr-20260101T000000Z.db"
    junk.write_bytes(b"not a database at all")
    assert main(["restore", str(junk), "--yes"]) == 1
    assert "neither a SQLite backup nor a pg_dump archive" in capsys.readouterr().err

    other = tmp_path / "other.db"
    with sa.create_engine(f"sqlite:///{other}").begin() as c:
        c.execute(sa.text("CREATE TABLE t (x)"))
    if db.is_postgres():
        with pytest.raises(backup.BackupError, match="is a sqlite backup; the database is postgresql"):
            backup.restore(other)
    else:
        with pytest.raises(backup.BackupError, match="not an OmniPostr database"):
            backup.restore(other)
