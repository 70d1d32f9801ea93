"""The event connection never carries the session cookie into the app: the cookie is taken
off and replaced by the session's reference, which cannot be replayed."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from omnipostr import db
from omnipostr.accounts import service, session_header
from omnipostr.accounts.routes import cookie_name
from tests.accounts.helpers import sign_up


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({k.decode(): v.decode() for k, v in request.scope["headers"]})


async def ws_echo(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_json({k.decode(): v.decode() for k, v in ws.scope["headers"]})
    await ws.close()


APP = session_header.middleware(
    Starlette(routes=[Route("/_event/", echo), Route("/other", echo), WebSocketRoute("/_event", ws_echo)])
)


def _token() -> str:
    user = sign_up()
    with db.session() as s:
        token, _ = service.start_session(s, s.get(service.User, user.id), service.ClientInfo("1.2.3.4", "x"))
    return token


async def test_the_cookie_becomes_a_reference_on_the_event_endpoint():
    token = _token()
    cookie = f"theme=dark; {cookie_name()}={token}; other=1"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://t") as c:
        seen = (await c.get("/_event/", headers={"cookie": cookie, session_header.HEADER: "f" * 64})).json()
        elsewhere = (await c.get("/other", headers={"cookie": cookie})).json()
    assert "cookie" not in seen and token not in str(seen)
    assert seen[session_header.HEADER] == service.session_ref(token)  # the forged one is gone
    assert db.in_session(service.resolve_session_ref, seen[session_header.HEADER]).user.email == "ada@example.com"
    assert elsewhere["cookie"] == cookie  # other routes read their cookies as before


def test_the_websocket_handshake_is_rewritten_too():
    token = _token()
    with TestClient(APP).websocket_connect("/_event", headers={"cookie": f"{cookie_name()}={token}"}) as ws:
        seen = ws.receive_json()
    assert "cookie" not in seen and seen[session_header.HEADER] == service.session_ref(token)


async def test_without_a_session_cookie_no_reference_and_a_forged_one_is_dropped():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://t") as c:
        seen = (await c.get("/_event/", headers={session_header.HEADER: service.session_ref("guess")})).json()
    assert session_header.HEADER not in seen


def test_a_reference_is_not_a_cookie():
    token = _token()
    ref = service.session_ref(token)
    assert db.in_session(service.resolve_session, ref) is None  # as a cookie it signs nobody in
    assert db.in_session(service.resolve_session_ref, ref) is not None
