from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from omnipostr import clock, db
from omnipostr.accounts import service
from omnipostr.accounts.models import (
    AuthSession,
    Membership,
    OAuthIdentity,
    PolicyAcceptance,
    User,
    Workspace,
)
from omnipostr.settings import get_settings
from tests.accounts.helpers import PASSWORD, actor_for, link_token, mails, sign_up

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"


def count(model) -> int:
    with db.session() as s:
        return len(s.exec(select(model)).all())


# --- sign-up ------------------------------------------------------------------------------


@pytest.mark.promise("ACC-1", "KID-1")
def test_sign_up_creates_user_workspace_membership_and_policy_acceptance():
    user = sign_up(verify=False)
    with db.session() as s:
        u = s.get(User, user.id)
        assert (u.name, u.email) == ("Ada Lovelace", "ada@example.com")
        assert u.age_confirmed_at is not None and u.email_verified_at is None
        ws = s.exec(select(Workspace).where(Workspace.owner_id == u.id)).one()
        assert ws.name == "Analytical Engines"
        m = s.exec(select(Membership).where(Membership.user_id == u.id)).one()
        assert (m.workspace_id, m.role) == (ws.id, "owner")
        acc = s.exec(select(PolicyAcceptance).where(PolicyAcceptance.user_id == u.id)).one()
        assert acc.version == get_settings().privacy_policy_version
    assert [m.kind for m in mails("ada@example.com")] == ["verify_email"]


@pytest.mark.promise("ACC-2", "SEC-3")
def test_password_is_stored_only_as_argon2id_hash():
    sign_up(password="purple monkey dishwasher 42")
    with db.engine().connect() as c:
        rows = c.execute(text("SELECT password_hash FROM users")).all()
        dump = " ".join(str(r) for t in ("users", "auth_tokens", "outbox_messages", "sessions")
                        for r in c.execute(text(f"SELECT * FROM {t}")).all())
    assert rows[0][0].startswith("$argon2id$")
    assert "purple monkey dishwasher" not in dump
    from omnipostr.accounts.passwords import verify_password
    assert verify_password(rows[0][0], "purple monkey dishwasher 42")


@pytest.mark.promise("ACC-3")
def test_sign_up_with_a_known_address_answers_the_same_and_creates_nothing():
    sign_up()
    users, workspaces = count(User), count(Workspace)
    result = sign_up(name="Mallory", team="Evil Corp", verify=False)
    assert result is None  # the caller shows the same "check your email" answer
    assert (count(User), count(Workspace)) == (users, workspaces)
    assert mails("ada@example.com")[-1].kind == "account_exists"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"email": ""}, "email", "required"),
        ({"password": "short"}, "password", "at least 10"),
        ({"password": "password123"}, "password", "common"),
        ({"password": "bob@example.com"}, "password", "email"),
        ({"password": "aaaaaaaaaaaaaa"}, "password", "repeats"),
        ({"name": "x" * 10_000}, "name", "at most 100"),
        ({"name": "   "}, "name", "required"),
        ({"team": ""}, "team", "required"),
        ({"age_confirmed": False}, "age", "16 or older"),
        ({"policy_accepted": False}, "policy", "privacy policy"),
    ],
)
@pytest.mark.promise("KID-1")
def test_bad_sign_up_input_gets_a_clear_message_and_creates_nothing(changes, field, words):
    base = {"email": "bob@example.com", "name": "Bob", "team": "Bob's team", "password": PASSWORD}
    base.update(changes)
    with pytest.raises(service.InputError) as e:
        sign_up(verify=False, **base)
    assert e.value.field == field
    assert words in e.value.message
    assert count(User) == 0 and count(Workspace) == 0 and mails() == []


def test_html_in_every_field_is_kept_as_text():
    evil = "<script>alert(1)</script><b>x</b>"
    user = sign_up(name=evil, team=evil, email="eve@example.com")
    with db.session() as s:
        assert s.get(User, user.id).name == evil
        assert s.exec(select(Workspace)).one().name == evil
    html = mails("eve@example.com", "verify_email")[0].html_body
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_email_is_normalised_to_lower_case():
    sign_up(email="Ada@Example.COM")
    assert count(User) == 1
    assert sign_up(email="ada@example.com", verify=False) is None


# --- confirmation ---------------------------------------------------------------------------


def test_confirmation_link_is_single_use_and_expires():
    sign_up(email="a@example.com", verify=False)
    token = link_token("a@example.com", "verify_email")
    user = db.in_session(service.confirm_email, token)
    assert user.email_verified_at is not None
    with pytest.raises(service.AuthError):
        db.in_session(service.confirm_email, token)

    sign_up(email="b@example.com", verify=False)
    token = link_token("b@example.com", "verify_email")
    clock.advance(timedelta(hours=get_settings().verify_token_hours, minutes=1))
    with pytest.raises(service.AuthError) as e:
        db.in_session(service.confirm_email, token)
    assert "expired" in e.value.message


# --- sign-in and throttling ----------------------------------------------------------------


@pytest.mark.promise("ACC-3")
def test_wrong_password_and_unknown_address_get_the_same_answer(ada):
    with pytest.raises(service.AuthError) as wrong:
        db.in_session(service.authenticate, "ada@example.com", "not the password", "1.2.3.4")
    with pytest.raises(service.AuthError) as unknown:
        db.in_session(service.authenticate, "nobody@example.com", "not the password", "1.2.3.4")
    assert wrong.value.message == unknown.value.message == service.WRONG_CREDENTIALS
    assert db.in_session(service.authenticate, "ADA@example.com", PASSWORD, "1.2.3.4").id == ada.id


def test_unverified_account_cannot_sign_in_and_gets_a_new_link():
    sign_up(email="new@example.com", verify=False)
    with pytest.raises(service.AuthError) as e:
        db.in_session(service.authenticate, "new@example.com", PASSWORD, "")
    assert e.value.unverified
    assert len(mails("new@example.com", "verify_email")) == 2


@pytest.mark.promise("ACC-3")
def test_twenty_wrong_passwords_lock_the_account_even_with_the_right_one(ada):
    for i in range(20):
        with pytest.raises(service.AuthError):
            db.in_session(service.authenticate, "ada@example.com", f"wrong {i}", f"10.0.0.{i}")
    with pytest.raises(service.AuthError) as e:
        db.in_session(service.authenticate, "ada@example.com", PASSWORD, "10.9.9.9")
    assert e.value.locked and "Too many" in e.value.message
    clock.advance(timedelta(minutes=get_settings().login_lockout_minutes + 1))
    assert db.in_session(service.authenticate, "ada@example.com", PASSWORD, "10.9.9.9").id == ada.id


@pytest.mark.promise("ACC-3")
def test_lockout_does_not_reveal_whether_an_account_exists():
    limit = get_settings().login_max_failures_per_account
    for i in range(limit):
        with pytest.raises(service.AuthError):
            db.in_session(service.authenticate, "ghost@example.com", f"wrong {i}", f"10.1.0.{i}")
    with pytest.raises(service.AuthError) as e:
        db.in_session(service.authenticate, "ghost@example.com", "x", "10.1.1.1")
    assert e.value.locked


def test_many_failures_from_one_ip_pause_that_ip(ada):
    limit = get_settings().login_max_failures_per_ip
    for i in range(limit):
        with pytest.raises(service.AuthError):
            db.in_session(service.authenticate, f"user{i}@example.com", "wrong", "203.0.113.9")
    with pytest.raises(service.AuthError) as e:
        db.in_session(service.authenticate, "ada@example.com", PASSWORD, "203.0.113.9")
    assert e.value.locked and "network" in e.value.message
    assert db.in_session(service.authenticate, "ada@example.com", PASSWORD, "203.0.113.10")


def test_sign_in_ticket_is_single_use_short_lived_and_keeps_next_on_site(ada):
    ticket = db.in_session(service.issue_sign_in_ticket, ada.id, "//evil.example/x")
    user, nxt = db.in_session(service.redeem_sign_in_ticket, ticket)
    assert user.id == ada.id and nxt == "/app"
    with pytest.raises(service.AuthError):
        db.in_session(service.redeem_sign_in_ticket, ticket)
    ticket = db.in_session(service.issue_sign_in_ticket, ada.id, "/settings/security")
    clock.advance(timedelta(seconds=61))
    with pytest.raises(service.AuthError):
        db.in_session(service.redeem_sign_in_ticket, ticket)


# --- sessions --------------------------------------------------------------------------------


def start(user_id: int, ua: str = CHROME, ip: str = "198.51.100.7") -> tuple[str, AuthSession]:
    with db.session() as s:
        return service.start_session(s, s.get(User, user_id), service.ClientInfo(ip, ua))


@pytest.mark.promise("DEV-1", "SEC-3")
def test_sessions_record_device_and_store_only_a_token_hash(ada):
    token, row = start(ada.id, CHROME, "198.51.100.7")
    with db.session() as s:
        rows = service.list_sessions(s, ada.id)
        assert len(rows) == 1
        r = rows[0]
        assert (r.ip, r.browser.split()[0], r.os) == ("198.51.100.7", "Chrome", "Linux")
        assert r.token_hash != token and token not in r.token_hash
        res = service.resolve_session(s, token)
        assert res.user.id == ada.id and res.actor.role == "owner"
    with db.engine().connect() as c:
        assert token not in str(c.execute(text("SELECT * FROM sessions")).all())


@pytest.mark.promise("DEV-1")
def test_revoked_expired_and_idle_sessions_stop_working(ada):
    t1, r1 = start(ada.id)
    t2, _ = start(ada.id, FIREFOX)
    assert db.in_session(lambda s: service.revoke_session(s, ada.id, r1.id))
    assert db.in_session(service.resolve_session, t1) is None
    assert db.in_session(service.resolve_session, t2) is not None
    # another user cannot revoke it
    bob = sign_up(email="bob@example.com", name="Bob", team="B")
    t3, r3 = start(bob.id)
    assert not db.in_session(lambda s: service.revoke_session(s, ada.id, r3.id))
    assert db.in_session(service.resolve_session, t3) is not None
    clock.advance(timedelta(days=get_settings().session_idle_days + 1))
    assert db.in_session(service.resolve_session, t2) is None


def test_new_device_sign_in_sends_an_email_but_the_first_one_does_not(ada):
    start(ada.id, CHROME)
    start(ada.id, CHROME, ip="198.51.100.99")
    assert mails("ada@example.com", "new_device_login") == []
    start(ada.id, FIREFOX)
    sent = mails("ada@example.com", "new_device_login")
    assert len(sent) == 1 and "Firefox" in sent[0].text_body


# --- reset and password change -----------------------------------------------------------------


def _requested_reset(email: str, ip: str = "") -> None:
    """Ask for a reset as the page does, then let the job do the work."""
    db.in_session(service.request_password_reset, email, ip)
    db.in_session(service.process_account_requests)


@pytest.mark.promise("ACC-3")
def test_reset_answers_the_same_for_known_and_unknown_addresses(ada):
    assert db.in_session(service.request_password_reset, "nobody@example.com") is None
    assert db.in_session(service.request_password_reset, "ada@example.com") is None
    assert mails("ada@example.com", "reset_password") == []  # stored, not done yet
    assert db.in_session(service.process_account_requests) == 2
    assert mails("nobody@example.com") == []
    assert len(mails("ada@example.com", "reset_password")) == 1


def test_reset_sets_the_password_signs_out_everywhere_and_the_link_dies(ada):
    token_a, _ = start(ada.id)
    _requested_reset("ada@example.com")
    token = link_token("ada@example.com", "reset_password")
    with pytest.raises(service.InputError):
        db.in_session(service.reset_password, token, "short")
    db.in_session(service.reset_password, token, "a brand new passphrase")
    assert db.in_session(service.resolve_session, token_a) is None
    assert db.in_session(service.authenticate, "ada@example.com", "a brand new passphrase", "")
    with pytest.raises(service.AuthError):
        db.in_session(service.reset_password, token, "another new passphrase")
    assert mails("ada@example.com", "password_changed")


def test_reset_link_expires(ada):
    _requested_reset("ada@example.com")
    token = link_token("ada@example.com", "reset_password")
    clock.advance(timedelta(minutes=get_settings().reset_token_minutes + 1))
    assert not db.in_session(service.reset_token_valid, token)
    with pytest.raises(service.AuthError):
        db.in_session(service.reset_password, token, "a brand new passphrase")


def test_change_password_needs_the_current_one_and_keeps_only_this_session(ada):
    t1, _ = start(ada.id)
    t2, _ = start(ada.id, FIREFOX)
    actor = actor_for(ada.id, t1)
    with pytest.raises(service.InputError) as e:
        db.in_session(service.change_password, actor, "wrong", "a brand new passphrase")
    assert e.value.field == "current_password"
    db.in_session(service.change_password, actor, PASSWORD, "a brand new passphrase")
    assert db.in_session(service.resolve_session, t1) is not None
    assert db.in_session(service.resolve_session, t2) is None


@pytest.mark.promise("RGT-2")
def test_email_change_is_verified_at_the_new_address(ada):
    actor = actor_for(ada.id)
    with pytest.raises(service.InputError):
        db.in_session(service.request_email_change, actor, "wrong password", "ada@new.example.com")
    db.in_session(service.request_email_change, actor, PASSWORD, "ada@new.example.com")
    with db.session() as s:
        assert s.get(User, ada.id).email == "ada@example.com"
    token = link_token("ada@new.example.com", "email_change_verify")
    db.in_session(service.confirm_email_change, token)
    with db.session() as s:
        assert s.get(User, ada.id).email == "ada@new.example.com"
    assert mails("ada@example.com", "email_changed_notice")
    db.in_session(service.update_profile, actor, name="Ada King")
    with db.session() as s:
        assert s.get(User, ada.id).name == "Ada King"


# --- workspaces ---------------------------------------------------------------------------------


@pytest.mark.promise("SVC-1")
def test_invite_accept_and_member_rules(ada):
    owner = actor_for(ada.id)
    db.in_session(service.invite_member, owner, "bob@example.com", "member")
    token = link_token("bob@example.com", "invite")
    bob = sign_up(email="bob@example.com", name="Bob", team="Bob's own")
    eve = sign_up(email="eve@example.com", name="Eve", team="Eve's own")
    with pytest.raises(service.AuthError):  # an invite is for its address only
        db.in_session(service.accept_invite, eve.id, token)
    ws_id = db.in_session(service.accept_invite, bob.id, token)
    assert ws_id == owner.workspace_id
    with pytest.raises(service.AuthError):
        db.in_session(service.accept_invite, bob.id, token)
    names = [m.name for m in db.in_session(service.list_members, owner)]
    assert names == ["Ada Lovelace", "Bob"]

    bob_actor = actor_for(bob.id)
    db.in_session(service.switch_workspace, bob_actor, ws_id)
    eve_actor = actor_for(eve.id)
    with pytest.raises(service.InputError):
        db.in_session(service.switch_workspace, eve_actor, ws_id)
    # a member cannot invite or remove; the owner can remove the member
    bob_in_ada = service.Actor(bob.id, ws_id, "member", bob_actor.session_id)
    with pytest.raises(service.InputError):
        db.in_session(service.invite_member, bob_in_ada, "x@example.com")
    with pytest.raises(service.InputError):
        db.in_session(service.remove_member, bob_in_ada, ada.id)
    db.in_session(service.remove_member, owner, bob.id)
    assert [m.name for m in db.in_session(service.list_members, owner)] == ["Ada Lovelace"]


def test_invite_expires_and_can_be_withdrawn(ada):
    owner = actor_for(ada.id)
    inv = db.in_session(service.invite_member, owner, "bob@example.com")
    token = link_token("bob@example.com", "invite")
    db.in_session(service.revoke_invite, owner, inv.id)
    assert db.in_session(service.preview_invite, token) is None
    db.in_session(service.invite_member, owner, "carol@example.com")
    token = link_token("carol@example.com", "invite")
    clock.advance(timedelta(days=get_settings().invite_days + 1))
    assert db.in_session(service.preview_invite, token) is None


def test_only_the_owner_invites_admins_and_changes_roles(ada):
    owner = actor_for(ada.id)
    db.in_session(service.invite_member, owner, "bob@example.com", "admin")
    bob = sign_up(email="bob@example.com", name="Bob", team="B")
    db.in_session(service.accept_invite, bob.id, link_token("bob@example.com", "invite"))
    admin = service.Actor(bob.id, owner.workspace_id, "admin")
    with pytest.raises(service.InputError):
        db.in_session(service.invite_member, admin, "c@example.com", "admin")
    db.in_session(service.invite_member, admin, "c@example.com", "member")
    with pytest.raises(service.InputError):
        db.in_session(service.change_role, admin, bob.id, "member")
    db.in_session(service.change_role, owner, bob.id, "member")
    with pytest.raises(service.InputError):
        db.in_session(service.remove_member, admin, ada.id)


# --- social sign-in ----------------------------------------------------------------------------


def test_social_sign_in_new_person_finishes_sign_up_and_verified_match_links(ada):
    prof = service.SocialProfile("github", "gh-1", "ada@example.com", True, "Ada")
    user, pending = db.in_session(service.social_sign_in, prof)
    assert user.id == ada.id and pending is None
    assert count(OAuthIdentity) == 1

    prof2 = service.SocialProfile("google", "g-9", "grace@example.com", True, "Grace Hopper")
    user, pending = db.in_session(service.social_sign_in, prof2)
    assert user is None and pending
    with pytest.raises(service.InputError):
        db.in_session(service.finish_social_sign_up, pending, name="Grace", team="Navy", email_raw="",
                      age_confirmed=False, policy_accepted=True)
    grace = db.in_session(service.finish_social_sign_up, pending, name="Grace", team="Navy", email_raw="",
                          age_confirmed=True, policy_accepted=True)
    assert grace.email == "grace@example.com" and grace.email_verified_at is not None
    assert grace.password_hash is None
    user, _ = db.in_session(service.social_sign_in, prof2)
    assert user.id == grace.id


def test_unverified_social_address_does_not_take_over_an_account(ada):
    prof = service.SocialProfile("github", "gh-2", "ada@example.com", False, "Not Ada")
    user, pending = db.in_session(service.social_sign_in, prof)
    assert user is None
    with pytest.raises(service.InputError):
        db.in_session(service.finish_social_sign_up, pending, name="X", team="Y", email_raw="",
                      age_confirmed=True, policy_accepted=True)


@pytest.mark.parametrize(
    "bad", ["//evil.example", "/\t/evil.example", "/\r\n/evil.example", "/\\evil.example", "https://evil.example", "", None]
)
def test_next_paths_never_leave_the_site(bad):
    assert service.safe_next(bad) == "/app"
    assert service.safe_next("/library?q=a b") == "/library?q=a b"
