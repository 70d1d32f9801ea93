"""The audit log: sign-ins (and failed ones), password changes, copies of one's data and
consent choices are each recorded with their time and IP; nothing is ever changed; a person
sees only their own entries; entries go after ``audit_keep_days``; an erased account's
entries stay as evidence, without the person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from omnipostr import clock, db
from omnipostr.accounts import service as accounts
from omnipostr.accounts.settings_state import SecurityState
from omnipostr.audit import service as audit
from omnipostr.audit import tasks as _tasks  # noqa: F401 - registers the purge job
from omnipostr.audit.models import AuditEvent
from omnipostr.jobs import registry
from omnipostr.privacy import consent, erasure
from omnipostr.privacy import service as privacy
from omnipostr.settings import get_settings
from tests.accounts.helpers import PASSWORD, actor_for, sign_up
from tests.state_harness import call, substate, tab


def events(user_id: int | None = None) -> list[AuditEvent]:
    with db.session() as s:
        q = select(AuditEvent).order_by(col(AuditEvent.id))
        if user_id is not None:
            q = q.where(AuditEvent.actor_id == user_id)
        return list(s.exec(q).all())


def kinds(user_id: int) -> list[str]:
    return [e.kind for e in events(user_id)]


def test_sign_in_failed_sign_in_password_change_export_and_consent_are_recorded():
    ada = sign_up()
    with pytest.raises(accounts.AuthError):
        db.in_session(accounts.authenticate, "ada@example.com", "not the password", "198.51.100.7")
    with pytest.raises(accounts.AuthError):  # an address without an account: recorded, with no one
        db.in_session(accounts.authenticate, "nobody@example.com", "whatever", "198.51.100.8")
    db.in_session(accounts.authenticate, "ada@example.com", PASSWORD, "198.51.100.7")
    me = actor_for(ada.id)  # a session started from 10.0.0.1
    client = accounts.ClientInfo("10.0.0.2", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
    db.in_session(accounts.change_password, me, PASSWORD, "a new and longer passphrase", client)
    db.in_session(privacy.request_export, ada.id, ip="10.0.0.3")
    db.in_session(lambda s: consent.record(s, consent_id=None, user_id=ada.id, analytics=True, preferences=False))

    got = events(ada.id)
    assert [e.kind for e in got] == [
        "sign_in_failed", "sign_in", "password_changed", "export_requested", "consent_changed",
    ]
    by_kind = {e.kind: e for e in got}
    assert by_kind["sign_in_failed"].ip == "198.51.100.7"
    assert by_kind["sign_in"].ip == "10.0.0.1" and by_kind["sign_in"].target == f"session:{me.session_id}"
    assert by_kind["sign_in"].detail == {"method": "password"}
    assert by_kind["password_changed"].ip == "10.0.0.2"
    assert by_kind["export_requested"].ip == "10.0.0.3" and by_kind["export_requested"].target.startswith("export:")
    assert by_kind["consent_changed"].detail["analytics"] is True
    unknown = [e for e in events() if e.kind == "sign_in_failed" and e.actor_id is None]
    assert [e.ip for e in unknown] == ["198.51.100.8"]
    # never a password, an address or anything typed
    raw = repr([(e.target, e.ip, e.detail) for e in events()])
    assert "ada@example.com" not in raw and PASSWORD not in raw and "passphrase" not in raw


def test_the_log_is_append_only_and_holds_no_content_or_secret():
    ada = sign_up()
    actor_for(ada.id)
    with db.session() as s:
        row = s.exec(select(AuditEvent).where(AuditEvent.actor_id == ada.id)).first()
        row.ip = "192.0.2.1"
        s.add(row)
        with pytest.raises(ValueError, match="append-only"):
            s.flush()
        s.rollback()
    with db.session() as s:
        row = s.exec(select(AuditEvent).where(AuditEvent.actor_id == ada.id)).first()
        assert row.ip == "10.0.0.1"
        s.delete(row)
        with pytest.raises(ValueError, match="retention"):
            s.flush()
        s.rollback()
    with db.session() as s:
        for bad in ({"password": "x"}, {"api_key": "x"}, {"to": "ada@example.com"}, {"title": "x" * 65}, {"words": ["a"]}):
            with pytest.raises(ValueError):
                audit.record(s, "admin_action", actor_id=ada.id, **bad)
        with pytest.raises(ValueError, match="unknown"):
            audit.record(s, "made_up", actor_id=ada.id)


async def test_a_person_sees_only_their_own_recent_activity_on_the_security_page():
    ada, bob = sign_up(), sign_up(email="bob@example.com", name="Bob")
    with db.session() as s:
        ada_token, _ = accounts.start_session(s, s.get(accounts.User, ada.id), accounts.ClientInfo("203.0.113.5", "Firefox"))
    actor_for(bob.id)
    with pytest.raises(accounts.AuthError):
        db.in_session(accounts.authenticate, "bob@example.com", "wrong", "198.51.100.99")

    entries = db.in_session(audit.recent_for_user, ada.id)
    assert [(e.what, e.ip) for e in entries] == [("Signed in", "203.0.113.5")]
    assert {e.kind for e in db.in_session(audit.recent_for_user, bob.id)} == {"sign_in", "sign_in_failed"}

    t = tab(accounts.session_ref(ada_token), path="/settings/security")
    page = substate(t, SecurityState)
    await call(page, SecurityState.event_handlers["load"])
    assert [(a["what"], a["ip"]) for a in page.activity] == [("Signed in", "203.0.113.5")]
    assert "198.51.100.99" not in repr(page.activity)

    # at most 50, newest first
    with db.session() as s:
        for i in range(60):
            audit.record(s, "session_revoked", actor_id=ada.id, target=f"session:{i}")
    entries = db.in_session(audit.recent_for_user, ada.id)
    assert len(entries) == 50 and entries[0].at >= entries[-1].at


def test_entries_are_deleted_after_audit_keep_days_by_the_daily_job():
    ada = sign_up()
    actor_for(ada.id)
    keep = get_settings().audit_keep_days
    clock.advance(timedelta(days=keep - 1))
    actor_for(ada.id)  # a newer sign-in
    job = registry.get("audit.purge")
    assert job is not None
    assert job.func(db.session) == 0  # nothing is old enough yet
    clock.advance(timedelta(days=2))
    assert job.func(db.session) == 1
    assert kinds(ada.id) == ["sign_in"]
    clock.advance(timedelta(days=keep))
    assert job.func(db.session) == 1 and events() == []


def test_an_erased_account_leaves_its_entries_without_its_name_or_address():
    ada = sign_up()
    actor_for(ada.id)
    db.in_session(erasure.request_deletion, ada.id, password=PASSWORD, ip="10.9.9.9")
    assert kinds(ada.id)[-2:] == ["erasure_requested", "session_revoked"]
    db.in_session(erasure.erase_pending)
    rows = events()
    assert {e.kind for e in rows} >= {"sign_in", "erasure_requested", "erasure_done"}
    assert all(e.actor_id is None and e.ip == "" for e in rows)
