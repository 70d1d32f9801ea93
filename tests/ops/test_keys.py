"""SEC-2: content keys rotate. Everything written under key 1 is re-encrypted under key 2 in
resumable batches, key 1 is then removed from the keys folder and every row still reads;
sign-in by address (blind index) and search (keyed index) are untouched; a value under a key
that is not configured fails loudly, naming the key."""

from __future__ import annotations

import stat
from collections import Counter

import pytest
import sqlalchemy as sa

from omnipostr import crypto, db
from omnipostr.__main__ import main
from omnipostr.ops import keys
from tests.ops.helpers import read_posts, search, seed


def _raw_values() -> list[tuple[str, str, object]]:
    """Every encrypted value in the database, as stored: (table.column, key label, value)."""
    out = []
    with db.engine().connect() as c:
        for et in keys.encrypted_tables():
            t = et.table()
            for name in et.columns:
                for (value,) in c.execute(sa.select(t.c[name]).where(t.c[name].is_not(None))):
                    out.append((f"{et.name}.{name}", crypto.label_of(value), value))
    return out


def _by_key() -> Counter:
    return Counter(k for r in keys.status() for k, n in r.by_key.items() for _ in range(n))


def _all_readable() -> None:
    for where, _, value in _raw_values():
        opened = crypto.unseal(value) if isinstance(value, bytes) else crypto.decrypt(value)
        assert opened is not None, where


def _seal_an_export(user_email_index: str) -> None:
    """A ready data export: its archive is sealed bytes, not a ContentText column."""
    from sqlmodel import select

    from omnipostr.accounts.models import User
    from omnipostr.privacy.models import DataExport

    with db.session() as s:
        user = s.exec(select(User).where(User.email_index == user_email_index)).one()
        s.add(DataExport(user_id=user.id, status="ready", archive=crypto.seal(b"zip"), size=3))


@pytest.mark.promise("SEC-2")
async def test_rotation_reencrypts_everything_and_the_old_key_can_be_dropped(own_keys, capsys):
    seeded = await seed()
    _seal_an_export(seeded.email_index)
    first = crypto.newest_key_id()
    before = _by_key()
    assert set(before) == {first} and before[first] > 20
    with db.engine().connect() as c:
        indexes = c.execute(sa.text("SELECT id, email_index FROM users ORDER BY id")).all()

    assert main(["keys", "new"]) == 0
    assert "is now the newest key" in capsys.readouterr().out
    second = crypto.newest_key_id()
    assert second != first and crypto.key_ids() == [second, first]
    new_file = own_keys / "content-2.key"
    assert stat.S_IMODE(new_file.stat().st_mode) == 0o600
    assert read_posts(seeded.email, seeded.generation_id) == seeded.posts  # both keys read

    assert main(["keys", "status"]) == 0
    out = capsys.readouterr().out
    assert "users.email" in out and "data_exports.archive" in out and f"{before[first]} values are under older keys" in out

    assert main(["keys", "rotate", "--batch", "3"]) == 0
    out = capsys.readouterr().out
    assert f"re-encrypting under key {second}" in out and "users: 1/1 rows (100%)" in out and "remov" in out
    after = _by_key()
    assert set(after) == {second} and after[second] == before[first]
    assert {label for _, label, _ in _raw_values()} == {second}

    (own_keys / "content.key").unlink()  # the old key is gone
    crypto.reset_keys()
    assert crypto.key_ids() == [second]
    _all_readable()
    assert read_posts(seeded.email, seeded.generation_id) == seeded.posts  # signs in by address and reads
    assert search(seeded.email, "lanterns") == [seeded.generation_id]  # the keyed search index is untouched
    with db.engine().connect() as c:
        assert c.execute(sa.text("SELECT id, email_index FROM users ORDER BY id")).all() == indexes
        archive = c.execute(sa.text("SELECT archive FROM data_exports")).scalar_one()
    assert crypto.unseal(archive) == b"zip"

    assert main(["keys", "status"]) == 0
    assert "Every value is under the newest key." in capsys.readouterr().out


@pytest.mark.promise("SEC-2")
async def test_rotation_is_resumable_and_a_crash_leaves_every_row_readable(own_keys, monkeypatch):
    seeded = await seed()
    await seed("linus@example.com")
    first = crypto.newest_key_id()
    total = _by_key()[first]
    crypto.add_key()
    second = crypto.newest_key_id()

    # stopped after one batch (of two rows): those rows are done, the others wait
    part = keys.rotate(batch=2, max_batches=1)
    assert part.stopped and part.batches == 1 and part.rows == 2 and part.remaining > 0
    mid = _by_key()
    assert mid[second] > 0 and mid[first] > 0 and mid[first] + mid[second] == total
    _all_readable()

    # a crash in the middle of a batch: that batch is rolled back, nothing is lost
    calls = {"n": 0, "committed": 0}
    real = crypto.reencrypt

    def dies_on_the_tenth(token):
        calls["n"] += 1
        if calls["n"] == 10:
            raise RuntimeError("the process died")
        return real(token)

    def committed(p: keys.Progress) -> None:  # called after each batch's commit
        calls["committed"] = calls["n"]

    monkeypatch.setattr(crypto, "reencrypt", dies_on_the_tenth)
    with pytest.raises(RuntimeError, match="died"):
        keys.rotate(batch=50, progress=committed)
    monkeypatch.setattr(crypto, "reencrypt", real)
    assert calls["n"] - 1 > calls["committed"]  # it died with values of its batch re-encrypted in memory
    crashed = _by_key()
    assert crashed[second] == mid[second] + calls["committed"] and crashed[first] == mid[first] - calls["committed"]
    _all_readable()

    # run again: it carries on to the end
    rest = keys.rotate(batch=2)
    assert not rest.stopped and rest.remaining == 0 and rest.values + part.values + calls["committed"] == total
    assert _by_key() == Counter({second: total})
    assert keys.rotate().rows == 0  # nothing left to do
    (own_keys / "content.key").unlink()
    crypto.reset_keys()
    _all_readable()
    assert read_posts(seeded.email, seeded.generation_id) == seeded.posts


@pytest.mark.promise("SEC-2")
async def test_a_value_under_a_key_that_is_not_configured_fails_loudly(own_keys, capsys):
    seeded = await seed()
    lost = crypto.newest_key_id()
    crypto.add_key()
    (own_keys / "content.key").unlink()  # dropped before rotating: a mistake
    crypto.reset_keys()

    with pytest.raises(crypto.UnknownKeyError, match=lost) as err:
        read_posts(seeded.email, seeded.generation_id)
    assert err.value.key_id == lost

    with pytest.raises(crypto.UnknownKeyError, match=lost) as err:
        keys.rotate()
    assert any("nothing of this batch was written" in n for n in err.value.__notes__)
    assert main(["keys", "rotate"]) == 1
    assert lost in capsys.readouterr().err

    assert main(["keys", "status"]) == 1
    out = capsys.readouterr().out
    assert f"are under keys that are not configured ({lost})" in out

    # an older, unlabelled token under a key that is gone: no key is named, still an error
    from cryptography.fernet import Fernet

    stray = Fernet(Fernet.generate_key()).encrypt(b"secret").decode()
    with pytest.raises(crypto.UnknownKeyError, match="none of the configured keys"):
        crypto.decrypt(stray)
    # and an altered token under a configured key is refused, not read as something else
    good = crypto.encrypt("hello")
    with pytest.raises(ValueError, match="integrity"):
        crypto.decrypt(good[:-6] + ("A" if good[-6] != "A" else "B") + good[-5:])


@pytest.mark.promise("SEC-2")
async def test_older_unlabelled_tokens_are_counted_by_their_key_and_rotated(own_keys):
    seeded = await seed()
    first = crypto.newest_key_id()
    older = crypto._fernet().encrypt(b"Grace Older").decode()  # as written before key labels
    with db.engine().begin() as c:
        c.execute(sa.text("UPDATE users SET name = :n WHERE email_index = :e"), {"n": older, "e": seeded.email_index})
    users = next(r for r in keys.status() if (r.table, r.column) == ("users", "name"))
    assert users.by_key == {first: 1}

    crypto.add_key()
    keys.rotate()
    assert {label for _, label, _ in _raw_values()} == {crypto.newest_key_id()}
    (own_keys / "content.key").unlink()
    crypto.reset_keys()
    with db.engine().connect() as c:
        name = c.execute(sa.text("SELECT name FROM users")).scalar_one()
    assert crypto.decrypt(name) == "Grace Older"


def test_a_row_edited_while_it_is_rotated_keeps_the_edit(own_keys, monkeypatch):
    from tests.accounts.helpers import sign_up

    sign_up(email="ada@example.com", name="Ada Before")
    crypto.add_key()
    real = crypto.reencrypt

    def edit_meanwhile(token):
        out = real(token)
        with db.engine().begin() as c:  # another process saves a new name under the newest key
            c.execute(sa.text("UPDATE users SET name = :n"), {"n": crypto.encrypt("Ada After")})
        return out

    monkeypatch.setattr(crypto, "reencrypt", edit_meanwhile)
    result = keys.rotate(batch=500)
    monkeypatch.setattr(crypto, "reencrypt", real)
    assert result.changed_meanwhile >= 1
    with db.engine().connect() as c:
        assert crypto.decrypt(c.execute(sa.text("SELECT name FROM users")).scalar_one()) == "Ada After"


def test_keys_given_in_the_environment_get_a_new_key_to_put_first(own_keys, monkeypatch, capsys):
    from cryptography.fernet import Fernet

    from omnipostr.settings import reset_settings

    monkeypatch.setenv("OMNIPOSTR_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    reset_settings()
    crypto.reset_keys()
    assert main(["keys", "new"]) == 0
    out = capsys.readouterr().out
    assert "OMNIPOSTR_ENCRYPTION_KEYS" in out and "its key id will be" in out
    assert not own_keys.exists()  # nothing written
    with pytest.raises(RuntimeError, match="OMNIPOSTR_ENCRYPTION_KEYS"):
        crypto.add_key()


def test_every_binary_column_is_known_to_rotation():
    """A binary column holding sealed bytes is not found by its type: each one is listed in
    ``ops.keys.SEALED_COLUMNS`` (or here, as holding nothing sealed)."""
    from sqlmodel import SQLModel

    import omnipostr.tables  # noqa: F401

    not_sealed: set[tuple[str, str]] = set()
    binary = {
        (t.name, c.name) for t in SQLModel.metadata.sorted_tables for c in t.columns
        if isinstance(c.type, sa.LargeBinary)
    }
    listed = {(t, c) for t, cols in keys.SEALED_COLUMNS.items() for c in cols}
    assert binary - not_sealed == listed, "list sealed binary columns in omnipostr/ops/keys.py SEALED_COLUMNS"
