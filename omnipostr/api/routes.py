"""The REST API, version 1, under ``/api/v1`` (the OpenAPI document is ``/api/v1/openapi.json``).

Every request presents a key as ``Authorization: Bearer op_…`` (API-1). Before anything is
done, it is counted against its address's limit and its key's (the plan's requests a minute,
API-2): over either it gets 429 with ``Retry-After`` and nothing happens. Every answer to a
counted request carries the ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``
headers of the key (or, before a key is known, of the address). Errors are problem documents
(RFC 9457, ``application/problem+json``); a generation refused because the plan's quota is used
up is 402 with the address of the billing page. The routes call the same services as the
pages, as the member the key acts for, so a key sees its own workspace only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnipostr import db
from omnipostr.accounts import ratelimit
from omnipostr.accounts.routes import client_ip
from omnipostr.api import keys
from omnipostr.api.openapi import document as openapi_document
from omnipostr.library import export
from omnipostr.library import service as library
from omnipostr.repurpose import generations, platforms
from omnipostr.repurpose import service as compose
from omnipostr.settings import get_settings
from omnipostr.usage import service as usage

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
MAX_BODY = 1024 * 1024
PAGE_MAX = 100


class Problem(Exception):
    """An answer that is not a success: a problem document with its status."""

    def __init__(self, status: int, slug: str, title: str, detail: str, *, headers: dict[str, str] | None = None,
                 **extra: Any):
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> JSONResponse:
        body = {"type": f"urn:omnipostr:problem:{self.slug}", "title": self.title, "status": self.status,
                "detail": self.detail, **self.extra}
        return JSONResponse(body, status_code=self.status, headers=self.headers, media_type=PROBLEM)


def _limit_headers(w: ratelimit.Window) -> dict[str, str]:
    return {"RateLimit-Limit": str(w.limit), "RateLimit-Remaining": str(w.remaining),
            "RateLimit-Reset": str(w.reset_seconds), "RateLimit-Policy": f"{w.limit};w=60"}


def _too_many(w: ratelimit.Window, whose: str) -> Problem:
    return Problem(429, "rate-limited", "Too many requests",
                   f"{whose} may make {w.limit} requests a minute. Try again in {w.reset_seconds} s.",
                   headers={**_limit_headers(w), "Retry-After": str(w.reset_seconds)})


@dataclass
class Call:
    """A request that passed the checks: who calls, and the headers its answer carries."""

    caller: keys.Caller
    headers: dict[str, str] = field(default_factory=dict)


def _admit(s, ip: str, authorization: str, scope: str) -> Call:
    """The checks every request passes before anything is done, in order: the address's
    limit, the key, the plan, the key's limit, the scope."""
    cfg = get_settings()
    by_ip = ratelimit.take("api-ip", ip, cfg.api_ip_requests_per_minute)
    if not by_ip.allowed:
        raise _too_many(by_ip, "One address")
    kind, _, presented = (authorization or "").partition(" ")
    if kind.lower() != "bearer" or not presented.strip():
        raise Problem(401, "unauthenticated", "An API key is needed",
                      "Send your key as 'Authorization: Bearer op_…'. Owners and admins make keys in Settings → API keys.",
                      headers={**_limit_headers(by_ip), "WWW-Authenticate": 'Bearer realm="omnipostr"'})
    caller = keys.authenticate(s, presented.strip())
    if caller is None:
        raise Problem(401, "invalid-key", "This API key is not valid",
                      "The key is unknown or was revoked, or the member it acts for left the workspace.",
                      headers={**_limit_headers(by_ip),
                               "WWW-Authenticate": 'Bearer realm="omnipostr", error="invalid_token"'})
    if not caller.plan.api_access:
        raise Problem(403, "plan-without-api", "The plan has no API access", keys.NO_ACCESS,
                      headers=_limit_headers(by_ip), plan=caller.plan.name, upgrade_url=cfg.base_url + "/billing")
    by_key = ratelimit.take("api-key", str(caller.key_id), caller.plan.api_requests_per_minute)
    if not by_key.allowed:
        raise _too_many(by_key, f"A key on the {caller.plan.name} plan")
    if scope not in caller.scopes:
        raise Problem(403, "insufficient-scope", "The key may not do this",
                      f"This needs a key with the scope '{scope}'; this key has: {', '.join(sorted(caller.scopes))}.",
                      headers={**_limit_headers(by_key),
                               "WWW-Authenticate": f'Bearer realm="omnipostr", error="insufficient_scope", scope="{scope}"'})
    return Call(caller, _limit_headers(by_key))


def _record(s, call: Call, request: Request, route: str, status: int) -> None:
    """USE-1: a usage event for every API call that a key made."""
    usage.record(s, "api.call", workspace_id=call.caller.actor.workspace_id, user_id=call.caller.actor.user_id,
                 method=request.method, route=route, status=status, key=call.caller.prefix)


Handler = Callable[[Request, Call], Awaitable[tuple[int, Any, dict[str, str]]]]


def endpoint(scope: str, route: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """A route of the API: the checks, then ``handler(request, call)`` answering (status,
    body, extra headers), then its usage event; a ``Problem`` raised anywhere is the answer."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            ip, authorization = client_ip(request), request.headers.get("authorization", "")
            try:
                call = await db.run(_admit, ip, authorization, scope)
            except Problem as p:
                return p.response()
            try:
                status, body, extra = await handler(request, call)
                response: Response = JSONResponse(body, status_code=status, headers={**call.headers, **extra})
            except Problem as p:
                p.headers = {**call.headers, **p.headers}
                status, response = p.status, p.response()
            try:
                await db.run(_record, call, request, route, status)
            except Exception:  # the answer stands; the usage event is not worth failing it
                log.exception("could not record an API call")
            return response

        return serve

    return wrap


# --- generations ------------------------------------------------------------------------------


def _int(value: str | None, name: str, default: int, lo: int, hi: int) -> int:
    if value in (None, ""):
        return default
    try:
        n = int(value)
    except ValueError:
        raise Problem(422, "invalid-request", "The request is not valid", f"'{name}' must be a whole number.",
                      field=name) from None
    if not lo <= n <= hi:
        raise Problem(422, "invalid-request", "The request is not valid", f"'{name}' must be from {lo} to {hi}.",
                      field=name)
    return n


def _item(i: library.LibraryItem) -> dict:
    return {"id": i.id, "title": i.title, "platforms": i.platforms, "status": i.status, "engine": i.engine,
            "created_at": i.created_at.isoformat(), "posts": i.variants, "url": f"/api/v1/generations/{i.id}"}


@endpoint("generations:read", "GET /api/v1/generations")
async def list_generations(request: Request, call: Call):
    q = request.query_params
    platform = q.get("platform", "")
    if platform and platform not in platforms.PLATFORMS:
        raise Problem(422, "invalid-request", "The request is not valid", f"There is no platform called '{platform}'.",
                      field="platform")
    limit = _int(q.get("limit"), "limit", 20, 1, PAGE_MAX)
    page = await db.run(library.list_generations, call.caller.actor, query=q.get("q", "")[:200], platform=platform,
                        status=q.get("status", "")[:16], cursor=q.get("cursor", "")[:100], limit=limit)
    return 200, {"items": [_item(i) for i in page.items], "next_cursor": page.next_cursor or None}, {}


def _generation(s, actor, generation_id: int) -> dict:
    view = library.get_generation(s, actor, generation_id)
    body = export.document(view)
    body["progress"] = [{"platform": v.platform, "status": v.status, "error": v.error} for v in view.variants]
    return body


@endpoint("generations:read", "GET /api/v1/generations/{id}")
async def get_generation(request: Request, call: Call):
    try:
        gid = int(request.path_params["id"])
        return 200, await db.run(_generation, call.caller.actor, gid), {}
    except (ValueError, compose.NotFound):
        raise Problem(404, "not-found", "No such generation",
                      "There is no generation with this id in the key's workspace.") from None


_TEXT_FIELDS = ("title", "tone", "audience", "language", "emoji", "call_to_action", "link")


def _compose_request(body: Any) -> compose.ComposeRequest:
    def invalid(detail: str, name: str) -> Problem:
        return Problem(422, "invalid-request", "The request is not valid", detail, field=name)

    if not isinstance(body, dict):
        raise invalid("The body must be a JSON object with 'text' and 'platforms'.", "body")
    unknown = sorted(set(body) - {"text", "platforms", "hashtags", "brand_voice_id", *_TEXT_FIELDS})
    if unknown:
        raise invalid(f"Unknown field '{unknown[0]}'.", unknown[0])
    text, chosen = body.get("text"), body.get("platforms")
    if not isinstance(text, str):
        raise invalid("'text' must be the article or script, as a string.", "text")
    if not isinstance(chosen, list) or not all(isinstance(p, str) for p in chosen):
        raise invalid("'platforms' must be a list of platform ids, e.g. [\"x\", \"linkedin\"].", "platforms")
    options: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        if name in body:
            if not isinstance(body[name], str):
                raise invalid(f"'{name}' must be a string.", name)
            options[name] = body[name]
    if "hashtags" in body:
        if not isinstance(body["hashtags"], bool):
            raise invalid("'hashtags' must be true or false.", "hashtags")
        options["hashtags"] = body["hashtags"]
    voice = body.get("brand_voice_id")
    if voice is not None and (not isinstance(voice, int) or isinstance(voice, bool)):
        raise invalid("'brand_voice_id' must be a whole number.", "brand_voice_id")
    return compose.ComposeRequest(text=text, platforms=chosen, kind="paste", brand_voice_id=voice,
                                  call_to_action=options.pop("call_to_action", ""), **options)


@endpoint("generations:write", "POST /api/v1/generations")
async def start_generation(request: Request, call: Call):
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Problem(413, "too-large", "The request is too large", f"A request body is at most {MAX_BODY // 1024} KB.")
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise Problem(422, "invalid-request", "The request is not valid", "The body is not valid JSON.",
                      field="body") from None
    req = _compose_request(body)
    try:
        started = await generations.start(call.caller.actor, req)
    except compose.ComposeError as e:
        if e.field == "quota":
            raise Problem(402, "quota-exceeded", "The plan's generations are used up", e.message,
                          plan=call.caller.plan.name, upgrade_url=get_settings().base_url + "/billing") from None
        if e.field == "restricted":
            raise Problem(403, "processing-restricted", "Processing is restricted", e.message) from None
        raise Problem(422, "invalid-request", "The request is not valid", e.message, field=e.field or "body") from None
    gen = started.generation
    url = f"/api/v1/generations/{gen.id}"
    body = {"id": gen.id, "title": gen.title, "status": gen.status, "platforms": list(gen.platforms), "url": url}
    return 202, body, {"Location": url}


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(get_settings().base_url))


routes = [
    Route("/api/v1/openapi.json", openapi, methods=["GET"]),
    Route("/api/v1/generations", list_generations, methods=["GET"]),
    Route("/api/v1/generations", start_generation, methods=["POST"]),
    Route("/api/v1/generations/{id}", get_generation, methods=["GET"]),
]
