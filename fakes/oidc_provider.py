"""A loopback sign-in provider: OpenID Connect like Google, and OAuth 2 like GitHub, over HTTP.

    with FakeOIDCProvider(redirect_uris=[...]) as idp:   # 127.0.0.1, a free port
        env = idp.env()                # OMNIPOSTR_GOOGLE_* and OMNIPOSTR_GITHUB_* pointing here
        idp.configure(user=ProviderUser(sub="42", email="grace@example.com", email_verified=False))
        idp.configure(deny=True)       # the person clicks "Cancel" on the consent screen
        idp.configure(fault="token_server_error")   # the token endpoint answers 500
        idp.requests                   # what the browser and the app sent, in order

OpenID Connect (issuer: the server's base URL), as Google speaks it:
``GET /.well-known/openid-configuration``; ``GET /authorize`` checks ``client_id`` and
``redirect_uri`` (an error page, never a redirect, when they are wrong), ``response_type=code``,
an ``openid`` scope, a ``state`` and a PKCE ``code_challenge`` with method ``S256``, then
redirects straight back with ``code`` and ``state`` for the configured person (there is no
login page), or with ``error=access_denied`` when ``deny`` is on; ``POST /token`` takes the
client's credentials by ``client_secret_basic`` or ``client_secret_post``, checks the code
(single use, ten minutes, issued to this client), the ``redirect_uri`` and the PKCE
``code_verifier``, and answers ``access_token``, ``token_type``, ``expires_in``, ``scope`` and an
``id_token`` signed with RS256 by a key generated at start; ``GET /userinfo`` (Bearer);
``GET /jwks`` publishes the public key. Errors use RFC 6749's JSON shape.

GitHub, under ``/github``: ``GET /github/login/oauth/authorize`` (optional PKCE, S256 only),
``POST /github/login/oauth/access_token`` (JSON when ``Accept: application/json``, else
form-encoded; errors as GitHub sends them, HTTP 200 with an ``error`` field),
``GET /github/api/user`` and ``GET /github/api/user/emails`` (``primary``/``verified``
flags; needs the ``user:email`` scope), with ``Authorization: Bearer`` or ``token``.

The person is a :class:`ProviderUser`: subject, email (``None``: no address at all),
``email_verified``, name, GitHub login, more GitHub addresses, and ``extra_claims`` merged
into the user info and the ID token. Faults (``configure(fault=...)``, until cleared):
``token_server_error`` (the token endpoint answers 500), ``token_invalid_grant`` (it refuses
the code), ``id_token_bad_signature`` (signed by an unpublished key), ``id_token_wrong_audience``,
``userinfo_other_subject`` (the user info is about someone else), ``userinfo_server_error``.

Admin endpoints: ``GET/DELETE /_fake/requests``, ``POST /_fake/config`` (JSON: ``user``,
``deny``, ``fault``), ``POST /_fake/reset``.

Run it for demos::

    python -m fakes.oidc_provider --port 8790 --email grace@example.com --name "Grace Hopper"
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import logging
import re
import secrets
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from fakes.loopback import LoopbackServer

__all__ = ["FAULTS", "FakeOIDCProvider", "ProviderUser", "RecordedRequest"]

FAULTS = (
    "token_server_error",
    "token_invalid_grant",
    "id_token_bad_signature",
    "id_token_wrong_audience",
    "userinfo_other_subject",
    "userinfo_server_error",
)

CODE_TTL = 600
ACCESS_TOKEN_TTL = 3599
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


@dataclass
class ProviderUser:
    """The person who signs in at the provider."""

    sub: str = "108234567890123456789"
    email: str | None = "grace@example.com"
    email_verified: bool = True
    name: str = "Grace Hopper"
    login: str = "grace"
    secondary_emails: list[tuple[str, bool]] = field(default_factory=list)
    """More GitHub addresses (address, verified); never primary."""
    public_email: bool = False
    """GitHub: show the address as the profile's public email in ``/user``."""
    extra_claims: dict[str, Any] = field(default_factory=dict)
    """Merged into the OIDC user info and ID token (e.g. ``{"email_verified": "false"}``)."""

    @property
    def github_id(self) -> int:
        if self.sub.isdigit() and len(self.sub) <= 12:
            return int(self.sub)
        return int(hashlib.sha256(self.sub.encode()).hexdigest()[:10], 16)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]
    status: int = 0


@dataclass
class _Grant:
    provider: str
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str
    user: ProviderUser
    expires: float
    used: bool = False


@dataclass
class _Access:
    provider: str
    client_id: str
    scope: str
    user: ProviderUser
    expires: float


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Exception in ASGI application" not in record.getMessage()


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _half_hash(value: str) -> str:
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def _with_params(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


class FakeOIDCProvider(LoopbackServer):
    thread_name = "fake-oidc"
    _log_filter = _QuietDrops()

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        client_id: str = "omnipostr-google-client",
        client_secret: str = "google-client-secret",  # noqa: S107 (a test credential)
        github_client_id: str = "omnipostr-github-client",
        github_client_secret: str = "github-client-secret",  # noqa: S107 (a test credential)
        redirect_uris: list[str] | None = None,
        user: ProviderUser | None = None,
        require_pkce: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self.client_secret = client_secret
        self.github_client_id = github_client_id
        self.github_client_secret = github_client_secret
        self.redirect_uris = list(redirect_uris) if redirect_uris is not None else None
        """Registered callbacks; ``None`` accepts any absolute http(s) URI."""
        self.require_pkce = require_pkce
        self._initial_user = copy.deepcopy(user or ProviderUser())
        self.user = copy.deepcopy(self._initial_user)
        self.deny = False
        self.fault: str | None = None
        self._lock = threading.RLock()
        self._grants: dict[str, _Grant] = {}
        self._tokens: dict[str, _Access] = {}
        self._requests: list[RecordedRequest] = []
        self._key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"})
        self._rogue_key = RSAKey.generate_key(2048, parameters={"kid": self._key.kid, "alg": "RS256"})
        self._init_server()
        self.app = self._build_app()

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/.well-known/openid-configuration"

    def env(self) -> dict[str, str]:
        """The app's settings that point Google and GitHub sign-in here."""
        return {
            "OMNIPOSTR_GOOGLE_CLIENT_ID": self.client_id,
            "OMNIPOSTR_GOOGLE_CLIENT_SECRET": self.client_secret,
            "OMNIPOSTR_GOOGLE_METADATA_URL": self.metadata_url,
            "OMNIPOSTR_GITHUB_CLIENT_ID": self.github_client_id,
            "OMNIPOSTR_GITHUB_CLIENT_SECRET": self.github_client_secret,
            "OMNIPOSTR_GITHUB_AUTHORIZE_URL": f"{self.base_url}/github/login/oauth/authorize",
            "OMNIPOSTR_GITHUB_TOKEN_URL": f"{self.base_url}/github/login/oauth/access_token",
            "OMNIPOSTR_GITHUB_API_URL": f"{self.base_url}/github/api",
        }

    def _asgi_app(self):
        return self.app

    # --- knobs and the request log ------------------------------------------------------------

    def configure(self, *, user: ProviderUser | None = None, deny: bool | None = None, fault: Any = ...) -> None:
        """Change the person who signs in, whether they refuse consent, and the fault
        (``fault=None`` clears it)."""
        with self._lock:
            if user is not None:
                self.user = copy.deepcopy(user)
            if deny is not None:
                self.deny = deny
            if fault is not ...:
                if fault is not None and fault not in FAULTS:
                    raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
                self.fault = fault

    def reset(self) -> None:
        """Back to the initial person, no faults, empty log, no codes or tokens."""
        with self._lock:
            self.user = copy.deepcopy(self._initial_user)
            self.deny = False
            self.fault = None
            self._grants.clear()
            self._tokens.clear()
            self._requests.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # --- the app ------------------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        def logged(handler):
            async def endpoint(request: Request) -> Response:
                await request.body()
                form: dict[str, str] = {}
                if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                    form = {k: str(v) for k, v in (await request.form()).items()}
                rec = RecordedRequest(
                    method=request.method,
                    path=request.url.path,
                    query=dict(request.query_params),
                    headers={k.lower(): v for k, v in request.headers.items()},
                    form=form,
                )
                with self._lock:
                    self._requests.append(rec)
                response = await handler(request, form)
                rec.status = response.status_code
                return response

            return endpoint

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", logged(self._discovery), methods=["GET"]),
                Route("/authorize", logged(self._google_authorize), methods=["GET"]),
                Route("/token", logged(self._google_token), methods=["POST"]),
                Route("/userinfo", logged(self._google_userinfo), methods=["GET", "POST"]),
                Route("/jwks", logged(self._jwks), methods=["GET"]),
                Route("/github/login/oauth/authorize", logged(self._github_authorize), methods=["GET"]),
                Route("/github/login/oauth/access_token", logged(self._github_token), methods=["POST"]),
                Route("/github/api/user", logged(self._github_user), methods=["GET"]),
                Route("/github/api/user/emails", logged(self._github_emails), methods=["GET"]),
                Route("/_fake/requests", self._admin_requests, methods=["GET", "DELETE"]),
                Route("/_fake/config", self._admin_config, methods=["POST"]),
                Route("/_fake/reset", self._admin_reset, methods=["POST"]),
            ]
        )

    # --- shared pieces ------------------------------------------------------------------------

    def _redirect_ok(self, uri: str) -> bool:
        if not uri:
            return False
        if self.redirect_uris is None:
            return uri.startswith(("http://", "https://"))
        return uri in self.redirect_uris

    @staticmethod
    def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str, str] | None:
        """(client_id, secret, method) from Basic auth or the form; None when both or neither."""
        basic = request.headers.get("authorization", "")
        in_form = "client_secret" in form
        if basic.lower().startswith("basic "):
            if in_form:
                return None
            try:
                raw = base64.b64decode(basic[6:].strip(), validate=True).decode()
            except ValueError:
                return None
            cid, sep, secret = raw.partition(":")
            if not sep:
                return None
            return unquote(cid), unquote(secret), "client_secret_basic"
        if in_form:
            return form.get("client_id", ""), form["client_secret"], "client_secret_post"
        return None

    def _issue_code(self, provider: str, client_id: str, redirect_uri: str, scope: str, challenge: str) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                provider=provider,
                client_id=client_id,
                redirect_uri=redirect_uri,
                scope=scope,
                challenge=challenge,
                user=copy.deepcopy(self.user),
                expires=time.time() + CODE_TTL,
            )
        return code

    def _redeem_code(self, provider: str, client_id: str, form: dict[str, str]) -> tuple[_Grant | None, str]:
        """(grant, "") or (None, why)."""
        with self._lock:
            grant = self._grants.get(form.get("code", ""))
            if grant is None or grant.provider != provider or grant.client_id != client_id:
                return None, "unknown code"
            if grant.used:
                # a code used twice: the tokens it gave are revoked too (RFC 6749 4.1.2)
                for tok, acc in list(self._tokens.items()):
                    if acc.user.sub == grant.user.sub and acc.client_id == client_id:
                        del self._tokens[tok]
                return None, "code already used"
            if grant.expires < time.time():
                return None, "code expired"
            grant.used = True
        sent_uri = form.get("redirect_uri")
        if provider == "google" and sent_uri != grant.redirect_uri:
            return None, "redirect_uri does not match the authorization request"
        if provider == "github" and sent_uri is not None and sent_uri != grant.redirect_uri:
            return None, "redirect_uri does not match the authorization request"
        verifier = form.get("code_verifier")
        if grant.challenge:
            if not verifier or not _VERIFIER.match(verifier) or _s256(verifier) != grant.challenge:
                return None, "code_verifier does not match the code_challenge"
        elif verifier:
            return None, "code_verifier sent for a code issued without a code_challenge"
        return grant, ""

    def _issue_access(self, grant: _Grant) -> str:
        token = ("gho_" if grant.provider == "github" else "ya29.") + secrets.token_urlsafe(30)
        with self._lock:
            self._tokens[token] = _Access(
                provider=grant.provider,
                client_id=grant.client_id,
                scope=grant.scope,
                user=grant.user,
                expires=time.time() + ACCESS_TOKEN_TTL,
            )
        return token

    def _bearer(self, request: Request, provider: str, schemes: tuple[str, ...] = ("bearer",)) -> _Access | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in schemes or not token.strip():
            return None
        with self._lock:
            acc = self._tokens.get(token.strip())
        if acc is None or acc.provider != provider or acc.expires < time.time():
            return None
        return acc

    # --- OpenID Connect (Google) --------------------------------------------------------------

    def _claims(self, user: ProviderUser, scope: str) -> dict[str, Any]:
        scopes = set(scope.split())
        out: dict[str, Any] = {"sub": user.sub}
        if "email" in scopes and user.email is not None:
            out["email"] = user.email
            out["email_verified"] = user.email_verified
        if "profile" in scopes:
            out["name"] = user.name
            first, _, last = user.name.partition(" ")
            out["given_name"] = first
            if last:
                out["family_name"] = last
            out["picture"] = f"{self.base_url}/avatars/{user.sub}.png"
        out.update(user.extra_claims)
        return out

    async def _discovery(self, request: Request, form: dict[str, str]) -> Response:
        base = self.base_url
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/userinfo",
                "jwks_uri": f"{base}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "claims_supported": [
                    "aud", "email", "email_verified", "exp", "family_name", "given_name", "iat",
                    "iss", "name", "picture", "sub",
                ],
                "code_challenge_methods_supported": ["S256"],
                "grant_types_supported": ["authorization_code"],
            }
        )

    async def _jwks(self, request: Request, form: dict[str, str]) -> Response:
        return JSONResponse({"keys": [self._key.as_dict(private=False)]})

    async def _google_authorize(self, request: Request, form: dict[str, str]) -> Response:
        q = request.query_params
        client_id, redirect_uri = q.get("client_id", ""), q.get("redirect_uri", "")
        if client_id != self.client_id:
            return PlainTextResponse("Error 401: invalid_client. The OAuth client was not found.", status_code=401)
        if not self._redirect_ok(redirect_uri):
            return PlainTextResponse("Error 400: redirect_uri_mismatch", status_code=400)
        state = q.get("state")

        def fail(error: str, description: str) -> Response:
            params = {"error": error, "error_description": description}
            if state is not None:
                params["state"] = state
            return RedirectResponse(_with_params(redirect_uri, params), status_code=302)

        if q.get("response_type") != "code":
            return fail("unsupported_response_type", "Only the authorization code flow is supported.")
        scope = q.get("scope", "")
        if "openid" not in scope.split():
            return fail("invalid_scope", "The openid scope is required.")
        if not state:
            return fail("invalid_request", "Missing required parameter: state")
        challenge, method = q.get("code_challenge", ""), q.get("code_challenge_method", "")
        if challenge and method != "S256":
            return fail("invalid_request", "Unsupported code_challenge_method; use S256.")
        if not challenge and self.require_pkce:
            return fail("invalid_request", "Missing required parameter: code_challenge")
        if self.deny:
            return fail("access_denied", "The user denied the request.")
        code = self._issue_code("google", client_id, redirect_uri, scope, challenge)
        return RedirectResponse(_with_params(redirect_uri, {"state": state, "code": code, "scope": scope}), status_code=302)

    @staticmethod
    def _oauth_error(error: str, description: str, status: int = 400, headers: dict | None = None) -> Response:
        return JSONResponse(
            {"error": error, "error_description": description},
            status_code=status,
            headers={"Cache-Control": "no-store", **(headers or {})},
        )

    async def _google_token(self, request: Request, form: dict[str, str]) -> Response:
        if self.fault == "token_server_error":
            return self._oauth_error("server_error", "Internal error.", 500)
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return self._oauth_error("invalid_request", "The body must be form-encoded.")
        creds = self._client_credentials(request, form)
        if creds is None or creds[0] != self.client_id or not secrets.compare_digest(creds[1], self.client_secret):
            basic = request.headers.get("authorization", "").lower().startswith("basic ")
            headers = {"WWW-Authenticate": 'Basic realm="token"'} if basic else None
            return self._oauth_error("invalid_client", "Unauthorized client.", 401, headers)
        if form.get("grant_type") != "authorization_code":
            return self._oauth_error("unsupported_grant_type", "Only authorization_code is supported.")
        if self.fault == "token_invalid_grant":
            return self._oauth_error("invalid_grant", "Bad Request")
        grant, why = self._redeem_code("google", creds[0], form)
        if grant is None:
            return self._oauth_error("invalid_grant", why)
        access = self._issue_access(grant)
        body = {
            "access_token": access,
            "expires_in": ACCESS_TOKEN_TTL,
            "scope": grant.scope,
            "token_type": "Bearer",
            "id_token": self._id_token(grant, access),
        }
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _id_token(self, grant: _Grant, access_token: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "azp": grant.client_id,
            "aud": "someone-else" if self.fault == "id_token_wrong_audience" else grant.client_id,
            "iat": now,
            "exp": now + 3600,
            "at_hash": _half_hash(access_token),
            **self._claims(grant.user, grant.scope),
        }
        key = self._rogue_key if self.fault == "id_token_bad_signature" else self._key
        return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)

    async def _google_userinfo(self, request: Request, form: dict[str, str]) -> Response:
        acc = self._bearer(request, "google")
        if acc is None:
            return PlainTextResponse(
                "", status_code=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        if self.fault == "userinfo_server_error":
            return JSONResponse({"error": "server_error"}, status_code=500)
        claims = self._claims(acc.user, acc.scope)
        if self.fault == "userinfo_other_subject":
            claims["sub"] = acc.user.sub + "0"
        return JSONResponse(claims)

    # --- GitHub -------------------------------------------------------------------------------

    async def _github_authorize(self, request: Request, form: dict[str, str]) -> Response:
        q = request.query_params
        client_id, redirect_uri = q.get("client_id", ""), q.get("redirect_uri", "")
        if client_id != self.github_client_id:
            return PlainTextResponse("Not Found", status_code=404)
        if not self._redirect_ok(redirect_uri):
            return PlainTextResponse("The redirect_uri is not associated with this application.", status_code=400)
        state = q.get("state")

        def fail(error: str, description: str) -> Response:
            params = {
                "error": error,
                "error_description": description,
                "error_uri": "https://docs.github.com/apps/troubleshooting-authorization-request-errors/",
            }
            if state is not None:
                params["state"] = state
            return RedirectResponse(_with_params(redirect_uri, params), status_code=302)

        challenge, method = q.get("code_challenge", ""), q.get("code_challenge_method", "")
        if challenge and method != "S256":
            return fail("invalid_request", "code_challenge_method must be S256.")
        if self.deny:
            return fail("access_denied", "The user has denied your application access.")
        scope = " ".join(s for s in re.split(r"[ ,]+", q.get("scope", "")) if s)
        code = self._issue_code("github", client_id, redirect_uri, scope, challenge)
        params = {"code": code}
        if state is not None:
            params["state"] = state
        return RedirectResponse(_with_params(redirect_uri, params), status_code=302)

    def _github_answer(self, request: Request, body: dict[str, str]) -> Response:
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(body)
        return PlainTextResponse(urlencode(body), media_type="application/x-www-form-urlencoded")

    async def _github_token(self, request: Request, form: dict[str, str]) -> Response:
        if self.fault == "token_server_error":
            return PlainTextResponse("Internal Server Error", status_code=500)

        def error(code: str, description: str) -> Response:
            return self._github_answer(
                request,
                {
                    "error": code,
                    "error_description": description,
                    "error_uri": "https://docs.github.com/apps/troubleshooting-oauth-app-access-token-request-errors/",
                },
            )

        creds = self._client_credentials(request, form)
        if creds is None or creds[0] != self.github_client_id or not secrets.compare_digest(
            creds[1], self.github_client_secret
        ):
            return error("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
        if self.fault == "token_invalid_grant":
            return error("bad_verification_code", "The code passed is incorrect or expired.")
        grant, why = self._redeem_code("github", creds[0], form)
        if grant is None:
            if "redirect_uri" in why:
                return error("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL.")
            return error("bad_verification_code", f"The code passed is incorrect or expired ({why}).")
        access = self._issue_access(grant)
        return self._github_answer(
            request, {"access_token": access, "token_type": "bearer", "scope": grant.scope.replace(" ", ",")}
        )

    def _github_auth(self, request: Request) -> _Access | Response:
        if not request.headers.get("user-agent"):
            return JSONResponse({"message": "Request forbidden by administrative rules."}, status_code=403)
        if not request.headers.get("authorization"):
            return JSONResponse({"message": "Requires authentication"}, status_code=401)
        acc = self._bearer(request, "github", ("bearer", "token"))
        if acc is None:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        if self.fault == "userinfo_server_error":
            return JSONResponse({"message": "Server Error"}, status_code=500)
        return acc

    async def _github_user(self, request: Request, form: dict[str, str]) -> Response:
        acc = self._github_auth(request)
        if isinstance(acc, Response):
            return acc
        u = acc.user
        uid = u.github_id + (1 if self.fault == "userinfo_other_subject" else 0)
        return JSONResponse(
            {
                "login": u.login,
                "id": uid,
                "node_id": base64.b64encode(f"04:User{uid}".encode()).decode(),
                "avatar_url": f"{self.base_url}/avatars/{uid}.png",
                "type": "User",
                "site_admin": False,
                "name": u.name or None,
                "email": u.email if (u.public_email and u.email) else None,
            }
        )

    async def _github_emails(self, request: Request, form: dict[str, str]) -> Response:
        acc = self._github_auth(request)
        if isinstance(acc, Response):
            return acc
        if not {"user", "user:email"} & set(acc.scope.split()):
            return JSONResponse({"message": "Not Found"}, status_code=404)
        u = acc.user
        out = []
        if u.email:
            out.append({"email": u.email, "primary": True, "verified": u.email_verified, "visibility": "private"})
        out += [{"email": e, "primary": False, "verified": v, "visibility": None} for e, v in u.secondary_emails]
        return JSONResponse(out)

    # --- admin --------------------------------------------------------------------------------

    async def _admin_requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.clear_requests()
            return Response(status_code=204)
        return JSONResponse([asdict(r) for r in self.requests])

    async def _admin_config(self, request: Request) -> Response:
        body = await request.json()
        try:
            user = None
            if "user" in body:
                raw = {**asdict(self.user), **body["user"]}
                raw["secondary_emails"] = [tuple(e) for e in raw.get("secondary_emails", [])]
                user = ProviderUser(**raw)
            kwargs: dict[str, Any] = {"user": user, "deny": body.get("deny")}
            if "fault" in body:
                kwargs["fault"] = body["fault"]
            self.configure(**kwargs)
        except (TypeError, ValueError) as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        return JSONResponse({"user": asdict(self.user), "deny": self.deny, "fault": self.fault})

    async def _admin_reset(self, request: Request) -> Response:
        self.reset()
        return Response(status_code=204)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the loopback Google/GitHub sign-in provider.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--sub", default=ProviderUser.sub)
    parser.add_argument("--email", default=ProviderUser.email)
    parser.add_argument("--no-email", action="store_true", help="the person has no email address")
    parser.add_argument("--unverified", action="store_true", help="the address is not verified")
    parser.add_argument("--name", default=ProviderUser.name)
    parser.add_argument("--login", default=ProviderUser.login, help="GitHub login")
    parser.add_argument("--deny", action="store_true", help="refuse consent (error=access_denied)")
    parser.add_argument("--fault", choices=FAULTS)
    parser.add_argument("--redirect-uri", action="append", help="registered callback (repeat; default: any)")
    args = parser.parse_args(argv)
    user = ProviderUser(
        sub=args.sub,
        email=None if args.no_email else args.email,
        email_verified=not args.unverified,
        name=args.name,
        login=args.login,
    )
    idp = FakeOIDCProvider(args.host, args.port, user=user, redirect_uris=args.redirect_uri)
    idp.configure(deny=args.deny, fault=args.fault)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with idp:
        print(f"Fake sign-in provider listening on {idp.base_url}", flush=True)
        for key, value in idp.env().items():
            print(f"  {key}={value}", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
