"""Sign in with Google (OpenID Connect) and GitHub (OAuth 2), through Authlib.

Shown only when configured. The authorisation request carries PKCE (S256) and a ``state``
that is a single-use token in our database, bound to this browser by a nonce cookie, so a
callback cannot be replayed or planted in another browser (login CSRF).

Google's ID token is checked (RS256 signature against the provider's published keys, issuer,
audience, expiry) and the user info must be about the same subject (OpenID Connect Core
5.3.2). Anything that goes wrong talking to a provider is an :class:`OAuthFailure`, never an
error page.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from omnipostr import db
from omnipostr.accounts import service
from omnipostr.settings import get_settings

NONCE_COOKIE = "omnipostr_oauth"

PROVIDER_NAMES = {"google": "Google", "github": "GitHub"}

ID_TOKEN_LEEWAY_SECONDS = 120


def _http_errors() -> tuple[type[Exception], ...]:
    """Authlib's client is built on ``httpx2`` when it is installed (else on ``httpx``); its
    transport and status errors are not ``httpx.HTTPError``."""
    try:
        import httpx2
    except ImportError:
        return (httpx.HTTPError,)
    return (httpx.HTTPError, httpx2.HTTPError)


PROVIDER_ERRORS: tuple[type[Exception], ...] = (
    *_http_errors(),
    AuthlibBaseError,  # an OAuth error answer from the token endpoint (invalid_grant...)
    JoseError,  # an ID token that does not verify
    AttributeError,  # JSON of another shape than documented
    KeyError,
    TypeError,
    ValueError,  # includes JSON that does not parse
)


class OAuthFailure(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def enabled_providers() -> list[str]:
    cfg = get_settings()
    return [p for p, on in (("google", cfg.google_enabled), ("github", cfg.github_enabled)) if on]


def _redirect_uri(provider: str) -> str:
    return f"{get_settings().api_url}/auth/oauth/{provider}/callback"


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


async def _get_json(client: AsyncOAuth2Client, url: str) -> dict:
    """A public document (discovery, keys): fetched without the access token."""
    r = await client.request("GET", url, withhold_token=True)
    r.raise_for_status()
    data = r.json()
    if not isinstance(data, dict):
        raise ValueError(f"{url} did not answer a JSON object")
    return data


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def start(provider: str, next_path: str) -> tuple[str, str]:
    """(authorisation URL, nonce for the browser cookie); OAuthFailure when the provider's
    configuration cannot be read."""
    cfg = get_settings()
    async with _client(provider) as client:
        if provider == "google":
            try:
                endpoint = str((await _get_json(client, cfg.google_metadata_url))["authorization_endpoint"])
            except PROVIDER_ERRORS as e:
                raise OAuthFailure(f"provider_error:{type(e).__name__}") from None
        else:
            endpoint = cfg.github_authorize_url
        nonce = generate_token(32)
        verifier = generate_token(64)
        # ensure_ascii=False: a non-ASCII next path must not grow sixfold past the column's size
        data = json.dumps(
            {"provider": provider, "next": next_path, "verifier": verifier, "nonce": _hash(nonce)},
            ensure_ascii=False,
        )
        state = await db.run(lambda s: service.issue_token(s, "oauth_state", timedelta(minutes=10), data=data))
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
    except PROVIDER_ERRORS as e:
        raise OAuthFailure(f"provider_error:{type(e).__name__}") from None
    return profile, service.safe_next(info.get("next"))


def _is_true(value: object) -> bool:
    """A verified flag: JSON true (or the string "true" some providers send), never a
    non-empty string such as "false"."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def verify_id_token(id_token: str, jwks: dict, *, issuer: str, client_id: str) -> dict:
    """The claims of an RS256 ID token issued by ``issuer`` for ``client_id``; raises
    JoseError or ValueError when it does not verify."""
    token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["RS256"])
    # Google writes the issuer with or without its scheme
    issuers = [issuer, issuer.removeprefix("https://")]
    jwt.JWTClaimsRegistry(
        leeway=ID_TOKEN_LEEWAY_SECONDS,
        iss={"essential": True, "values": issuers},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    ).validate(token.claims)
    claims = token.claims
    if isinstance(claims["aud"], list) and len(claims["aud"]) > 1 and claims.get("azp") != client_id:
        raise ValueError("the ID token was issued to another client")
    return claims


async def _google_profile(code: str, verifier: str) -> service.SocialProfile:
    cfg = get_settings()
    async with _client("google") as client:
        meta = await _get_json(client, cfg.google_metadata_url)
        token = await client.fetch_token(meta["token_endpoint"], code=code, code_verifier=verifier)
        r = await client.get(meta["userinfo_endpoint"])
        r.raise_for_status()
        u = r.json()
        jwks = await _get_json(client, meta["jwks_uri"])
    claims = verify_id_token(str(token["id_token"]), jwks, issuer=str(meta["issuer"]), client_id=cfg.google_client_id)
    if str(u.get("sub")) != str(claims["sub"]):
        raise ValueError("the user info is about another subject than the ID token")
    return service.SocialProfile(
        provider="google",
        subject=str(claims["sub"]),
        email=str(u.get("email") or ""),
        email_verified=_is_true(u.get("email_verified")),
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
    primary = next((e for e in emails if e.get("primary") and _is_true(e.get("verified"))), None)
    return service.SocialProfile(
        provider="github",
        subject=str(u["id"]),
        email=str(primary["email"]) if primary else str(u.get("email") or ""),
        email_verified=primary is not None,
        name=str(u.get("name") or u.get("login") or ""),
    )
