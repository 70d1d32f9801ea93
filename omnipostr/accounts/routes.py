"""HTTP routes that own the session cookie.

The cookie is set and cleared only here, by plain HTTP responses that end in a redirect, so
the browser always reloads afterwards and the event websocket reconnects with the new
cookie. The cookie is HttpOnly and SameSite=Lax (Secure and ``__Host-`` prefixed in
production); it holds a random token of which the database keeps only a keyed hash.

- ``POST /auth/session``: trade a one-minute sign-in ticket (made by the sign-in form's event
  handler after checking the password) for a session cookie.
- ``POST /auth/logout``: end the session.
- ``GET /auth/oauth/{provider}/start`` and ``/callback``: Google and GitHub sign-in.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from omnipostr import db
from omnipostr.accounts import oauth, service
from omnipostr.settings import get_settings

log = logging.getLogger(__name__)


def cookie_name() -> str:
    return "__Host-omnipostr_session" if get_settings().is_production else "omnipostr_session"


def client_ip(request: Request) -> str:
    hops = get_settings().trusted_proxy_hops
    if hops > 0:
        fwd = [p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()]
        if len(fwd) >= hops:
            return fwd[-hops]
    return request.client.host if request.client else ""


def client_info(request: Request) -> service.ClientInfo:
    return service.ClientInfo(ip=client_ip(request), user_agent=request.headers.get("user-agent", "")[:512])


def same_origin(request: Request) -> bool:
    """A state-changing POST must come from our own pages (defence beside SameSite=Lax)."""
    origin = request.headers.get("origin") or request.headers.get("referer") or ""
    if not origin:
        return False
    parts = urlsplit(origin)
    got = f"{parts.scheme}://{parts.netloc}"
    allowed = set(get_settings().cors_origins)
    host = request.headers.get("host", "")
    return got in allowed or parts.netloc == host


def set_session_cookie(response: Response, token: str) -> None:
    cfg = get_settings()
    response.set_cookie(
        cookie_name(),
        token,
        max_age=cfg.session_days * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=cfg.is_production,
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(cookie_name(), path="/", httponly=True, samesite="lax", secure=get_settings().is_production)


def redirect(path: str, **params: str) -> RedirectResponse:
    url = get_settings().page_url(path) + (("?" + urlencode(params)) if params else "")
    return RedirectResponse(url, status_code=303)


async def session_from_ticket(request: Request) -> Response:
    if not same_origin(request):
        return PlainTextResponse("Cross-site request refused.", status_code=403)
    form = await request.form()
    ticket = str(form.get("ticket", ""))
    info = client_info(request)

    def work(s):
        user, nxt = service.redeem_sign_in_ticket(s, ticket)
        token, _ = service.start_session(s, user, info, replaces=request.cookies.get(cookie_name()))
        return token, nxt

    try:
        token, nxt = await run_in_threadpool(db.in_session, work)
    except service.AuthError:
        return redirect("/login", error="expired")
    response = redirect(nxt)
    set_session_cookie(response, token)
    return response


async def logout(request: Request) -> Response:
    if not same_origin(request):
        return PlainTextResponse("Cross-site request refused.", status_code=403)
    token = request.cookies.get(cookie_name())
    await run_in_threadpool(db.in_session, service.end_session, token)
    response = redirect("/login", signed_out="1")
    clear_session_cookie(response)
    return response


async def oauth_start(request: Request) -> Response:
    provider = request.path_params["provider"]
    if provider not in oauth.enabled_providers():
        return PlainTextResponse("This sign-in method is not available.", status_code=404)
    nxt = service.safe_next(request.query_params.get("next"))
    try:
        url, nonce = await oauth.start(provider, nxt)
    except oauth.OAuthFailure as e:
        log.warning("social sign-in could not start: provider=%s reason=%s", provider, e.code)
        return redirect("/login", error="social_failed")
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        oauth.NONCE_COOKIE, nonce, max_age=600, path="/auth/oauth", httponly=True, samesite="lax",
        secure=get_settings().is_production,
    )
    return response


async def oauth_callback(request: Request) -> Response:
    provider = request.path_params["provider"]
    if provider not in oauth.enabled_providers():
        return PlainTextResponse("This sign-in method is not available.", status_code=404)
    if request.query_params.get("error"):
        return redirect("/login", error="social_cancelled")
    try:
        profile, nxt = await oauth.finish(
            provider,
            state=request.query_params.get("state", ""),
            code=request.query_params.get("code", ""),
            nonce=request.cookies.get(oauth.NONCE_COOKIE, ""),
        )
    except oauth.OAuthFailure as e:
        log.warning("social sign-in failed: provider=%s reason=%s", provider, e.code)
        return redirect("/login", error="social_failed")
    info = client_info(request)

    def work(s):
        user, pending = service.social_sign_in(s, profile)
        if user is None:
            return None, pending
        token, _ = service.start_session(s, user, info, method=provider, replaces=request.cookies.get(cookie_name()))
        return token, None

    token, pending = await run_in_threadpool(db.in_session, work)
    if token is None:
        response = redirect("/signup/finish", token=pending)
    else:
        response = redirect(nxt)
        set_session_cookie(response, token)
    response.delete_cookie(oauth.NONCE_COOKIE, path="/auth/oauth")
    return response


routes = [
    Route("/auth/session", session_from_ticket, methods=["POST"]),
    Route("/auth/logout", logout, methods=["POST"]),
    Route("/auth/oauth/{provider}/start", oauth_start, methods=["GET"]),
    Route("/auth/oauth/{provider}/callback", oauth_callback, methods=["GET"]),
]
