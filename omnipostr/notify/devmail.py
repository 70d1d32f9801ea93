"""The development mailbox: the operator's, never a visitor's.

Without an SMTP server (``make run`` on its defaults) no mail leaves the machine. It stays in
the outbox, and the person who runs the app reads it at ``/dev/mail``, which opens only with
a key printed in the terminal at start-up (as a notebook server prints its token). Nothing a
visitor types and no address they connect from decides what the page shows: with the key it
shows every message, without it nothing. A reverse proxy on the same machine changes nothing.

The page does not exist in production or when SMTP is configured. Opening it with
``?key=…`` sets a cookie for ``/dev/mail`` only and redirects to the bare address, so the key
does not stay in the address bar, the history or a Referer.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import html
import re
import sys

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from omnipostr import db
from omnipostr.notify import service
from omnipostr.settings import get_settings

PATH = "/dev/mail"
COOKIE = "omnipostr_devmail"


def enabled() -> bool:
    cfg = get_settings()
    return not cfg.is_production and not cfg.smtp_host


def mailbox_key() -> str:
    """The key that opens the mailbox: derived from the app's secret, so it survives a
    restart and is the same in every process."""
    return hmac.new(get_settings().signing_key(), b"omnipostr:dev-mailbox", hashlib.sha256).hexdigest()[:32]


def mailbox_url() -> str:
    cfg = get_settings()
    return f"{cfg.api_url}{PATH}?key={mailbox_key()}"


def announce(stream=None) -> None:
    """Print where the mailbox is, for the person at the terminal (not through the log,
    whose lines may be shipped elsewhere)."""
    if not enabled():
        return
    out = stream or sys.stderr
    print(
        "\n  No SMTP server is set (OMNIPOSTR_SMTP_HOST), so mail stays on this machine.\n"
        f"  Read it in the development mailbox: {mailbox_url()}\n",
        file=out,
        flush=True,
    )


@contextlib.asynccontextmanager
async def lifespan_task():
    """Reflex lifespan task: say where the mailbox is when the server starts."""
    announce()
    yield


def _key_ok(given: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), mailbox_key().encode())


_LINK = re.compile(r"https?://[^\s<>\"]+")


def _body(text: str) -> str:
    """The text of a mail, escaped, with the app's own links made clickable."""
    base = get_settings().base_url
    out, last = [], 0
    for m in _LINK.finditer(text):
        out.append(html.escape(text[last : m.start()]))
        url = m.group(0).rstrip(".,)")
        tail = m.group(0)[len(url) :]
        if url.startswith(base + "/") or url == base:
            out.append(f'<a href="{html.escape(url)}">{html.escape(url)}</a>')
        else:
            out.append(html.escape(url))
        out.append(html.escape(tail))
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _first_link(text: str) -> str:
    base = get_settings().base_url
    for m in _LINK.finditer(text):
        url = m.group(0).rstrip(".,)")
        if url.startswith(base + "/"):
            return url
    return ""


_STYLE = """
body { font-family: ui-sans-serif, system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1c2024; }
main { max-width: 760px; margin: 0 auto; padding: 2rem 1rem 4rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
p.lead { color: #4b5563; margin: 0 0 1.5rem; line-height: 1.5; }
article { background: #fff; border: 1px solid #e0e3e8; border-radius: 12px; padding: 1rem 1.25rem; margin-bottom: 1rem; }
article h2 { font-size: 1.1rem; margin: 0 0 .25rem; }
.meta { color: #4b5563; font-size: .9rem; margin: 0 0 .75rem; }
.open { display: inline-block; background: #3e63dd; color: #fff; padding: .45rem .9rem; border-radius: 8px;
  text-decoration: none; margin-bottom: .75rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f1f3f5; padding: .75rem; border-radius: 8px;
  font-size: .9rem; margin: 0; }
a { color: #3451b2; }
"""


def _page(title: str, inner: str, status: int = 200, *, refresh: int = 0) -> HTMLResponse:
    doc = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        + (f'<meta http-equiv="refresh" content="{refresh}">' if refresh else "")
        + f"<title>{html.escape(title)} · OmniPostr</title><style>{_STYLE}</style></head>"
        f"<body><main>{inner}</main></body></html>"
    )
    return HTMLResponse(doc, status_code=status, headers={"Cache-Control": "no-store"})


def _locked() -> HTMLResponse:
    return _page(
        "Development mailbox",
        "<h1>Development mailbox</h1>"
        '<p class="lead">This mailbox belongs to the person running this OmniPostr server. Its address, '
        "with its key, is printed in the terminal where the server was started.</p>",
        status=403,
    )


async def mailbox(request: Request) -> Response:
    if not enabled():
        return PlainTextResponse("Not found.", status_code=404)
    given = request.query_params.get("key", "")
    if given:
        if not _key_ok(given):
            return _locked()
        response = RedirectResponse(PATH, status_code=303)
        response.set_cookie(COOKIE, given, path=PATH, httponly=True, samesite="strict", max_age=30 * 86400)
        return response
    if not _key_ok(request.cookies.get(COOKIE, "")):
        return _locked()
    rows = await run_in_threadpool(db.in_session, service.newest, 100)
    items = []
    for m in rows:
        link = _first_link(m.text_body)
        items.append(
            "<article>"
            f"<h2>{html.escape(m.subject)}</h2>"
            f'<p class="meta">To: {html.escape(m.to_address)} · {m.created_at:%Y-%m-%d %H:%M} UTC</p>'
            + (f'<a class="open" href="{html.escape(link)}">Open the link in this email</a>' if link else "")
            + f"<pre>{_body(m.text_body)}</pre></article>"
        )
    inner = (
        "<h1>Development mailbox</h1>"
        '<p class="lead">No SMTP server is configured, so the mail OmniPostr sends stays here, for you, the '
        "person running this server. Set OMNIPOSTR_SMTP_HOST to send real mail. Mail takes a second or "
        f'two to arrive: <a href="{PATH}">check again</a>.</p>'
        + ("".join(items) if items else "<p>No mail yet. This page checks again every few seconds.</p>")
    )
    return _page("Development mailbox", inner, refresh=0 if items else 3)


routes = [Route(PATH, mailbox, methods=["GET"])]
