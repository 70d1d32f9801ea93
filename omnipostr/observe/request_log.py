"""The request log and request metrics, as a pure ASGI middleware.

For each HTTP request: an id (a sane incoming ``X-Request-ID`` is kept, else a new UUID),
echoed in the response's ``X-Request-ID`` header and attached to every log line the request
causes; one log line when it ends (request_id, method, path without the query string, route
template, status, duration_ms, client_ip); one latency observation in
``omnipostr_http_request_duration_seconds``. Bodies, query strings, cookies and
authorization headers are never read. Websocket and lifespan traffic passes through
untouched, so the event websocket works as before.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from omnipostr.observe import metrics
from omnipostr.observe.logs import redact, request_id_var

logger = logging.getLogger("omnipostr.request")

_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Routes of the app that are not Starlette routes with a template of their own.
_PREFIXES = ("/_event", "/_upload", "/_health", "/ping", "/api", "/_next", "/assets")


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def request_id_from(scope) -> str:
    incoming = _header(scope, b"x-request-id")
    if incoming and _SANE_ID.fullmatch(incoming):
        return incoming
    return str(uuid.uuid4())


def client_ip(scope, trusted_proxy_hops: int = 0) -> str:
    """The client's address; with ``trusted_proxy_hops`` proxies in front, taken from
    ``X-Forwarded-For`` as many hops from the right."""
    if trusted_proxy_hops > 0:
        forwarded = _header(scope, b"x-forwarded-for")
        if forwarded:
            hops = [h.strip() for h in forwarded.split(",") if h.strip()]
            if hops:
                return hops[-min(trusted_proxy_hops, len(hops))][:64]
    client = scope.get("client")
    return client[0] if client else "-"


def route_template(scope) -> str:
    """A bounded label for the route that served the request: its path template."""
    route = scope.get("route")
    path = scope.get("path", "")
    if route is not None:
        template = getattr(route, "path", None)
        if template is not None:
            root = scope.get("root_path", "") or ""
            app_root = scope.get("app_root_path", "") or ""
            prefix = root[len(app_root):] if root.startswith(app_root) else ""
            is_mount = hasattr(route, "routes") or type(route).__name__ == "Mount"
            if is_mount:
                return (template or "") + "/{path}" if template else _prefix_label(path)
            return (prefix + template) or "/"
    return _prefix_label(path)


def _prefix_label(path: str) -> str:
    for p in _PREFIXES:
        if path == p or path.startswith(p + "/"):
            return p + "/*" if path != p else p
    return "unmatched"


class RequestLogMiddleware:
    def __init__(self, app, *, trusted_proxy_hops: int | None = None) -> None:
        self.app = app
        if trusted_proxy_hops is None:
            try:
                from omnipostr.settings import get_settings

                trusted_proxy_hops = get_settings().trusted_proxy_hops
            except Exception:
                trusted_proxy_hops = 0
        self.trusted_proxy_hops = trusted_proxy_hops

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        rid = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        start = time.perf_counter()
        status = 500
        header = (b"x-request-id", rid.encode("latin-1"))

        async def send_wrapper(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", ()) if h[0].lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            duration = time.perf_counter() - start
            method = scope.get("method", "GET").upper()
            method = method if method in _METHODS else "OTHER"
            route = route_template(scope)
            path = redact(scope.get("path", ""))[:512]
            metrics.observe_request(method, route, status, duration)
            logger.log(
                logging.WARNING if status >= 500 else logging.INFO,
                "%s %s %s",
                method,
                path,
                status,
                extra={
                    "request_id": rid,
                    "method": method,
                    "path": path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(duration * 1000, 2),
                    "client_ip": client_ip(scope, self.trusted_proxy_hops),
                },
            )
            request_id_var.reset(token)


def middleware(app):
    """Wrap an ASGI app with the request log (use as a Reflex ``api_transformer``)."""
    return RequestLogMiddleware(app)
