"""Cookie choices and policy versions, as a visitor and a member meet them: nothing optional
before a choice, Reject as easy as Accept, the choice honoured and logged, Global Privacy
Control honoured, a new material policy version asks again, and a browser without cookies is
told what that means."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from omnipostr import clock, db
from omnipostr.accounts.models import PolicyAcceptance, User
from omnipostr.crypto import email_index
from omnipostr.privacy import consent, versions
from omnipostr.privacy.models import ConsentRecord
from omnipostr.usage.models import UsageEvent
from tests.e2e.helpers import sign_up
from tests.e2e.test_accessibility import serious
from tests.e2e.test_compose import paste_and_generate


def banner(page: Page):
    return page.get_by_role("region", name="Cookies")


def choice_cookie(page: Page) -> consent.Choice | None:
    jar = {c["name"]: c["value"] for c in page.context.cookies()}
    return consent.parse(jar.get(consent.COOKIE))


def user_of(email: str) -> User:
    with db.session() as s:
        return s.exec(select(User).where(User.email_index == email_index(email))).one()


def usage_kinds(email: str) -> list[str]:
    uid = user_of(email).id
    with db.session() as s:
        return [e.kind for e in s.exec(select(UsageEvent).where(UsageEvent.user_id == uid).order_by(UsageEvent.id))]


def generate_once(page: Page, remove: tuple[str, ...] = ()) -> None:
    """Generate for X and Bluesky (``remove`` the other defaults the first time: the composer
    remembers the choice)."""
    before = page.url
    paste_and_generate(page, remove=remove)
    page.wait_for_url(lambda url: "?g=" in url and url != before)
    expect(page.locator("[data-status=done]")).to_have_count(2, timeout=30_000)


@pytest.mark.promise("CKI-1", "POL-1")
def test_nothing_optional_before_a_choice_reject_is_one_click_and_a_new_policy_asks_again(page: Page, smtp, undecided, shots):
    page.goto("/")
    expect(banner(page)).to_be_visible()
    expect(banner(page).get_by_role("button", name="Reject all")).to_be_visible()
    expect(banner(page).get_by_role("button", name="Accept all")).to_be_visible()
    page.screenshot(path=str(shots / "cookie-banner.png"))
    assert serious(page) == []
    assert [c["name"] for c in page.context.cookies()] == []  # not even the choice: none was made

    banner(page).get_by_role("button", name="Reject all").click()
    expect(banner(page)).to_be_hidden()
    refused = choice_cookie(page)
    assert refused is not None and not refused.analytics and not refused.preferences
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(banner(page)).to_be_hidden()

    # signed up in this browser, the account keeps the refusal: nothing is recorded about her
    sign_up(page, smtp, email="cora@example.com", name="Cora Consent")
    generate_once(page, remove=("Instagram", "Threads", "LinkedIn"))
    assert usage_kinds("cora@example.com") == []

    # she changes her mind from the menu: analytics on; from now on her use is measured
    page.locator(".op-sidebar").get_by_role("button", name="Cookie settings").click()
    expect(banner(page)).to_be_visible()
    banner(page).get_by_role("button", name="Choose").click()
    banner(page).get_by_label("Analytics").check()
    banner(page).get_by_role("button", name="Save choices").click()
    expect(page.get_by_text("Cookie choices saved.")).to_be_visible()
    assert choice_cookie(page).analytics is True
    generate_once(page)
    assert "generation.created" in usage_kinds("cora@example.com")
    with db.session() as s:
        log = s.exec(select(ConsentRecord).where(ConsentRecord.consent_id == refused.consent_id).order_by(ConsentRecord.id)).all()
    assert [(r.analytics, r.user_id is not None) for r in log] == [(False, False), (False, True), (True, True)]
    assert all(r.policy_version == versions.shipped_version() for r in log)

    # a material new version of the policy: asked again, told by email, asked to acknowledge
    new = max(date.fromisoformat(versions.shipped_version()), clock.now().date()).isoformat()
    if new == versions.shipped_version():
        new = date.fromordinal(date.fromisoformat(new).toordinal() + 1).isoformat()
    with db.session() as s:
        versions.publish(s, new, material=True, summary="We now name every service provider on its own page.")
    smtp.wait_for(lambda m: "cora@example.com" in str(m["To"]) and "privacy policy" in str(m["Subject"]))
    page.goto("/app")
    update = page.get_by_role("region", name="Privacy policy update")
    expect(update).to_contain_text("We now name every service provider on its own page.")
    expect(banner(page)).to_be_visible()
    page.screenshot(path=str(shots / "policy-update.png"))
    banner(page).get_by_role("button", name="Reject all").click()
    update.get_by_role("button", name="Got it").click()
    expect(update).to_be_hidden()
    assert choice_cookie(page).version == new and choice_cookie(page).analytics is False
    with db.session() as s:
        acks = s.exec(select(PolicyAcceptance).where(PolicyAcceptance.user_id == user_of("cora@example.com").id)).all()
    assert new in [a.version for a in acks]
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Privacy policy update")).to_be_hidden()


@pytest.mark.promise("CKI-1")
def test_preferences_keep_the_theme_and_refusing_them_forgets_it(page: Page, undecided):
    page.goto("/privacy")
    banner(page).get_by_role("button", name="Accept all").click()
    expect(banner(page)).to_be_hidden()
    page.get_by_role("button", name="Switch light or dark theme").click()
    page.reload()
    expect(page.locator("html")).to_have_class("dark", timeout=10_000)

    page.get_by_role("button", name="Cookie settings").click()
    banner(page).get_by_role("button", name="Reject all").click()
    expect(banner(page)).to_be_hidden()
    page.reload()
    expect(page.locator("html")).to_have_class("light", timeout=10_000)
    assert page.evaluate("localStorage.getItem('theme')") in (None, "system")


@pytest.mark.promise("CKI-1", "GDPR-1")
def test_global_privacy_control_is_honoured_without_asking(new_page, undecided):
    # a browser that sends the signal: on every request, and to the page's scripts
    page = new_page(extra_http_headers={"Sec-GPC": "1"})
    page.add_init_script("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})")
    page.goto("/contact")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(banner(page)).to_be_hidden()
    page.wait_for_function("document.cookie.indexOf('op_consent=') >= 0")
    gpc = choice_cookie(page)
    assert gpc is not None and gpc.analytics is False
    page.get_by_role("button", name="Cookie settings").click()
    expect(banner(page)).to_contain_text("Global Privacy Control")
    with db.session() as s:
        row = s.exec(select(ConsentRecord).where(ConsentRecord.consent_id == gpc.consent_id)).one()
    assert row.gpc and row.source == "gpc" and not row.analytics


@pytest.mark.promise("CKI-2")
def test_a_browser_that_blocks_cookies_is_told_what_that_means(page: Page):
    # the browser's own switch for "block cookies" as the page sees it
    page.context.new_cdp_session(page).send("Emulation.setDocumentCookieDisabled", {"disabled": True})
    page.goto("/login")
    assert page.evaluate("navigator.cookieEnabled") is False
    expect(page.get_by_role("alert").filter(has_text="Cookies are turned off in this browser")).to_be_visible()
