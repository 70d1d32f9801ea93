"""Sign in with Google (OpenID Connect) and GitHub (OAuth 2), through Authlib.

Shown only when configured. The authorisation request carries PKCE (S256) and a ``state``
that is a single-use token in our database, bound to this browser by a nonce cookie, so a
callback cannot be replayed or planted in another browser (login CSRF).
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client

from omnipostr import db
from omnipostr.accounts import service
from omnipostr.settings import get_settings

NONCE_COOKIE = "omnipostr_oauth"

PROVIDER_NAMES = {"google": "Google", "github": "GitHub"}


class OAuthFailure(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def enabled_providers() -> list[str]:
    cfg = get_settings()
    return [p for p, on in (("google", cfg.google_enabled), ("github", cfg.github_enabled)) if on]


def _redirect_uri(provider: str) -> str:
    return f"{get_settings().base_url}/auth/oauth/{provider}/callback"


def _client(provider: str) -> AsyncOAuth2Client:
    cfg = get_settings()
    if provider == "google":
        cid, secret, scope = cfg.google_client_id, cfg.google_client_secret, "openid email profile"
    else:
        cid, secret, scope = cfg.github_client_id, cfg.github_client_secret, "read:user user:email"
    return AsyncOAuth2Client(
        client_id=cid,
        client_secret=secret.get_secret_value() if secret else None,
        scope=scope,
        redirect_uri=_redirect_uri(provider),
        code_challenge_method="S256",
        timeout=10.0,
    )


async def _google_metadata() -> dict:
    async with httpx.AsyncClient(timeout=10.0) as http:
        r = await http.get(get_settings().google_metadata_url)
        r.raise_for_status()
        return r.json()


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def start(provider: str, next_path: str) -> tuple[str, str]:
    """(authorisation URL, nonce for the browser cookie)."""
    cfg = get_settings()
    nonce = generate_token(32)
    verifier = generate_token(64)
    data = json.dumps({"provider": provider, "next": next_path, "verifier": verifier, "nonce": _hash(nonce)})
    state = await db.run(lambda s: service.issue_token(s, "oauth_state", timedelta(minutes=10), data=data))
    if provider == "google":
        endpoint = (await _google_metadata())["authorization_endpoint"]
    else:
        endpoint = cfg.github_authorize_url
    async with _client(provider) as client:
        url, _ = client.create_authorization_url(endpoint, state=state, code_verifier=verifier)
    return url, nonce


async def finish(provider: str, *, state: str, code: str, nonce: str) -> tuple[service.SocialProfile, str]:
    """Check the callback and fetch the profile; returns (profile, next path)."""
    if not state or not code:
        raise OAuthFailure("missing_code")
    try:
        row = await db.run(service.take_token, "oauth_state", state)
    except service.AuthError:
        raise OAuthFailure("bad_state") from None
    info = json.loads(row.data)
    if info.get("provider") != provider or not nonce or _hash(nonce) != info.get("nonce"):
        raise OAuthFailure("state_not_for_this_browser")
    try:
        if provider == "google":
            profile = await _google_profile(code, info["verifier"])
        else:
            profile = await _github_profile(code, info["verifier"])
    except (httpx.HTTPError, KeyError, ValueError) as e:
        raise OAuthFailure(f"provider_error:{type(e).__name__}") from None
    return profile, service.safe_next(info.get("next"))


async def _google_profile(code: str, verifier: str) -> service.SocialProfile:
    meta = await _google_metadata()
    async with _client("google") as client:
        await client.fetch_token(meta["token_endpoint"], code=code, code_verifier=verifier)
        r = await client.get(meta["userinfo_endpoint"])
        r.raise_for_status()
        u = r.json()
    return service.SocialProfile(
        provider="google",
        subject=str(u["sub"]),
        email=str(u.get("email", "")),
        email_verified=bool(u.get("email_verified")),
        name=str(u.get("name") or u.get("given_name") or ""),
    )


async def _github_profile(code: str, verifier: str) -> service.SocialProfile:
    cfg = get_settings()
    api = cfg.github_api_url.rstrip("/")
    async with _client("github") as client:
        await client.fetch_token(
            cfg.github_token_url, code=code, code_verifier=verifier, headers={"Accept": "application/json"}
        )
        r = await client.get(f"{api}/user", headers={"Accept": "application/vnd.github+json"})
        r.raise_for_status()
        u = r.json()
        r2 = await client.get(f"{api}/user/emails", headers={"Accept": "application/vnd.github+json"})
        emails = r2.json() if r2.status_code == 200 else []
    primary = next((e for e in emails if e.get("primary") and e.get("verified")), None)
    return service.SocialProfile(
        provider="github",
        subject=str(u["id"]),
        email=str(primary["email"]) if primary else str(u.get("email") or ""),
        email_verified=primary is not None,
        name=str(u.get("name") or u.get("login") or ""),
    )
