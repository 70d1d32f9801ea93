"""The HTTP routes that own the session cookie, over HTTP (the ASGI app in process)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from sqlmodel import select

from omnipostr import clock, db
from omnipostr.accounts import service
from omnipostr.accounts.models import AuthSession
from omnipostr.settings import get_settings, reset_settings
from tests.accounts.browser import ORIGIN, Browser, build_app, raw_set_cookie, set_cookie
from tests.accounts.helpers import sign_up

COOKIE = "omnipostr_session"


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("OMNIPOSTR_BASE_URL", ORIGIN)
    monkeypatch.setenv("OMNIPOSTR_ENV", "development")
    reset_settings()
    yield build_app()
    monkeypatch.undo()
    reset_settings()


@pytest.fixture
async def visitor(app):
    async with Browser(app) as b:
        yield b


def ticket_for(user_id: int, next_path: str = "/app") -> str:
    return db.in_session(service.issue_sign_in_ticket, user_id, next_path)


def resolve(token: str | None):
    with db.session() as s:
        return service.resolve_session(s, token, touch=False)


def sessions_of(user_id: int) -> list[AuthSession]:
    with db.session() as s:
        return list(s.exec(select(AuthSession).where(AuthSession.user_id == user_id).order_by(AuthSession.id)).all())


@pytest.mark.promise("SEC-3")
async def test_a_ticket_becomes_an_httponly_session_cookie(visitor, ada):
    r = await visitor.post_form("/auth/session", {"ticket": ticket_for(ada.id, "/app/library?page=2")})

    assert r.status_code == 303 and r.headers["location"] == "/app/library?page=2"
    cookie = set_cookie(r, COOKIE)
    assert cookie is not None
    assert cookie["httponly"] is True and cookie["samesite"].lower() == "lax" and cookie["path"] == "/"
    assert not cookie["secure"] and not cookie["domain"]
    assert int(cookie["max-age"]) == 30 * 86400
    raw = raw_set_cookie(r, COOKIE)
    assert "HttpOnly" in raw and "Secure" not in raw
    # the cookie holds a random token; the database keeps only its hash
    res = resolve(cookie.value)
    assert res.user.id == ada.id and res.session.token_hash != cookie.value
    assert res.session.ip == "203.0.113.7" and res.session.browser.startswith("Chrome")


@pytest.mark.promise("ACC-3")
async def test_a_ticket_is_single_use(app, visitor, ada):
    ticket = ticket_for(ada.id)
    assert (await visitor.post_form("/auth/session", {"ticket": ticket})).status_code == 303
    async with Browser(app) as thief:
        again = await thief.post_form("/auth/session", {"ticket": ticket})
        assert again.status_code == 303 and again.headers["location"] == "/login?error=expired"
        assert set_cookie(again, COOKIE) is None and thief.session_cookie is None
    assert len(sessions_of(ada.id)) == 1


@pytest.mark.promise("ACC-3")
async def test_a_ticket_expires_after_a_minute(visitor, ada):
    fresh, stale = ticket_for(ada.id), ticket_for(ada.id)
    clock.advance(timedelta(seconds=59))
    assert set_cookie(await visitor.post_form("/auth/session", {"ticket": fresh}), COOKIE) is not None
    clock.advance(timedelta(seconds=2))
    r = await visitor.post_form("/auth/session", {"ticket": stale})
    assert r.headers["location"] == "/login?error=expired" and set_cookie(r, COOKIE) is None


@pytest.mark.parametrize("bad", ["", "x", "not-a-ticket-" * 20])
async def test_a_made_up_ticket_is_refused(visitor, ada, bad):
    r = await visitor.post_form("/auth/session", {"ticket": bad})
    assert r.status_code == 303 and r.headers["location"] == "/login?error=expired"
    assert set_cookie(r, COOKIE) is None


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.example/phish",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\r\n/evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
async def test_next_never_leaves_the_site(visitor, ada, next_path):
    r = await visitor.post_form("/auth/session", {"ticket": ticket_for(ada.id, next_path)})
    assert r.status_code == 303
    loc = r.headers["location"]
    # a browser drops tabs and newlines from a URL; none may survive to be dropped
    assert not any(c in loc for c in "\t\r\n\\")
    target = urlsplit(urljoin(f"{ORIGIN}/auth/session", loc))
    assert f"{target.scheme}://{target.netloc}" == ORIGIN


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"referer": "https://evil.example/login"},
        {"origin": "http://localhost:3000.evil.example"},
    ],
    ids=["none", "other-origin", "null-origin", "other-referer", "lookalike"],
)
async def test_a_post_from_another_site_is_refused(visitor, ada, headers):
    ticket = ticket_for(ada.id)
    r = await visitor.ours.post("/auth/session", data={"ticket": ticket}, headers=headers)
    assert r.status_code == 403 and set_cookie(r, COOKIE) is None
    # the refused request did not spend the ticket; our own page still can
    ok = await visitor.ours.post("/auth/session", data={"ticket": ticket}, headers={"referer": f"{ORIGIN}/login"})
    assert ok.status_code == 303 and set_cookie(ok, COOKIE) is not None

    r = await visitor.ours.post("/auth/logout", headers=headers)
    assert r.status_code == 403 and set_cookie(r, COOKIE) is None
    assert resolve(visitor.session_cookie).user.id == ada.id


async def test_the_loopback_twin_of_the_origin_is_the_same_site(visitor, ada):
    r = await visitor.ours.post("/auth/session", data={"ticket": ticket_for(ada.id)}, headers={"origin": "http://127.0.0.1:3000"})
    assert r.status_code == 303 and set_cookie(r, COOKIE) is not None


@pytest.mark.promise("SEC-3")
async def test_signing_in_again_replaces_the_session_of_this_browser(app, visitor, ada):
    grace = sign_up(email="grace@example.com", name="Grace Hopper", team="Navy")
    await visitor.post_form("/auth/session", {"ticket": ticket_for(ada.id)})
    first = visitor.session_cookie
    await visitor.post_form("/auth/session", {"ticket": ticket_for(grace.id)})
    second = visitor.session_cookie

    assert first and second and first != second
    assert resolve(first) is None and resolve(second).user.id == grace.id
    (old,) = sessions_of(ada.id)
    assert old.revoked_at is not None
    # another browser's session is not touched
    async with Browser(app) as other:
        await other.post_form("/auth/session", {"ticket": ticket_for(ada.id)})
        await visitor.post_form("/auth/session", {"ticket": ticket_for(ada.id)})
        assert resolve(other.session_cookie).user.id == ada.id


@pytest.mark.promise("ACC-3")
async def test_logout_revokes_the_session_and_clears_the_cookie(visitor, ada):
    await visitor.post_form("/auth/session", {"ticket": ticket_for(ada.id)})
    token = visitor.session_cookie
    assert resolve(token) is not None

    r = await visitor.post_form("/auth/logout", {})
    assert r.status_code == 303 and r.headers["location"] == "/login?signed_out=1"
    cleared = set_cookie(r, COOKIE)
    assert cleared is not None and cleared.value == "" and cleared["max-age"] == "0" and cleared["path"] == "/"
    assert visitor.session_cookie is None
    (row,) = sessions_of(ada.id)
    assert row.revoked_at is not None
    assert resolve(token) is None  # a copy of the cookie is worthless now

    # signing out without a session is harmless
    again = await visitor.post_form("/auth/logout", {})
    assert again.status_code == 303 and again.headers["location"] == "/login?signed_out=1"


async def test_logout_and_session_only_accept_post(visitor, ada):
    await visitor.post_form("/auth/session", {"ticket": ticket_for(ada.id)})
    r = await visitor.ours.get("/auth/logout")
    assert r.status_code == 405 and "POST" in r.headers["allow"]
    assert (await visitor.ours.get("/auth/session")).status_code == 405
    assert resolve(visitor.session_cookie) is not None


async def test_trusted_proxy_hops_pick_the_client_address(monkeypatch, ada):
    monkeypatch.setenv("OMNIPOSTR_BASE_URL", ORIGIN)
    monkeypatch.setenv("OMNIPOSTR_TRUSTED_PROXY_HOPS", "1")
    reset_settings()
    try:
        async with Browser(build_app(), ip="10.0.0.2") as b:
            r = await b.ours.post(
                "/auth/session",
                data={"ticket": ticket_for(ada.id)},
                headers={"origin": ORIGIN, "x-forwarded-for": "6.6.6.6, 198.51.100.23"},
            )
            assert resolve(set_cookie(r, COOKIE).value).session.ip == "198.51.100.23"
    finally:
        monkeypatch.undo()
        reset_settings()


async def test_with_a_separate_back_end_the_routes_send_the_browser_back_to_the_pages(monkeypatch, ada):
    """``make dev``: pages come from the hot-reloading front end, the routes from the back end
    on its own port; a redirect from a route must land on the front end's pages."""
    monkeypatch.setenv("OMNIPOSTR_BASE_URL", ORIGIN)
    monkeypatch.setenv("OMNIPOSTR_BACKEND_URL", "http://localhost:8000/")
    reset_settings()
    try:
        cfg = get_settings()
        assert cfg.api_url == "http://localhost:8000"
        assert cfg.backend_path("/auth/logout") == "http://localhost:8000/auth/logout"
        assert cfg.page_url("/login") == ORIGIN + "/login"
        async with Browser(build_app()) as b:
            r = await b.post_form("/auth/session", {"ticket": ticket_for(ada.id, "/library")})
            assert r.status_code == 303 and r.headers["location"] == ORIGIN + "/library"
            out = await b.post_form("/auth/logout", {})
            assert out.headers["location"] == ORIGIN + "/login?signed_out=1"
    finally:
        monkeypatch.undo()
        reset_settings()
    # one origin for both (make run, production): plain paths, as everywhere above
    cfg = get_settings()
    assert cfg.backend_path("/auth/logout") == "/auth/logout" and cfg.page_url("/login") == "/login"
