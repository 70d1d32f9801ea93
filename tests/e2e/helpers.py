"""What a person does, step by step, for the browser tests."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import mail_link

PASSWORD = "correct horse battery staple"


def submit_sign_up(page: Page, *, email: str, name: str, team: str, password: str = PASSWORD) -> None:
    """Fill in the sign-up form on the current page and send it."""
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Team or company name").fill(team)
    page.get_by_label("I am 16 years of age or older.").check()
    page.get_by_label("I have read and accept the privacy policy.").check()
    page.get_by_role("button", name="Create account").click()


def sign_up(page: Page, smtp, *, email: str, name: str = "Ada Lovelace", team: str = "Analytical Engines",
            password: str = PASSWORD, verify: bool = True) -> None:
    page.goto("/signup")
    submit_sign_up(page, email=email, name=name, team=team, password=password)
    expect(page.get_by_text("We sent a link to")).to_be_visible()
    if verify:
        link = mail_link(smtp, email, "/verify?token=")
        page.goto(link)
        page.wait_for_url(re.compile(r".*/app/?(\?.*)?$"))
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def sign_in(page: Page, *, email: str, password: str = PASSWORD, next_path: str = "") -> None:
    page.goto("/login" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(r".*/(app|settings|invite|library).*"))
    expect(page.get_by_role("navigation", name="Main").or_(page.get_by_role("button", name="Accept invitation"))).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_url(re.compile(r".*/login.*"))
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def delete_account(page: Page, *, email: str, password: str = PASSWORD, timeout: float = 30.0) -> int:
    """Delete the signed-in account from the privacy center, as its owner does, and wait
    until the erasure job has removed the person; their former user id."""
    import time

    from sqlmodel import select

    from omnipostr import db
    from omnipostr.accounts.models import User
    from omnipostr.crypto import email_index

    with db.session() as s:
        uid = s.exec(select(User.id).where(User.email_index == email_index(email))).one()
    page.goto("/settings/privacy")
    form = page.get_by_role("form", name="Delete your account")
    form.get_by_label("Your password").fill(password)
    form.get_by_label("I understand that this cannot be undone.").click()
    form.get_by_role("button", name="Delete my account").click()
    page.wait_for_url(re.compile(r".*/login\?signed_out=deleted"))
    expect(page.get_by_text("Your account is being deleted.")).to_be_visible()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session() as s:
            if s.get(User, uid) is None:
                return uid
        time.sleep(0.5)
    raise AssertionError(f"user {uid} was not erased within {timeout} s")


def sign_in_fails(page: Page, *, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Email or password is incorrect.")
    assert "/login" in page.url
