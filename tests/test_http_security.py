"""Security headers on every response, and what production changes (HSTS, Secure __Host-
session cookie), over HTTP against the auth routes as the app mounts them."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from fakes.oidc_provider import FakeOIDCProvider
from omnipostr import db
from omnipostr.accounts import oauth, service
from omnipostr.http_security import security_headers
from omnipostr.settings import reset_settings
from tests.accounts.browser import Browser, build_app, raw_set_cookie, set_cookie
from tests.accounts.helpers import sign_up

PROD = "https://app.example.com"
DEV = "http://localhost:3000"
ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}


@pytest.fixture
def environment(monkeypatch):
    def use(env: str, base_url: str) -> None:
        monkeypatch.setenv("OMNIPOSTR_ENV", env)
        monkeypatch.setenv("OMNIPOSTR_BASE_URL", base_url)
        reset_settings()

    yield use
    monkeypatch.undo()
    reset_settings()


async def sample_responses(b: Browser, ticket: str) -> list[httpx.Response]:
    """A redirect with a cookie, a refusal, a method not allowed and a not found."""
    return [
        await b.post_form("/auth/session", {"ticket": ticket}),
        await b.post_form("/auth/logout", {}, origin="https://evil.example"),
        await b.ours.get("/auth/logout"),
        await b.ours.get("/no/such/page"),
    ]


@pytest.mark.promise("SEC-1")
async def test_production_sends_hsts_and_a_secure_host_prefixed_session_cookie(environment):
    environment("production", PROD)
    user = sign_up()
    ticket = db.in_session(service.issue_sign_in_ticket, user.id, "/app")
    async with Browser(build_app(), origin=PROD) as b:
        responses = await sample_responses(b, ticket)

        assert [r.status_code for r in responses] == [303, 403, 405, 404]
        for r in responses:
            assert r.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
            for name, value in ALWAYS.items():
                assert r.headers[name] == value
        signed_in = responses[0]
        assert set_cookie(signed_in, "omnipostr_session") is None
        cookie = set_cookie(signed_in, "__Host-omnipostr_session")
        assert cookie is not None and cookie["secure"] and cookie["httponly"]
        # what __Host- requires: Secure, Path=/, no Domain
        assert cookie["path"] == "/" and not cookie["domain"]
        assert "; Secure" in raw_set_cookie(signed_in, "__Host-omnipostr_session")
        token = b.ours.cookies.get("__Host-omnipostr_session")
        with db.session() as s:
            assert service.resolve_session(s, token, touch=False).user.id == user.id

        out = await b.post_form("/auth/logout", {})
        cleared = set_cookie(out, "__Host-omnipostr_session")
        assert cleared is not None and cleared["max-age"] == "0" and cleared["secure"]


@pytest.mark.promise("SEC-1")
@pytest.mark.parametrize("env", ["development", "test"])
async def test_outside_production_no_hsts_and_a_plain_cookie(environment, env):
    environment(env, DEV)
    user = sign_up()
    ticket = db.in_session(service.issue_sign_in_ticket, user.id, "/app")
    async with Browser(build_app(), origin=DEV) as b:
        responses = await sample_responses(b, ticket)
        assert [r.status_code for r in responses] == [303, 403, 405, 404]
        for r in responses:
            assert "strict-transport-security" not in r.headers
            for name, value in ALWAYS.items():
                assert r.headers[name] == value
        cookie = set_cookie(responses[0], "omnipostr_session")
        assert cookie is not None and not cookie["secure"] and cookie["httponly"]
        assert set_cookie(responses[0], "__Host-omnipostr_session") is None


@pytest.mark.promise("SEC-1")
async def test_production_sign_in_with_google_keeps_its_cookies_secure(environment, monkeypatch):
    with FakeOIDCProvider(redirect_uris=[f"{PROD}/auth/oauth/google/callback"]) as idp:
        for key, value in idp.env().items():
            monkeypatch.setenv(key, value)
        environment("production", PROD)
        sign_up(email="grace@example.com", name="Grace Hopper", team="Navy")
        async with Browser(build_app(), origin=PROD) as b:
            start, _, callback = await b.navigate("/auth/oauth/google/start")
            nonce = set_cookie(start, oauth.NONCE_COOKIE)
            assert nonce is not None and nonce["secure"] and nonce["httponly"]
            assert callback.headers["location"] == "/app"
            assert callback.headers["strict-transport-security"]
            session = set_cookie(callback, "__Host-omnipostr_session")
            assert session is not None and session["secure"] and session["httponly"]


async def test_headers_the_app_sets_itself_are_kept_and_errors_are_covered(environment):
    environment("production", PROD)

    async def framed(request):
        return PlainTextResponse("embeddable", headers={"X-Frame-Options": "SAMEORIGIN"})

    async def crash(request):
        raise RuntimeError("bug")

    app = security_headers(Starlette(routes=[Route("/framed", framed), Route("/crash", crash)]))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=PROD) as c:
        r = await c.get("/framed")
        assert r.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["strict-transport-security"]
        boom = await c.get("/crash")
        assert boom.status_code == 500
        assert boom.headers["x-content-type-options"] == "nosniff" and boom.headers["strict-transport-security"]


async def test_websockets_and_lifespan_pass_through_untouched(environment):
    environment("production", PROD)
    seen = []

    async def inner(scope, receive, send):
        seen.append(scope["type"])
        await send({"type": "websocket.accept", "headers": []})

    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "websocket.connect"}

    await security_headers(inner)({"type": "websocket", "path": "/_event"}, receive, send)
    assert seen == ["websocket"] and sent == [{"type": "websocket.accept", "headers": []}]


def _upload_app():
    from omnipostr.http_security import upload_limit

    async def upload(request):
        body = await request.body()
        return PlainTextResponse(f"read {len(body)}")

    return upload_limit(Starlette(routes=[Route("/_upload", upload, methods=["POST"])]))


async def test_an_upload_over_the_limit_is_refused_before_it_is_read(monkeypatch):
    monkeypatch.setenv("OMNIPOSTR_UPLOAD_MAX_BYTES", str(64 * 1024))
    reset_settings()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_upload_app()), base_url="http://t") as c:
            small = await c.post("/_upload", content=b"x" * 1000)
            declared = await c.post("/_upload", content=b"x" * (3 * 1024 * 1024))

            async def chunks():  # no Content-Length: counted as it arrives
                for _ in range(40):
                    yield b"y" * (64 * 1024)

            streamed = await c.post("/_upload", content=chunks())
    finally:
        monkeypatch.undo()
        reset_settings()
    assert small.status_code == 200 and small.text == "read 1000"
    assert declared.status_code == 413 and streamed.status_code == 413


@pytest.mark.promise("SEC-1")
async def test_the_development_mailbox_does_not_exist_in_production(environment):
    from omnipostr.notify import devmail

    def client() -> httpx.AsyncClient:
        app = security_headers(Starlette(routes=devmail.routes))
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    environment("development", DEV)
    async with client() as c:
        assert (await c.get(devmail.PATH, params={"key": devmail.mailbox_key()})).status_code in (200, 303)
    environment("production", PROD)
    async with client() as c:
        for params in ({"key": devmail.mailbox_key()}, {}):
            assert (await c.get(devmail.PATH, params=params)).status_code == 404
