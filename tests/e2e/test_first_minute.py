"""What a new user meets with ``make run`` and nothing configured: the landing page, sign-up
with the confirmation mail in the operator's development mailbox, the composer; the privacy policy;
pages that load nothing from anyone else; links to private addresses refused; a phone.

The module's app runs on the embedded defaults with no SMTP server (mail stays in the app)
and private addresses refused, as ``make run`` starts it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import submit_sign_up

pytestmark = pytest.mark.browser

PUBLIC_PAGES = ["/", "/signup", "/login", "/reset", "/privacy", "/contact", "/subprocessors", "/privacy/requests"]
SIGNED_IN_PAGES = ["/app", "/library", "/settings/profile", "/settings/security", "/settings/workspace", "/settings/voices",
                   "/settings/privacy"]


class Requests:
    """Every request and websocket a page opens, by origin."""

    def __init__(self, page: Page):
        self.urls: list[str] = []
        page.on("request", lambda r: self.urls.append(r.url))
        page.on("websocket", lambda ws: self.urls.append(ws.url))

    def foreign(self, app_url: str) -> list[str]:
        own = urlsplit(app_url)
        out = []
        for url in self.urls:
            u = urlsplit(url)
            if u.scheme in ("data", "blob"):
                continue
            if (u.hostname, u.port) != (own.hostname, own.port) or u.scheme not in ("http", "https", "ws", "wss"):
                out.append(url)
        return out


def sign_up_with_dev_mailbox(page: Page, app, *, email: str, name: str = "Nia New", team: str = "Nia Makes") -> None:
    """Sign up and confirm through the development mailbox, as the person who ran `make run`
    does: with the mailbox address the app printed in their terminal."""
    submit_sign_up(page, email=email, name=name, team=team)
    expect(page.get_by_role("status")).to_contain_text(f"We sent a link to {email}.")
    expect(page.get_by_text("printed in their terminal")).to_be_visible()
    mail = app.open_mail(page, f"To: {email}")
    assert page.url.endswith("/dev/mail")  # the key is not left in the address bar
    expect(mail).to_be_visible()
    expect(mail.get_by_role("heading")).to_have_text("Confirm your email address for OmniPostr")
    mail.get_by_role("link", name="Open the link in this email").click()
    page.wait_for_url(re.compile(r".*/app/?(\?.*)?$"))
    expect(page.get_by_role("heading", name="Compose", level=1)).to_be_visible()


@pytest.mark.promise("NOT-2")
def test_landing_sign_up_through_the_development_mailbox_to_the_composer(page: Page, mailless_app, shots):
    requests = Requests(page)
    page.goto("/")
    expect(page.get_by_role("heading", name="One article in. Every post out.", level=1)).to_be_visible()
    page.screenshot(path=str(shots / "first-landing.png"), full_page=True)
    page.get_by_role("link", name="Start free").click()
    page.wait_for_url(re.compile(r".*/signup/?$"))
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    expect(page.get_by_text("printed in their terminal")).to_have_count(0)

    sign_up_with_dev_mailbox(page, mailless_app, email="nia@example.com")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Compose")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("nia@example.com")).to_be_visible()
    page.screenshot(path=str(shots / "first-composer.png"))

    # the signed-in pages load nothing from elsewhere either
    for path in SIGNED_IN_PAGES:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert requests.urls and not requests.foreign(mailless_app.url), requests.foreign(mailless_app.url)

    # a typed "/settings" opens its first tab; a mistyped address says so and leads back
    page.goto("/settings")
    page.wait_for_url(re.compile(r".*/settings/profile$"))
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    page.goto("/no-such-page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    page.get_by_role("link", name="Open the composer").click()
    page.wait_for_url(re.compile(r".*/app/?$"))
    expect(page.get_by_role("heading", name="Compose", level=1)).to_be_visible()


@pytest.mark.promise("NOT-2")
def test_public_pages_load_only_the_apps_own_origin_and_the_policy_renders(page: Page, mailless_app, shots):
    requests = Requests(page)
    for path in PUBLIC_PAGES:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
    foreign = requests.foreign(mailless_app.url)
    assert len(requests.urls) > len(PUBLIC_PAGES) and not foreign, foreign

    page.goto("/library/nothing/here")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("link", name="Go to the home page")).to_be_visible()
    page.screenshot(path=str(shots / "first-not-found.png"))

    page.goto("/privacy")
    expect(page.get_by_role("heading", name="OmniPostr Privacy Policy", level=1)).to_be_visible()
    for heading in ("1. Introduction", "5. How We Process Your Content", "10. Cookies and Tracking", "16. Contact Us"):
        expect(page.get_by_role("heading", name=heading, level=2)).to_be_visible()
    expect(page.get_by_role("listitem").first).to_be_visible()
    page.screenshot(path=str(shots / "first-privacy.png"))
    # how to reach us, and who handles data for us: from the configuration
    page.get_by_role("contentinfo").get_by_role("link", name="Contact").click()
    expect(page.get_by_role("heading", name="Contact us", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="privacy@omnipostr.com").first).to_be_visible()
    expect(page.get_by_text("We answer within 5 business days.")).to_be_visible()
    page.get_by_role("contentinfo").get_by_role("link", name="Service providers").click()
    expect(page.get_by_role("heading", name="Who handles data for us", level=1)).to_be_visible()
    expect(page.get_by_role("listitem")).to_have_text([re.compile(r"^Database and hosting provider: ")])


def test_links_to_private_addresses_are_refused_by_default(page: Page, mailless_app):
    page.goto("/signup")
    sign_up_with_dev_mailbox(page, mailless_app, email="ivy@example.com", name="Ivy")
    page.get_by_label("Your article or script").fill("A draft that stays.")
    page.get_by_role("tab", name="Import link").click()
    for url in ("http://127.0.0.1:1/", "http://169.254.169.254/latest/meta-data/", "http://localhost:8080/admin"):
        page.get_by_label("Article address").fill(url)
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.get_by_role("alert")).to_have_text("OmniPostr does not fetch private or local network addresses.")
    page.get_by_role("tab", name="Paste").click()
    expect(page.get_by_label("Your article or script")).to_have_value("A draft that stays.")


def test_on_a_phone_the_sidebar_is_a_menu(new_page, mailless_app, shots):
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto("/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the landing page is wider than the phone"
    page.screenshot(path=str(shots / "phone-landing.png"))
    page.get_by_role("link", name="Start free").click()
    sign_up_with_dev_mailbox(page, mailless_app, email="pia@example.com", name="Pia Phone")

    # the sidebar is gone; the top bar has a menu button that opens it as a drawer
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    menu = page.get_by_role("button", name="Open menu")
    expect(menu).to_be_visible()
    page.screenshot(path=str(shots / "phone-composer.png"))
    # text, then platforms and options, then Generate: the order a person fills them in
    text_box = page.get_by_label("Your article or script").bounding_box()
    platforms = page.get_by_role("heading", name="Platforms").bounding_box()
    assert text_box["y"] < platforms["y"]
    page.get_by_label("Your article or script").scroll_into_view_if_needed()
    expect(page.get_by_role("button", name="Generate posts")).to_be_in_viewport()  # in reach at the bottom
    menu.click()
    drawer = page.get_by_role("dialog", name="Menu")
    expect(drawer.get_by_role("navigation", name="Main")).to_be_visible()
    expect(drawer.get_by_text("Pia Phone")).to_be_visible()
    page.wait_for_function("() => document.querySelector('[role=dialog]').getBoundingClientRect().left >= 0")  # slid in
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "phone-drawer.png"))
    drawer.get_by_role("button", name="Close menu").click()
    expect(drawer).to_be_hidden()

    menu.click()
    drawer.get_by_role("link", name="Settings").click()
    page.wait_for_url(re.compile(r".*/settings/profile$"))
    expect(page.get_by_role("dialog", name="Menu")).to_be_hidden()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    for path in ["/app", "/settings/profile", "/settings/workspace", "/settings/security", "/library"]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide on a 390px phone"
    page.screenshot(path=str(shots / "phone-library.png"))


@pytest.mark.promise("ACC-3")
def test_a_visitor_cannot_read_anyones_mail_on_the_default_install(new_page, mailless_app, shots):
    """The takeover an attacker tried: ask for someone's password reset, then read the link
    in the development mailbox. The mailbox is the operator's: without the key printed in
    the terminal it shows nothing, whatever the visitor typed or claims to come from."""
    owner = new_page()
    owner.goto("/signup")
    sign_up_with_dev_mailbox(owner, mailless_app, email="owen@example.com", name="Owen Owner")

    visitor = new_page()
    visitor.goto("/reset")
    visitor.get_by_label("Email").fill("owen@example.com")
    visitor.get_by_role("button", name="Send reset link").click()
    expect(visitor.get_by_text("If an account uses that address")).to_be_visible()
    for url in ("/dev/mail", "/dev/mail?key=0123456789abcdef0123456789abcdef"):
        response = visitor.goto(url)
        assert response.status == 403
        expect(visitor.get_by_role("heading", name="Development mailbox")).to_be_visible()
        expect(visitor.get_by_text("belongs to the person running this OmniPostr server")).to_be_visible()
        expect(visitor.get_by_role("article")).to_have_count(0)
        assert "reset" not in visitor.content().lower()
    visitor.set_extra_http_headers({"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"})
    assert visitor.goto("/dev/mail").status == 403
    visitor.screenshot(path=str(shots / "mailbox-locked.png"))

    # the reset mail is there, for the operator only
    expect(mailless_app.open_mail(owner, "To: owen@example.com", "reset")).to_be_visible()
    owner.screenshot(path=str(shots / "mailbox-operator.png"), full_page=True)


def test_a_new_workspace_is_welcomed_and_the_sample_article_generates(page: Page, mailless_app, shots):
    from tests.e2e.test_accessibility import serious

    page.goto("/signup")
    sign_up_with_dev_mailbox(page, mailless_app, email="newcomer@example.com", name="Nia Newcomer")
    hello = page.get_by_role("region", name="Welcome")
    expect(hello).to_be_visible()
    expect(hello).to_contain_text("Extractive drafts")
    expect(hello).to_contain_text("0 of 30 generations of your plan used.")
    assert serious(page) == []
    page.screenshot(path=str(shots / "welcome.png"), full_page=True)
    hello.get_by_role("button", name="Try a sample article").click()
    expect(page.get_by_label("Your article or script")).to_have_value(re.compile(r"^# What a Year of Lending Drills"))
    page.get_by_role("button", name="Generate posts").click()
    expect(page.locator("[data-status=done]")).to_have_count(5, timeout=30_000)
    expect(hello).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="Compose")).to_be_visible()
    expect(page.get_by_role("region", name="Welcome")).to_have_count(0)  # a workspace with posts is past its first visit
