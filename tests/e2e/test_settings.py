"""Settings in a real browser: profile (name, product news, email change), security (password
change signs other sessions out), workspace (rename, invite, withdraw, roles, removal), and
the light/dark theme."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from omnipostr import db
from omnipostr.accounts.models import Invite, Membership, User, Workspace
from omnipostr.crypto import email_index
from tests.e2e.conftest import mail_link
from tests.e2e.helpers import PASSWORD, sign_in, sign_up

pytestmark = pytest.mark.browser


def user(email: str) -> User:
    with db.session() as s:
        u = s.exec(select(User).where(User.email_index == email_index(email))).one()
        s.expunge(u)
        return u


def open_settings(page: Page, section: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings sections").get_by_role("link", name=section).click()
    page.wait_for_url(re.compile(rf".*/settings/{section.lower()}$"))
    expect(page.get_by_role("link", name=section, exact=True)).to_have_attribute("aria-current", "page")


def test_profile_name_product_news_email_change_and_theme(page: Page, smtp, live_app, shots):
    sign_up(page, smtp, email="ada@example.com")
    open_settings(page, "Profile")
    profile = page.get_by_role("form", name="Profile")
    expect(profile.get_by_label("Name")).to_have_value("Ada Lovelace")
    news = profile.get_by_label("Send me occasional product news.")
    expect(news).not_to_be_checked()

    # a new name shows in the sidebar; product news on, kept after a reload, then off again
    profile.get_by_label("Name").fill("Ada King")
    news.check()
    profile.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Profile saved.")).to_be_visible()
    sidebar = page.locator(".op-sidebar")
    expect(sidebar.get_by_text("Ada King")).to_be_visible()
    expect(sidebar.get_by_text("AK")).to_be_visible()
    assert user("ada@example.com").marketing_opt_in is True
    page.reload()
    expect(page.get_by_role("form", name="Profile").get_by_label("Send me occasional product news.")).to_be_checked()
    page.get_by_role("form", name="Profile").get_by_label("Send me occasional product news.").uncheck()
    page.get_by_role("form", name="Profile").get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Profile saved.")).to_be_visible()
    assert user("ada@example.com").marketing_opt_in is False
    assert user("ada@example.com").name == "Ada King"

    # an empty name is explained
    page.get_by_role("form", name="Profile").get_by_label("Name").fill("   ")
    page.get_by_role("form", name="Profile").get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("form", name="Profile").get_by_role("alert")).to_be_visible()
    assert user("ada@example.com").name == "Ada King"

    # a new email address: wrong password first, then the link at the new address
    change = page.get_by_role("form", name="Change email address")
    change.get_by_label("New email address").fill("ada.king@example.com")
    change.get_by_label("Current password").fill("not my password")
    change.get_by_role("button", name="Change email").click()
    expect(change.get_by_role("alert")).to_have_text("Your password is not correct.")
    change.get_by_label("Current password").fill(PASSWORD)
    change.get_by_role("button", name="Change email").click()
    expect(page.get_by_role("status")).to_contain_text("We sent a link to ada.king@example.com.")
    page.screenshot(path=str(shots / "settings-profile.png"), full_page=True)
    assert user("ada@example.com").email == "ada@example.com"  # not yet
    link = mail_link(smtp, "ada.king@example.com", "/verify/email-change?token=")
    page.goto(link)
    expect(page.get_by_role("status")).to_have_text("Your email address was changed.")
    page.get_by_role("link", name="Continue").click()
    page.wait_for_url(re.compile(r".*/settings/profile$"))
    expect(page.locator(".op-sidebar").get_by_text("ada.king@example.com")).to_be_visible()
    expect(page.get_by_role("region", name="Profile")).to_contain_text("Email: ada.king@example.com")
    with db.session() as s:
        assert s.exec(select(User).where(User.email_index == email_index("ada@example.com"))).first() is None
        assert s.exec(select(User).where(User.email_index == email_index("ada.king@example.com"))).one().name == "Ada King"

    # light and dark, remembered on this device once preferences are allowed
    page.locator(".op-sidebar").get_by_role("button", name="Cookie settings").click()
    page.get_by_role("region", name="Cookies").get_by_role("button", name="Accept all").click()
    expect(page.get_by_role("region", name="Cookies")).to_be_hidden()
    html = page.locator("html")
    before = "dark" if "dark" in (html.get_attribute("class") or "") else "light"
    after = "light" if before == "dark" else "dark"
    page.locator(".op-sidebar").get_by_role("button", name="Switch light or dark theme").click()
    expect(html).to_have_class(re.compile(rf"\b{after}\b"))
    page.screenshot(path=str(shots / f"settings-profile-{after}.png"))
    page.reload()
    expect(html).to_have_class(re.compile(rf"\b{after}\b"))  # remembered
    page.locator(".op-sidebar").get_by_role("button", name="Switch light or dark theme").click()
    expect(html).to_have_class(re.compile(rf"\b{before}\b"))


def test_password_change_needs_the_current_one_and_signs_out_other_sessions(page: Page, new_page, smtp, live_app, shots):
    sign_up(page, smtp, email="sam@example.com", name="Sam Secure", team="Sam Co")
    laptop = new_page(user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15")
    sign_in(laptop, email="sam@example.com")

    open_settings(page, "Security")
    sessions = page.get_by_role("region", name="Active sessions")
    expect(sessions.get_by_role("row")).to_have_count(3)
    form = page.get_by_role("form", name="Change password")
    form.get_by_label("Current password").fill("wrong horse battery staple")
    form.get_by_label("New password", exact=True).fill("a brand new passphrase here")
    form.get_by_label("Repeat new password").fill("a brand new passphrase here")
    form.get_by_role("button", name="Change password").click()
    expect(form.get_by_role("alert")).to_have_text("Your current password is not correct.")
    expect(sessions.get_by_role("row")).to_have_count(3)  # nobody was signed out

    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password changed. Your other sessions were signed out.")).to_be_visible()
    expect(sessions.get_by_role("row")).to_have_count(2)
    expect(sessions.get_by_text("This device")).to_be_visible()
    expect(form.get_by_label("Current password")).to_have_value("")
    page.screenshot(path=str(shots / "settings-security.png"), full_page=True)

    # the other browser is signed out; the new password works there
    laptop.goto("/settings/profile")
    laptop.wait_for_url(re.compile(r".*/login.*"))
    sign_in(laptop, email="sam@example.com", password="a brand new passphrase here")
    # and this browser is still signed in
    page.reload()
    expect(page.get_by_role("region", name="Active sessions").get_by_role("row")).to_have_count(3)


def test_workspace_rename_invite_withdraw_roles_and_removal(page: Page, new_page, smtp, live_app, shots):
    sign_up(page, smtp, email="olive@example.com", name="Olive Owner", team="Olive Press")
    open_settings(page, "Workspace")

    rename = page.get_by_role("form", name="Rename workspace")
    rename.get_by_label("Name").fill("Olive & Partners")
    rename.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("Workspace renamed.")).to_be_visible()
    expect(page.locator(".op-sidebar").get_by_role("combobox", name="Workspace")).to_have_text("Olive & Partners")

    invite = page.get_by_role("form", name="Invite a teammate")
    invite.get_by_label("Email address").fill("max@example")
    invite.get_by_role("button", name="Send invitation").click()
    expect(invite.get_by_role("alert")).to_have_text("Enter a valid email address, like name@example.com.")
    expect(invite.get_by_label("Email address")).to_have_value("max@example")  # kept to correct

    for email in ("max@example.com", "typo@exmaple.com"):
        invite.get_by_label("Email address").fill(email)
        invite.get_by_role("button", name="Send invitation").click()
        expect(page.get_by_text(f"Invitation sent to {email}.")).to_be_visible()
    pending = page.get_by_role("region", name="Invite a teammate")
    expect(pending.get_by_text("typo@exmaple.com")).to_be_visible()
    pending.get_by_role("button", name="Withdraw invitation to typo@exmaple.com").click()
    expect(page.get_by_text("Invitation withdrawn.")).to_be_visible()
    expect(pending.get_by_text("typo@exmaple.com")).to_have_count(0)
    with db.session() as s:
        assert {i.email for i in s.exec(select(Invite)).all() if i.revoked_at is None and i.accepted_at is None} == {"max@example.com"}

    # Max joins as a member
    link = mail_link(smtp, "max@example.com", "/invite?token=")
    max_page = new_page()
    sign_up(max_page, smtp, email="max@example.com", name="Max Member", team="Max Solo")
    max_page.goto(link)
    max_page.get_by_role("button", name="Accept invitation").click()
    max_page.wait_for_url(re.compile(r".*/app.*"))

    # only the owner changes roles
    page.reload()
    members = page.get_by_role("region", name="Members")
    expect(members.get_by_role("row")).to_have_count(3)
    role = members.get_by_role("combobox", name="Role of Max Member")
    expect(role).to_have_text("Member")
    role.click()
    page.get_by_role("option", name="Admin").click()
    expect(page.get_by_text("Role changed.")).to_be_visible()
    expect(members.get_by_role("combobox", name="Role of Max Member")).to_have_text("Admin")
    page.screenshot(path=str(shots / "settings-workspace.png"), full_page=True)
    with db.session() as s:
        max_id = user("max@example.com").id
        ws = next(w for w in s.exec(select(Workspace)).all() if w.name == "Olive & Partners")
        assert s.exec(select(Membership).where(Membership.workspace_id == ws.id, Membership.user_id == max_id)).one().role == "admin"

    max_page.goto("/settings/workspace")
    max_members = max_page.get_by_role("region", name="Members")
    expect(max_members).to_contain_text("Olive Owner")
    expect(max_members.get_by_role("combobox")).to_have_count(0)  # an admin sees roles, cannot change them
    expect(max_page.get_by_role("form", name="Invite a teammate")).to_be_visible()  # but may invite

    # the owner removes Max after confirming
    members.get_by_role("button", name="Remove Max Member").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Remove Max Member from this workspace?")
    dialog.get_by_role("button", name="Keep it").click()
    expect(members.get_by_role("row")).to_have_count(3)
    members.get_by_role("button", name="Remove Max Member").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Member removed.")).to_be_visible()
    expect(members.get_by_role("row")).to_have_count(2)
    with db.session() as s:
        assert s.exec(select(Membership).where(Membership.workspace_id == ws.id, Membership.user_id == max_id)).first() is None
    max_page.goto("/settings/workspace")
    expect(max_page.get_by_role("combobox", name="Workspace")).not_to_contain_text("Olive")
