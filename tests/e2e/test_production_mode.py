"""The app as an operator runs it in production (``OMNIPOSTR_ENV=production``): every page
carries HSTS and the Content-Security-Policy, a person's round through the public pages, sign
up and every signed-in page breaks none of it, the session cookie is ``__Host-``, ``Secure``
and ``HttpOnly``, and the development mailbox does not exist."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import _smtp_env
from tests.e2e.helpers import sign_up
from tests.e2e.liveapp import LiveApp, start_app, stop_app
from tests.e2e.test_csp import PUBLIC, SIGNED_IN, Violations


@pytest.fixture(scope="module")
def production_app(smtp, tmp_path_factory) -> Iterator[LiveApp]:
    app = start_app({**_smtp_env(smtp), "OMNIPOSTR_ENV": "production"}, tmp_path_factory.mktemp("production-app"))
    yield app
    stop_app(app.proc)


@pytest.mark.promise("SEC-1")
def test_production_pages_keep_their_policy_through_a_whole_round(page: Page, smtp, production_app):
    v = Violations(page)
    hsts: dict[str, str] = {}
    page.on("response", lambda r: hsts.__setitem__(r.url, r.headers.get("strict-transport-security", ""))
            if r.request.resource_type == "document" else None)
    for path in [*PUBLIC, "/pricing", "/contact"]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert v.seen() == [], (path, v.seen())

    sign_up(page, smtp, email="prod@example.com", name="Prue Production", team="Live Co")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["__Host-omnipostr_session"]
    assert session["secure"] and session["httpOnly"] and session["path"] == "/" and not session["domain"].startswith(".")
    assert "omnipostr_session" not in cookies

    for path in [*SIGNED_IN, "/billing", "/settings/privacy"]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert v.seen() == [], (path, v.seen())

    assert hsts and all(value.startswith("max-age=") for value in hsts.values()), hsts
    for url, policy in v.documents.items():
        assert "script-src 'self' 'unsafe-eval' 'sha256-" in policy and "frame-ancestors 'none'" in policy, url
    assert "content security policy violation" not in production_app.log()


def test_production_has_no_development_mailbox(production_app):
    r = httpx.get(production_app.url + "/dev/mail", params={"key": "anything"})
    assert r.status_code == 404
