"""The event connection never carries the session cookie into the app's state.

Reflex keeps the headers of the event connection (the websocket) in each tab's state, and a
state manager may store that state outside the process (Redis with several workers). A
stored ``Cookie`` header would be a live session token at rest. So this ASGI wrapper, in
front of the event endpoint, takes the ``Cookie`` header off the connection request and
puts in its place one header, ``x-omnipostr-session``, holding the session's reference: the
keyed hash the database keeps of the token (``service.session_ref``). The pages resolve the
signed-in member from that reference.

A reference cannot be replayed: the cookie is what signs a browser in, and any
``x-omnipostr-session`` header a client sends is dropped here before the app sees it, so the
only way to get a reference in is to present the real cookie.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from omnipostr.accounts.routes import cookie_name
from omnipostr.accounts.service import session_ref

HEADER = "x-omnipostr-session"
_HEADER_BYTES = HEADER.encode()
EVENT_PATH = "/_event"


def _token(raw_cookies: list[bytes]) -> str:
    name = cookie_name()
    for raw in raw_cookies:
        jar = SimpleCookie()
        try:
            jar.load(raw.decode("latin-1"))
        except Exception:  # noqa: S112 - another site's malformed cookie: look at the next header
            continue
        morsel = jar.get(name)
        if morsel is not None and morsel.value:
            return morsel.value
    return ""


def rewrite_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The connection's headers without cookies and without a client-sent reference, plus
    the reference of the session cookie when there is one."""
    cookies = [v for k, v in headers if k.lower() == b"cookie"]
    out = [(k, v) for k, v in headers if k.lower() not in (b"cookie", _HEADER_BYTES)]
    token = _token(cookies)
    if token and len(token) <= 200:
        out.append((_HEADER_BYTES, session_ref(token).encode()))
    return out


def middleware(app):
    """ASGI wrapper: rewrite the headers of every request to the event endpoint."""

    async def wrapped(scope, receive, send):
        if scope["type"] in ("http", "websocket") and scope.get("path", "").startswith(EVENT_PATH):
            scope = {**scope, "headers": rewrite_headers(list(scope.get("headers", [])))}
        await app(scope, receive, send)

    return wrapped
