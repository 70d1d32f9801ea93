"""The loopback sign-in provider speaks OAuth 2 / OpenID Connect as Google and GitHub do,
including their refusals, so the sign-in tests prove something about the real protocol."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from fakes.oidc_provider import FakeOIDCProvider, ProviderUser
from omnipostr.accounts import oauth

CALLBACK = "http://localhost:3000/auth/oauth/google/callback"
GH_CALLBACK = "http://localhost:3000/auth/oauth/github/callback"
VERIFIER = "v" * 43 + "-._~0123456789"


def challenge(verifier: str = VERIFIER) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def idp():
    with FakeOIDCProvider(redirect_uris=[CALLBACK, GH_CALLBACK]) as provider:
        yield provider


@pytest.fixture
async def http(idp):
    idp.reset()
    async with httpx.AsyncClient(base_url=idp.base_url, timeout=5.0) as c:
        yield c


async def authorize(http, idp, **over) -> httpx.Response:
    params = {
        "client_id": idp.client_id, "redirect_uri": CALLBACK, "response_type": "code",
        "scope": "openid email profile", "state": "s1", "code_challenge": challenge(),
        "code_challenge_method": "S256", **over,
    }
    return await http.get("/authorize", params={k: v for k, v in params.items() if v is not None})


def query(r: httpx.Response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}


async def code_for(http, idp) -> str:
    r = await authorize(http, idp)
    assert r.status_code == 302 and r.headers["location"].startswith(CALLBACK + "?")
    q = query(r)
    assert q["state"] == "s1"
    return q["code"]


async def test_discovery_and_keys(http, idp):
    meta = (await http.get("/.well-known/openid-configuration")).json()
    assert meta["issuer"] == idp.issuer
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert meta[key].startswith(idp.base_url)
    assert meta["code_challenge_methods_supported"] == ["S256"]
    (key,) = (await http.get("/jwks")).json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["kid"] and "d" not in key


@pytest.mark.parametrize(
    "over, status",
    [({"client_id": "someone"}, 401), ({"redirect_uri": "https://evil.example/cb"}, 400), ({"redirect_uri": None}, 400)],
)
async def test_authorize_never_redirects_to_an_unregistered_place(http, idp, over, status):
    r = await authorize(http, idp, **over)
    assert r.status_code == status and "location" not in r.headers


@pytest.mark.parametrize(
    "over, error",
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "email"}, "invalid_scope"),
        ({"state": None}, "invalid_request"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
    ],
)
async def test_authorize_refusals_go_back_with_an_error(http, idp, over, error):
    r = await authorize(http, idp, **over)
    assert r.status_code == 302 and query(r)["error"] == error


async def test_the_code_flow_with_client_secret_post(http, idp):
    code = await code_for(http, idp)
    form = {
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "code_verifier": VERIFIER,
        "client_id": idp.client_id, "client_secret": idp.client_secret,
    }
    r = await http.post("/token", data=form)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    tok = r.json()
    assert tok["token_type"] == "Bearer" and tok["expires_in"] > 0

    jwks = (await http.get("/jwks")).json()
    claims = oauth.verify_id_token(tok["id_token"], jwks, issuer=idp.issuer, client_id=idp.client_id)
    assert claims["sub"] == idp.user.sub and claims["email"] == idp.user.email and claims["email_verified"] is True
    header = jwt.decode(tok["id_token"], KeySet.import_key_set(jwks)).header
    assert header["alg"] == "RS256" and header["kid"] == jwks["keys"][0]["kid"]
    digest = hashlib.sha256(tok["access_token"].encode()).digest()[:16]
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    info = await http.get("/userinfo", headers={"authorization": f"Bearer {tok['access_token']}"})
    assert info.json()["sub"] == idp.user.sub
    nobody = await http.get("/userinfo")
    assert nobody.status_code == 401 and "invalid_token" in nobody.headers["www-authenticate"]

    # a code works once
    again = await http.post("/token", data=form)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "over, status, error",
    [
        ({"code_verifier": "w" * 43}, 400, "invalid_grant"),
        ({"code_verifier": None}, 400, "invalid_grant"),
        ({"redirect_uri": "http://localhost:3000/other"}, 400, "invalid_grant"),
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
async def test_token_refusals(http, idp, over, status, error):
    code = await code_for(http, idp)
    form = {
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "code_verifier": VERIFIER,
        "client_id": idp.client_id, "client_secret": idp.client_secret, **over,
    }
    r = await http.post("/token", data={k: v for k, v in form.items() if v is not None})
    assert (r.status_code, r.json()["error"]) == (status, error)


async def test_github_flow_form_and_json_answers(http, idp):
    idp.configure(user=ProviderUser(sub="583231", email="grace@example.com", secondary_emails=[("g@navy.example", False)]))
    r = await http.get(
        "/github/login/oauth/authorize",
        params={"client_id": idp.github_client_id, "redirect_uri": GH_CALLBACK, "scope": "read:user", "state": "s"},
    )
    code = query(r)["code"]
    form = {"client_id": idp.github_client_id, "client_secret": idp.github_client_secret, "code": code}
    plain = await http.post("/github/login/oauth/access_token", data=form)
    assert plain.headers["content-type"].startswith("application/x-www-form-urlencoded")
    token = parse_qs(plain.text)["access_token"][0]
    assert parse_qs(plain.text)["token_type"] == ["bearer"]

    user = (await http.get("/github/api/user", headers={"authorization": f"token {token}"})).json()
    assert user["id"] == 583231 and user["email"] is None
    # the emails need the user:email scope
    assert (await http.get("/github/api/user/emails", headers={"authorization": f"Bearer {token}"})).status_code == 404

    # a used code is refused GitHub's way: HTTP 200 with an error
    again = await http.post("/github/login/oauth/access_token", data=form, headers={"accept": "application/json"})
    assert again.status_code == 200 and again.json()["error"] == "bad_verification_code"
    bad = await http.get("/github/api/user", headers={"authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["message"] == "Bad credentials"


async def test_admin_config_and_request_log(http, idp):
    r = await http.post("/_fake/config", json={"user": {"email": "x@example.com", "email_verified": False}, "deny": True})
    assert r.json()["deny"] is True and idp.user.email == "x@example.com" and not idp.user.email_verified
    assert (await http.post("/_fake/config", json={"fault": "nonsense"})).status_code == 400
    denied = await authorize(http, idp)
    assert query(denied)["error"] == "access_denied"
    log = (await http.get("/_fake/requests")).json()
    assert [e["path"] for e in log] == ["/authorize"] and log[0]["status"] == 302
    await http.post("/_fake/reset")
    assert idp.deny is False and idp.requests == []


def test_the_command_line_serves_and_prints_the_settings():
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakes.oidc_provider", "--port", "0", "--email", "cli@example.com"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(9)]
        base = lines[0].rsplit(" ", 1)[1].strip()
        env = dict(line.strip().split("=", 1) for line in lines[1:])
        assert env["OMNIPOSTR_GOOGLE_METADATA_URL"] == f"{base}/.well-known/openid-configuration"
        deadline = time.monotonic() + 5
        while True:
            try:
                meta = httpx.get(env["OMNIPOSTR_GOOGLE_METADATA_URL"], timeout=2).json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert meta["issuer"] == base
        assert json.loads(httpx.post(f"{base}/_fake/config", json={}).text)["user"]["email"] == "cli@example.com"
    finally:
        proc.terminate()
        proc.wait(5)
