"""Security headers on every HTTP response (an ASGI wrapper; websockets pass through),
the Content-Security-Policy among them (``omnipostr.csp``), and the upload size limit.

In production the app runs behind a TLS-terminating proxy (see the README), so responses
carry HSTS and the session cookie is Secure.
"""

from __future__ import annotations

from omnipostr import csp
from omnipostr.settings import get_settings


def security_headers(app):
    cfg = get_settings()
    extra = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"x-frame-options", b"DENY"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ]
    if cfg.is_production:
        extra.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))

    async def wrapped(scope, receive, send):
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers.extend((k, v) for k, v in extra if k not in names)
                if csp.header_name() not in names:
                    headers.append((csp.header_name(), csp.policy().encode()))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped


UPLOAD_PATH = "/_upload"
UPLOAD_OVERHEAD = 1024 * 1024  # the multipart envelope and the event's arguments


def upload_limit(app):
    """Refuse an upload larger than ``upload_max_bytes`` before reading it: by its
    Content-Length, or, without one, as soon as more than the limit has arrived."""
    from starlette.responses import PlainTextResponse

    async def wrapped(scope, receive, send):
        if scope["type"] != "http" or not scope.get("path", "").startswith(UPLOAD_PATH):
            await app(scope, receive, send)
            return
        limit = get_settings().upload_max_bytes + UPLOAD_OVERHEAD
        too_large = PlainTextResponse("That file is larger than the upload limit.", status_code=413)
        length = dict(scope.get("headers", [])).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await too_large(scope, receive, send)
            return
        seen = 0
        answered = False  # the 413 went out: the app is told the client left, and is not heard

        async def counted():
            nonlocal seen, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    answered = True
                    await too_large(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def heard(message):
            if not answered:
                await send(message)

        try:
            await app(scope, counted, heard)
        except Exception:
            if not answered:
                raise

    return wrapped
