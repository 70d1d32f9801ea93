"""The Content-Security-Policy in a real browser: every page, public and signed in, carries
it, and a person's whole round (sign up, generate, edit, copy, the library, settings, sign
out) runs without a single violation — while a script injected into a page is refused."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_out, sign_up
from tests.e2e.test_compose import paste_and_generate

pytestmark = pytest.mark.browser

WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.effectiveDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sample || '')));
"""
PUBLIC = ["/", "/signup", "/login", "/reset", "/privacy", "/no-such-page"]
SIGNED_IN = ["/app", "/library", "/settings/profile", "/settings/security", "/settings/workspace", "/settings/voices"]


class Violations:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        self.documents: dict[str, str] = {}
        page.add_init_script(WATCH)
        page.on("console", lambda m: self.console.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("response", self._response)

    def _response(self, response) -> None:
        if response.request.resource_type == "document":
            self.documents[response.url] = response.headers.get("content-security-policy", "")

    def seen(self) -> list[str]:
        try:
            in_page = self.page.evaluate("window.__csp || []")
        except Exception:  # the page is navigating
            in_page = []
        return [*in_page, *self.console]


def test_every_page_carries_the_policy_and_a_whole_round_breaks_none_of_it(page: Page, smtp, live_app):
    v = Violations(page)
    for path in PUBLIC:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert v.seen() == [], (path, v.seen())

    sign_up(page, smtp, email="csp@example.com", name="Cass Policy", team="Strict Co")
    paste_and_generate(page)
    expect(page.locator("[data-status=done]")).to_have_count(5, timeout=30_000)
    assert v.seen() == [], v.seen()
    card = page.get_by_role("article", name="Bluesky")
    card.get_by_role("button", name="Edit Bluesky post").click()
    card.get_by_role("textbox", name="Post 1").fill("A short post about a four-day week.")
    card.get_by_role("button", name="Save").click()
    expect(card.get_by_text("Edited")).to_be_visible()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    card.get_by_role("button", name="Copy Bluesky post").click()
    expect(page.get_by_text("Bluesky post copied.")).to_be_visible()
    assert v.seen() == [], v.seen()

    for path in SIGNED_IN:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert v.seen() == [], (path, v.seen())
    page.goto("/library")
    page.get_by_role("link", name=re.compile("four-day", re.I)).first.click()
    page.wait_for_url(re.compile(r".*/library/\d+$"))
    expect(page.get_by_role("article", name="Bluesky")).to_be_visible()
    assert v.seen() == [], v.seen()
    sign_out(page)
    assert v.seen() == [], v.seen()

    assert len(v.documents) >= len(PUBLIC) + len(SIGNED_IN)
    for url, policy in v.documents.items():
        assert "script-src 'self' 'unsafe-eval' 'sha256-" in policy, url
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, url
    assert "content security policy violation" not in live_app.log()


def test_a_script_injected_into_a_page_does_not_run(page: Page, live_app):
    v = Violations(page)
    page.goto("/login")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__pwned = 1'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert any(x.startswith("script-src") for x in v.seen()), v.seen()
