"""API keys (API-1): shown once, kept only as a keyed hash with a visible prefix, scoped,
revocable, with the time each was last used; made and revoked by owners and admins, for
their own workspace only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from omnipostr import clock, db
from omnipostr.accounts import service as accounts
from omnipostr.api import keys
from omnipostr.api.models import ApiKey
from omnipostr.privacy import erasure
from tests.accounts.helpers import PASSWORD
from tests.api.helpers import key_for, owner, teammate


@pytest.mark.promise("API-1")
def test_a_key_is_shown_once_and_the_database_holds_no_usable_key_text():
    ada = owner()
    whole = key_for(ada)
    assert whole.startswith("op_") and len(whole) > 50
    with db.session() as s:
        row = s.exec(select(ApiKey)).one()
        assert whole.startswith(row.prefix + "_")
        assert row.key_hash != whole and len(row.key_hash) == 64
        dump = " ".join(str(v) for v in s.connection().execute(text("SELECT * FROM api_keys")).one())
    secret = whole.split("_", 2)[2]
    assert secret not in dump  # no column holds the key, whole or in part beyond its prefix
    assert "Our CMS" not in dump  # the name is encrypted as every user-written field
    listed = db.in_session(keys.list_keys, ada)
    assert [(k.name, k.prefix, k.scopes) for k in listed] == [("Our CMS", row.prefix, ["generations:read", "generations:write"])]
    assert not any(secret in str(v) for k in listed for v in vars(k).values())


@pytest.mark.promise("API-1")
def test_a_revoked_key_is_refused_and_last_use_is_recorded():
    ada = owner()
    whole = key_for(ada)
    caller = db.in_session(keys.authenticate, whole)
    assert caller.actor.workspace_id == ada.workspace_id and caller.actor.user_id == ada.user_id
    assert db.in_session(keys.list_keys, ada)[0].last_used_at is not None
    (view,) = db.in_session(keys.list_keys, ada)
    assert db.in_session(keys.revoke_key, ada, view.id) is True
    assert db.in_session(keys.authenticate, whole) is None
    assert db.in_session(keys.revoke_key, ada, view.id) is False  # once
    assert db.in_session(keys.list_keys, ada) == []


def test_last_use_is_written_at_most_once_a_minute():
    ada = owner()
    whole = key_for(ada)
    db.in_session(keys.authenticate, whole)
    first = db.in_session(keys.list_keys, ada)[0].last_used_at
    clock.advance(timedelta(seconds=30))
    db.in_session(keys.authenticate, whole)
    assert db.in_session(keys.list_keys, ada)[0].last_used_at == first
    clock.advance(timedelta(seconds=31))
    db.in_session(keys.authenticate, whole)
    assert db.in_session(keys.list_keys, ada)[0].last_used_at > first


def test_forged_and_malformed_keys_are_refused():
    ada = owner()
    whole = key_for(ada)
    prefix = "_".join(whole.split("_", 2)[:2])  # op_<8 hex>: the secret may hold "_"
    for bad in ("", "op_", whole[:-1], whole + "x", whole[:-1] + ("A" if whole[-1] != "A" else "B"),
                prefix + "_" + "A" * 43, "Bearer " + whole, whole.upper()):
        assert db.in_session(keys.authenticate, bad) is None, bad


def test_only_owners_and_admins_manage_keys_and_only_in_their_workspace():
    ada = owner()
    bob = teammate(ada)
    with pytest.raises(keys.KeyRefused, match="owner and admins"):
        db.in_session(keys.create_key, bob, "Mine", ["generations:read"])
    with pytest.raises(keys.KeyRefused):
        db.in_session(keys.list_keys, bob)
    key_for(ada)
    (view,) = db.in_session(keys.list_keys, ada)
    with pytest.raises(keys.KeyRefused):
        db.in_session(keys.revoke_key, bob, view.id)
    eve = owner("eve@example.com", team="Eve's")
    assert db.in_session(keys.list_keys, eve) == []
    assert db.in_session(keys.revoke_key, eve, view.id) is False  # not hers: nothing happens
    assert len(db.in_session(keys.list_keys, ada)) == 1


def test_a_key_stops_when_its_member_leaves_or_their_account_is_being_deleted():
    ada = owner()
    cleo = teammate(ada, "cleo@example.com", role="admin")
    key = key_for(cleo)
    assert db.in_session(keys.authenticate, key).actor.role == "admin"
    db.in_session(accounts.remove_member, ada, cleo.user_id)
    assert db.in_session(keys.authenticate, key) is None

    mine = key_for(ada)
    db.in_session(erasure.request_deletion, ada.user_id, password=PASSWORD)
    assert db.in_session(keys.authenticate, mine) is None


def test_bad_requests_get_a_clear_message_and_make_nothing():
    ada = owner()
    for name, scopes, field, words in (
        ("", ["generations:read"], "name", "Give the key a name"),
        ("x" * 81, ["generations:read"], "name", "at most 80"),
        ("CMS", [], "scopes", "Choose what the key may do"),
        ("CMS", ["admin"], "scopes", "no scope called 'admin'"),
    ):
        with pytest.raises(keys.KeyRefused) as e:
            db.in_session(keys.create_key, ada, name, scopes)
        assert e.value.field == field and words in e.value.message
    free = owner("fay@example.com", plan="free", team="Fay's")
    with pytest.raises(keys.KeyRefused, match="not part of this workspace's plan"):
        db.in_session(keys.create_key, free, "CMS", ["generations:read"])
    with db.session() as s:
        assert s.exec(select(ApiKey)).all() == []


def test_a_workspace_keeps_at_most_twenty_live_keys():
    ada = owner()
    for i in range(keys.MAX_KEYS):
        key_for(ada, name=f"Key {i}")
    with pytest.raises(keys.KeyRefused, match="at most 20 keys"):
        key_for(ada, name="One more")
    first = db.in_session(keys.list_keys, ada)[-1]
    db.in_session(keys.revoke_key, ada, first.id)
    key_for(ada, name="One more")


def test_deleting_the_account_deletes_its_keys_and_revoked_keys_go_after_the_token_period():
    from omnipostr.retention import service as retention

    ada = owner()
    key_for(ada, name="Old")
    key_for(ada, name="Live")
    old = [k for k in db.in_session(keys.list_keys, ada) if k.name == "Old"][0]
    db.in_session(keys.revoke_key, ada, old.id)
    clock.advance(timedelta(days=31))
    counts = db.in_session(retention.purge_tokens)
    assert counts.parts["api_keys"] == 1
    with db.session() as s:
        assert [r.name for r in s.exec(select(ApiKey)).all()] == ["Live"]
    db.in_session(erasure.request_deletion, ada.user_id, password=PASSWORD)
    assert db.in_session(erasure.erase_account, ada.user_id)
    with db.session() as s:
        assert s.exec(select(ApiKey)).all() == []
