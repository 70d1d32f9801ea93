"""The Content-Security-Policy of every response, as strict as Reflex allows.

What it allows, and why:

- ``script-src 'self'`` plus the SHA-256 of each inline script of the built pages (React
  Router's hydration data, the theme and scroll restorers; hashed from the build when the app
  serves it, so a script injected into a page never runs) plus ``'unsafe-eval'``: Reflex runs
  the JavaScript of ``rx.call_script`` events with ``eval``. Those scripts come only from the
  app's own event handlers, never from user input, and no inline script runs unhashed.
- ``style-src 'self' 'unsafe-inline'``: Radix Themes and Emotion write ``<style>`` elements
  at run time. Styles cannot run code.
- ``img-src 'self' data: blob:``, ``font-src 'self' data:``: the app's own files and the
  icons it inlines.
- ``connect-src``: the app's own origin, its websocket, and under ``make dev`` the back end's
  separate port. Nothing else: no third party is ever contacted from a page (NOT-2).
- ``form-action``: the app itself (sign-in and sign-out forms post to its back end).
- ``frame-ancestors 'none'``, ``object-src 'none'``, ``base-uri 'none'``.
- ``report-uri /csp-report``: a violation is logged and counted (``omnipostr_events_total``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import re
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from omnipostr.settings import get_settings

logger = logging.getLogger("omnipostr.csp")

REPORT_PATH = "/csp-report"
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def _static_dir() -> Path | None:
    try:
        from reflex.utils import prerequisites
        from reflex_base import constants

        return prerequisites.get_web_dir() / constants.Dirs.STATIC
    except Exception:  # no Reflex project around (a unit test of the middleware)
        return None


def inline_script_hashes(folder: Path | None) -> list[str]:
    """``'sha256-…'`` of every inline script in the built pages under ``folder``."""
    if folder is None or not folder.is_dir():
        return []
    return _hashes(str(folder), _stamp(folder))


def _stamp(folder: Path) -> float:
    """Changes when the front end is built again."""
    marks = [folder / "index.html", folder / "__spa-fallback.html"]
    return max((p.stat().st_mtime for p in marks if p.exists()), default=0.0)


@functools.lru_cache(maxsize=4)
def _hashes(folder: str, stamp: float) -> list[str]:
    found: set[str] = set()
    for page in sorted(Path(folder).rglob("*.html")):
        for body in _INLINE_SCRIPT.findall(page.read_bytes()):
            digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
            found.add(f"'sha256-{digest}'")
    return sorted(found)


def _origins(url: str) -> tuple[str, str]:
    """(http origin, websocket origin) of ``url``."""
    parts = urlsplit(url)
    ws = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc}", f"{ws}://{parts.netloc}"


def policy(hashes: list[str] | None = None) -> str:
    cfg = get_settings()
    page, page_ws = _origins(cfg.base_url)
    api, api_ws = _origins(cfg.api_url)
    others = " ".join(dict.fromkeys(x for x in (page, api) if x))
    sockets = " ".join(dict.fromkeys((page_ws, api_ws)))
    scripts = " ".join(["'self'", "'unsafe-eval'", *(hashes if hashes is not None else inline_script_hashes(_static_dir()))])
    directives = [
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        f"connect-src 'self' {others} {sockets}",
        f"form-action 'self' {others}",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "manifest-src 'self'",
        "worker-src 'self' blob:",
        f"report-uri {REPORT_PATH}",
    ]
    return "; ".join(directives)


def header_name() -> bytes:
    if get_settings().csp_report_only:
        return b"content-security-policy-report-only"
    return b"content-security-policy"


async def report(request: Request) -> Response:
    """Where browsers report a violation: logged (the blocked address's origin and the
    directive only) and counted."""
    from omnipostr import observe

    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > 64 * 1024:  # a report is small; anything bigger is not one
            return Response(status_code=413)
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = {}
    data = body.get("csp-report", body) if isinstance(body, dict) else {}
    blocked = str(data.get("blocked-uri", ""))[:200]
    directive = str(data.get("violated-directive") or data.get("effective-directive", ""))[:80]
    logger.warning("content security policy violation: directive=%s blocked=%s", directive, urlsplit(blocked).netloc or blocked[:40])
    observe.count_event("csp.violation")
    return Response(status_code=204)


routes = [Route(REPORT_PATH, report, methods=["POST"])]
