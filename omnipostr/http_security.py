"""Security headers on every HTTP response (an ASGI wrapper; websockets pass through).

In production the app runs behind a TLS-terminating proxy (see the README), so responses
carry HSTS and the session cookie is Secure.
"""

from __future__ import annotations

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
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped
