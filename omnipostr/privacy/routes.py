"""HTTP routes of the privacy center.

Downloads, for the signed-in user (the session cookie):

- ``GET /privacy/exports/{id}.zip``: a copy of one's data (``export.py``), while it lasts.
- ``GET /schemas/privacy-export-1.json``: the schema of its JSON document.

One-click unsubscribe from marketing email (RFC 8058), signed out: the signed token in the
address is the only credential (``marketing.py``), so no cookie is needed and none is read.

- ``GET /unsubscribe/{token}``: a small page saying whose link it is, with a button. Opening
  it changes nothing: mail scanners open links.
- ``POST /unsubscribe/{token}`` with ``List-Unsubscribe=One-Click`` (what mail providers send
  for the ``List-Unsubscribe-Post`` header, and what the button sends): unsubscribes, 200.
  It has no Origin check, on purpose: a mail provider posts with no cookie and no Origin, and
  the unguessable token already proves the request comes from the email. Every other
  state-changing route keeps its own check (``accounts.routes.same_origin``).

These pages are plain HTML from this route: no script, no file from anywhere else, so they
work under the app's Content-Security-Policy and for anyone with the link.
"""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.formparsers import MultiPartParser
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from omnipostr import db
from omnipostr.accounts import service as accounts
from omnipostr.accounts.routes import client_ip, cookie_name
from omnipostr.privacy import marketing, service
from omnipostr.settings import get_settings

SCHEMA_FILE = Path(__file__).with_name("export.schema.json")


async def download_export(request: Request) -> Response:
    token = request.cookies.get(cookie_name())
    export_id = request.path_params["export_id"]

    def work(s):
        who = accounts.resolve_session(s, token)
        if who is None:
            return None
        return service.download(s, who.user.id, export_id, ip=client_ip(request)) or False

    found = await run_in_threadpool(db.in_session, work)
    if found is None:
        return PlainTextResponse("Sign in to download your data.", status_code=401)
    if found is False:
        return PlainTextResponse("There is no such download, or its time is up. Ask for a new one.", status_code=404)
    return Response(
        found,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="omnipostr-data.zip"', "Cache-Control": "no-store"},
    )


async def schema(request: Request) -> Response:
    return Response(SCHEMA_FILE.read_bytes(), media_type="application/schema+json")


# --- one-click unsubscribe -----------------------------------------------------------------

_FORM_LIMIT = 16 * 1024
"""The one-click body is 26 bytes; a form much larger than that is not one."""
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the address holds the token
    "X-Robots-Tag": "noindex",
}
_STYLE = (
    "body{margin:0;background:#f4f4f7;color:#1f2430;"
    "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;}"
    "main{max-width:480px;margin:48px auto;padding:24px 32px;background:#fff;border-radius:8px;}"
    ".brand{margin:0 0 16px;font-size:18px;font-weight:600;color:#5b4bdb;}"
    "h1{margin:0 0 12px;font-size:20px;}p{font-size:15px;line-height:1.55;}a{color:#5b4bdb;}"
    "button{padding:12px 20px;border:0;border-radius:6px;background:#5b4bdb;color:#fff;"
    "font-size:15px;font-weight:600;cursor:pointer;}"
    ".small{font-size:13px;color:#6b7080;}"
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    """A small page of its own: inline styles only (allowed by the app's CSP), no script."""
    e = html.escape
    doc = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{e(title)}</title><style>{_STYLE}</style></head>'
        f'<body><main><p class="brand">{e(get_settings().company_name)}</p><h1>{e(title)}</h1>{body}</main></body></html>'
    )
    return HTMLResponse(doc, status_code=status, headers=_PAGE_HEADERS)


def _settings_link(text: str = "privacy settings") -> str:
    href = get_settings().page_url(marketing.SETTINGS_PATH)
    return f'<a href="{html.escape(href)}">{html.escape(text)}</a> ({html.escape(marketing.SETTINGS_PATH)})'


def _not_valid() -> HTMLResponse:
    return _page(
        "This link does not work",
        "<p>This unsubscribe link is not valid. It may have been cut short: open the whole link "
        "from the email, or copy all of it into your browser.</p>"
        f"<p>You can always choose which emails you get in your {_settings_link()}, "
        "after signing in.</p>",
        status=400,
    )


async def _small_form(request: Request) -> dict[str, str] | None:
    """The posted form (URL-encoded or multipart, as RFC 8058 allows), or None when it is
    larger than a one-click form can be."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > _FORM_LIMIT:
        return None
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > _FORM_LIMIT:
            return None
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):

        async def body():
            yield raw

        try:
            form = await MultiPartParser(request.headers, body(), max_files=0, max_fields=20).parse()
        except Exception:  # a broken multipart body: as if nothing was posted
            return {}
        return {k: v for k, v in form.items() if isinstance(v, str)}
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))


async def unsubscribe_page(request: Request) -> Response:
    token = request.path_params["token"]
    who = await run_in_threadpool(db.in_session, marketing.subscriber_for, token)
    if who is None:
        return _not_valid()
    e = html.escape
    company = e(get_settings().company_name)
    if not who.subscribed:
        return _page(
            "You are not subscribed",
            f"<p>{e(who.address)} gets no product news from {company}.</p>"
            f'<p class="small">Changed your mind? Turn it back on in your {_settings_link()}.</p>',
        )
    return _page(
        "Unsubscribe from product news",
        f"<p>Stop product news from {company} to <strong>{e(who.address)}</strong>?</p>"
        f'<form method="post" action="{e(request.url.path)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>'
        f'<p class="small">Emails about your account, such as security notices, still come. '
        f"You can also change this in your {_settings_link()}.</p>",
    )


async def unsubscribe_one_click(request: Request) -> Response:
    token = request.path_params["token"]
    form = await _small_form(request)
    if form is None:
        return PlainTextResponse("That request is too large.", status_code=413)
    if form.get("List-Unsubscribe") != "One-Click":
        if marketing.read_token(token) is None:
            return _not_valid()
        return _page(
            "Nothing was changed",
            "<p>This request did not ask to unsubscribe. Open the link from the email and use "
            "its Unsubscribe button.</p>",
            status=400,
        )
    who = await run_in_threadpool(db.in_session, marketing.unsubscribe, token)
    if who is None:
        return _not_valid()
    e = html.escape
    return _page(
        "You are unsubscribed",
        f"<p>{e(who.address)} will get no more product news from {e(get_settings().company_name)}.</p>"
        f'<p class="small">Changed your mind? Turn it back on in your {_settings_link()}.</p>',
    )


routes = [
    Route("/privacy/exports/{export_id:int}.zip", download_export, methods=["GET"]),
    Route("/schemas/privacy-export-1.json", schema, methods=["GET"]),
    Route(marketing.UNSUBSCRIBE_PATH + "{token}", unsubscribe_page, methods=["GET"]),
    Route(marketing.UNSUBSCRIBE_PATH + "{token}", unsubscribe_one_click, methods=["POST"]),
]
