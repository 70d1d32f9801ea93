"""Accounts in a real browser: sign-up, confirmation, sign-in and out, reset, sessions, invites."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text
from sqlmodel import select

from omnipostr import db
from omnipostr.accounts.models import Membership, User, Workspace
from omnipostr.crypto import email_index
from tests.e2e.conftest import mail_link
from tests.e2e.helpers import sign_in, sign_out, sign_up

pytestmark = pytest.mark.browser


@pytest.mark.promise("ACC-1", "SVC-1", "SEC-3", "COM-1")
def test_sign_up_confirm_sign_out_sign_in_and_reset(page: Page, smtp, live_app):
    sign_up(page, smtp, email="ada@example.com")
    expect(page.get_by_text("Ada Lovelace")).to_be_visible()
    expect(page.get_by_role("combobox", name="Workspace")).to_contain_text("Analytical Engines")
    with db.session() as s:
        user = s.exec(select(User).where(User.email_index == email_index("ada@example.com"))).one()
        assert user.email_verified_at is not None and user.age_confirmed_at is not None
        ws = s.exec(select(Workspace).where(Workspace.owner_id == user.id)).one()
        assert ws.name == "Analytical Engines"
        assert s.exec(select(Membership).where(Membership.user_id == user.id)).one().role == "owner"

    # the cookie is HttpOnly: page scripts cannot read it
    cookies = {c["name"]: c for c in page.context.cookies()}
    first_token = cookies["omnipostr_session"]["value"]
    assert cookies["omnipostr_session"]["httpOnly"] and cookies["omnipostr_session"]["sameSite"] == "Lax"
    # scripts see no session: only the cookie choice, which holds no secret
    assert [c.split("=")[0] for c in page.evaluate("document.cookie").split("; ") if c] == ["op_consent"]

    sign_out(page)
    page.goto("/app")
    page.wait_for_url(re.compile(r".*/login/?\?next=/app"))

    sign_in(page, email="ada@example.com")
    second_token = {c["name"]: c for c in page.context.cookies()}["omnipostr_session"]["value"]
    assert second_token != first_token  # a new session at every sign-in

    sign_out(page)
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_text("If an account uses that address")).to_be_visible()
    link = mail_link(smtp, "ada@example.com", "/reset/confirm?token=")
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("an entirely new passphrase")
    page.get_by_label("Repeat new password").fill("an entirely new passphrase")
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()
    # the link is single-use
    page.goto(link)
    expect(page.get_by_text("This link is invalid or has expired.")).to_be_visible()
    sign_in(page, email="ada@example.com", password="an entirely new passphrase")


@pytest.mark.promise("ACC-3")
def test_wrong_password_and_unknown_address_read_the_same(page: Page, smtp, live_app):
    sign_up(page, smtp, email="bea@example.com", name="Bea")
    sign_out(page)
    for email in ("bea@example.com", "nobody@example.com"):
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("not the password at all")
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")


def test_bad_sign_up_input_is_explained_and_kept(page: Page, live_app):
    page.goto("/signup")
    page.get_by_label("Your name").fill("<b>Bold</b> <script>window.pwned=1</script>")
    page.get_by_label("Work email").fill("carl@example.com")
    page.get_by_label("Password").fill("password123")
    page.get_by_label("Team or company name").fill("Team")
    page.get_by_label("I am 16 years of age or older.").check()
    page.get_by_label("I have read and accept the privacy policy.").check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("That password is one of the most common ones.")).to_be_visible()
    # what was typed is still there
    expect(page.get_by_label("Work email")).to_have_value("carl@example.com")
    page.get_by_label("Password").fill("a much better passphrase")
    page.get_by_label("I am 16 years of age or older.").uncheck()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("OmniPostr is for people aged 16 or older.")).to_be_visible()
    with db.session() as s:
        assert s.exec(select(User)).all() == []


@pytest.mark.promise("DEV-1", "SEC-3")
def test_sessions_are_listed_and_one_revoked_from_another_browser(page: Page, new_page, smtp, live_app):
    sign_up(page, smtp, email="dan@example.com", name="Dan")
    page2 = new_page(user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0")
    sign_in(page2, email="dan@example.com")

    page.goto("/settings/security")
    table = page.get_by_role("region", name="Active sessions")
    expect(table.get_by_role("row")).to_have_count(3)  # header + two sessions
    expect(table).to_contain_text("Firefox 121")
    expect(table).to_contain_text("Windows")
    expect(table.get_by_text("This device")).to_be_visible()
    table.get_by_role("button", name=re.compile("Sign out Firefox")).click()
    expect(table.get_by_role("row")).to_have_count(2)

    # the revoked browser is signed out at its next event
    page2.goto("/settings/profile")
    page2.wait_for_url(re.compile(r".*/login.*"))


@pytest.mark.promise("SVC-1")
def test_invited_member_joins_and_sees_the_workspace(page: Page, new_page, smtp, live_app):
    sign_up(page, smtp, email="owner@example.com", name="Olive Owner", team="Olive Press")
    page.goto("/settings/workspace")
    page.get_by_label("Email address").fill("member@example.com")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to member@example.com.")).to_be_visible()
    link = mail_link(smtp, "member@example.com", "/invite?token=")

    p2 = new_page()
    sign_up(p2, smtp, email="member@example.com", name="Max Member", team="Max Solo")
    p2.goto(link)
    expect(p2.get_by_text("Olive Owner")).to_be_visible()
    p2.get_by_role("button", name="Accept invitation").click()
    p2.wait_for_url(re.compile(r".*/app.*"))
    expect(p2.get_by_role("combobox", name="Workspace")).to_contain_text("Olive Press")
    p2.goto("/settings/workspace")
    members = p2.get_by_role("region", name="Members")
    expect(members).to_contain_text("Olive Owner")
    expect(members).to_contain_text("Max Member")

    # an outsider opening the link cannot join
    p3 = new_page()
    sign_up(p3, smtp, email="outsider@example.com", name="Oscar", team="Outside")
    p3.goto(link)
    expect(p3.get_by_text("This invitation is invalid")).to_be_visible()


@pytest.mark.promise("ACC-2")
def test_no_password_or_session_token_in_database_logs_or_client_state(page: Page, smtp, live_app, shots):
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    secret = "zebra quartz lantern 9981"
    sign_up(page, smtp, email="sec@example.com", name="Sec", password=secret)
    token = {c["name"]: c for c in page.context.cookies()}["omnipostr_session"]["value"]
    page.goto("/settings/security")
    expect(page.get_by_role("region", name="Active sessions")).to_be_visible()
    activity = page.get_by_role("region", name="Recent security activity")
    expect(activity.get_by_role("row").filter(has_text="Signed in").first).to_be_visible()
    activity.screenshot(path=str(shots / "security-activity.png"))

    with db.engine().connect() as c:
        tables = [r[0] for r in c.execute(text(
            "SELECT name FROM sqlite_master WHERE type='table'" if c.dialect.name == "sqlite"
            else "SELECT tablename FROM pg_tables WHERE schemaname='public'"))]
        dump = json.dumps([[str(r) for r in c.execute(text(f'SELECT * FROM "{t}"'))] for t in tables])
    for where, blob in (("database", dump), ("logs", live_app.log()), ("client state", "\n".join(frames))):
        assert secret not in blob, f"plain password found in {where}"
        assert token not in blob, f"session token found in {where}"
    assert frames, "no websocket frames were captured"
