"""Sign in with Google and GitHub, end to end over HTTP: our routes (in process, through ASGI)
and Authlib's client against the loopback provider (a real HTTP server), with the browser's
redirects followed hop by hop."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import func, select

from fakes.oidc_provider import FakeOIDCProvider, ProviderUser
from omnipostr import db
from omnipostr.accounts import oauth, service
from omnipostr.accounts.models import (
    AuthSession,
    AuthToken,
    Membership,
    OAuthIdentity,
    PolicyAcceptance,
    User,
    Workspace,
)
from omnipostr.accounts.validation import InputError
from omnipostr.settings import reset_settings
from tests.accounts.browser import ORIGIN, Browser, build_app, set_cookie
from tests.accounts.helpers import link_token, mails, sign_up

GRACE = ProviderUser(sub="108234567890123456789", email="grace@example.com", name="Grace Hopper", login="grace")
ADA_AT_PROVIDER = ProviderUser(sub="4242", email="Ada@Example.com", name="Ada L.", login="ada")


@pytest.fixture(scope="module")
def idp():
    callbacks = [f"{ORIGIN}/auth/oauth/google/callback", f"{ORIGIN}/auth/oauth/github/callback"]
    with FakeOIDCProvider(redirect_uris=callbacks, user=GRACE) as provider:
        yield provider


@pytest.fixture
def provider(idp, monkeypatch):
    """The app configured for both providers, pointing at the loopback provider."""
    idp.reset()
    monkeypatch.setenv("OMNIPOSTR_BASE_URL", ORIGIN)
    for key, value in idp.env().items():
        monkeypatch.setenv(key, value)
    reset_settings()
    yield idp
    monkeypatch.undo()
    reset_settings()


@pytest.fixture
async def visitor(provider):
    async with Browser(build_app()) as b:
        yield b


def count(model, *where) -> int:
    with db.session() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def identities() -> list[tuple[int, str, str]]:
    with db.session() as s:
        return [(i.user_id, i.provider, i.subject) for i in s.exec(select(OAuthIdentity)).all()]


def resolve(token: str | None):
    with db.session() as s:
        return service.resolve_session(s, token, touch=False)


async def sign_in_with(b: Browser, provider: str, next_path: str | None = None):
    """Click "Continue with <provider>": returns (start, provider, callback) responses."""
    url = f"/auth/oauth/{provider}/start" + (f"?next={next_path}" if next_path else "")
    chain = await b.navigate(url)
    assert len(chain) == 3, [(r.status_code, str(r.request.url)) for r in chain]
    return chain


def location(r) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(r.headers["location"])
    return parts.path, parse_qs(parts.query)


def finish(token: str, **kw) -> User:
    args = {"name": "Grace Hopper", "team": "Navy Computing", "email_raw": "", "age_confirmed": True, "policy_accepted": True}
    return db.in_session(service.finish_social_sign_up, token, **{**args, **kw})


# --- Google ----------------------------------------------------------------------------------


async def test_google_new_person_is_sent_to_finish_sign_up_then_gets_an_account(visitor, provider):
    start, at_provider, callback = await sign_in_with(visitor, "google", "/app/library")

    # the authorisation request: our client, our exact callback, code flow, PKCE S256, a state
    assert start.status_code == 303
    auth = urlsplit(start.headers["location"])
    assert f"{auth.scheme}://{auth.netloc}{auth.path}" == f"{provider.base_url}/authorize"
    q = {k: v[0] for k, v in parse_qs(auth.query).items()}
    assert q["client_id"] == provider.client_id
    assert q["redirect_uri"] == f"{ORIGIN}/auth/oauth/google/callback"
    assert q["response_type"] == "code"
    assert set(q["scope"].split()) == {"openid", "email", "profile"}
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert len(q["state"]) >= 32
    nonce = set_cookie(start, oauth.NONCE_COOKIE)
    assert nonce is not None and nonce["httponly"] and nonce["path"] == "/auth/oauth"
    assert nonce["samesite"].lower() == "lax"
    assert at_provider.status_code == 302 and "code=" in at_provider.headers["location"]

    # the code was exchanged with client authentication and the PKCE verifier, and checked
    (token_req,) = provider.requests_to("/token")
    assert token_req.status == 200
    assert token_req.headers["authorization"].startswith("Basic ")
    assert len(token_req.form["code_verifier"]) >= 43
    assert [r.status for r in provider.requests_to("/userinfo")] == [200]
    assert [r.status for r in provider.requests_to("/jwks")] == [200]

    # a new person: no session yet, sent to finish signing up with a pending-sign-up token
    path, params = location(callback)
    assert callback.status_code == 303 and path == "/signup/finish"
    assert set_cookie(callback, "omnipostr_session") is None and visitor.session_cookie is None
    assert count(User) == 0
    pending = db.in_session(service.pending_social_profile, params["token"][0])
    assert pending == {
        "provider": "google", "subject": GRACE.sub, "email": "grace@example.com", "email_verified": True,
        "name": "Grace Hopper",
    }
    gone = set_cookie(callback, oauth.NONCE_COOKIE)
    assert gone is not None and gone.value == "" and gone["max-age"] == "0"

    # finishing creates the account (verified address), its workspace, the identity link
    user = finish(params["token"][0], name="Grace Hopper", team="Navy Computing")
    assert user.email == "grace@example.com" and user.email_verified_at is not None
    assert user.password_hash is None
    assert identities() == [(user.id, "google", GRACE.sub)]
    with db.session() as s:
        ws = s.exec(select(Workspace).where(Workspace.owner_id == user.id)).one()
        assert ws.name == "Navy Computing"
        m = s.exec(select(Membership).where(Membership.user_id == user.id)).one()
        assert (m.workspace_id, m.role) == (ws.id, "owner")
    assert count(PolicyAcceptance, PolicyAcceptance.user_id == user.id) == 1
    assert mails("grace@example.com", "verify_email") == []
    # the pending token is spent
    with pytest.raises(service.AuthError):
        finish(params["token"][0])

    # and the page trades a sign-in ticket for the session cookie
    ticket = db.in_session(service.issue_sign_in_ticket, user.id, "/app?welcome=1")
    r = await visitor.post_form("/auth/session", {"ticket": ticket})
    assert r.status_code == 303 and r.headers["location"] == "/app?welcome=1"
    assert resolve(visitor.session_cookie).actor.workspace_id == ws.id


@pytest.mark.promise("SEC-3")
async def test_google_verified_email_of_an_existing_account_signs_in_and_rotates_the_session(visitor, provider):
    ada = sign_up()
    provider.configure(user=ADA_AT_PROVIDER)  # same address, other letter case, verified
    ticket = db.in_session(service.issue_sign_in_ticket, ada.id, "/app")
    await visitor.post_form("/auth/session", {"ticket": ticket})
    before = visitor.session_cookie
    assert resolve(before).user.id == ada.id

    _, _, callback = await sign_in_with(visitor, "google", "/app/library")

    assert callback.status_code == 303 and callback.headers["location"] == "/app/library"
    cookie = set_cookie(callback, "omnipostr_session")
    assert cookie is not None and cookie["httponly"] and cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/" and not cookie["secure"]
    after = visitor.session_cookie
    assert after == cookie.value and after != before
    res = resolve(after)
    assert res.user.id == ada.id and res.session.method == "google"
    assert resolve(before) is None  # the browser's previous session was revoked
    assert identities() == [(ada.id, "google", ADA_AT_PROVIDER.sub)]
    assert count(User) == 1


async def test_google_links_and_verifies_an_account_whose_address_was_not_confirmed(visitor, provider):
    ada = sign_up(verify=False)
    provider.configure(user=ADA_AT_PROVIDER)
    _, _, callback = await sign_in_with(visitor, "google")
    assert callback.headers["location"] == "/app"
    assert resolve(visitor.session_cookie).user.id == ada.id
    with db.session() as s:
        assert s.get(User, ada.id).email_verified_at is not None


async def test_returning_google_identity_is_the_same_user_even_after_an_address_change(visitor, provider):
    _, _, first = await sign_in_with(visitor, "google")
    user = finish(location(first)[1]["token"][0])

    provider.configure(user=ProviderUser(sub=GRACE.sub, email="rear.admiral@navy.example", name="Grace B. Hopper"))
    async with Browser(build_app()) as other:
        _, _, again = await sign_in_with(other, "google", "/app/compose")
        assert again.headers["location"] == "/app/compose"
        assert resolve(other.session_cookie).user.id == user.id
    assert count(User) == 1 and identities() == [(user.id, "google", GRACE.sub)]


@pytest.mark.parametrize(
    "fault", ["id_token_bad_signature", "id_token_wrong_audience", "userinfo_other_subject", "userinfo_server_error"]
)
async def test_google_answers_that_do_not_verify_sign_nobody_in(visitor, provider, fault):
    ada = sign_up()
    provider.configure(user=ADA_AT_PROVIDER, fault=fault)
    _, _, callback = await sign_in_with(visitor, "google")
    assert callback.status_code == 303 and callback.headers["location"] == "/login?error=social_failed"
    assert visitor.session_cookie is None
    assert count(AuthSession, AuthSession.user_id == ada.id) == 0 and identities() == []


async def test_google_email_verified_sent_as_the_string_false_does_not_link(visitor, provider):
    ada = sign_up()
    provider.configure(
        user=ProviderUser(sub="77", email="ada@example.com", extra_claims={"email_verified": "false"})
    )
    _, _, callback = await sign_in_with(visitor, "google")
    path, params = location(callback)
    assert path == "/signup/finish"
    assert db.in_session(service.pending_social_profile, params["token"][0])["email_verified"] is False
    assert count(AuthSession, AuthSession.user_id == ada.id) == 0 and identities() == []


# --- GitHub ----------------------------------------------------------------------------------


async def test_github_new_person_with_a_verified_primary_address(visitor, provider):
    provider.configure(user=ProviderUser(sub="583231", email="grace@example.com", name="", login="ghopper"))
    start, _, callback = await sign_in_with(visitor, "github")

    auth = urlsplit(start.headers["location"])
    assert f"{auth.scheme}://{auth.netloc}{auth.path}" == f"{provider.base_url}/github/login/oauth/authorize"
    q = {k: v[0] for k, v in parse_qs(auth.query).items()}
    assert q["client_id"] == provider.github_client_id
    assert q["redirect_uri"] == f"{ORIGIN}/auth/oauth/github/callback"
    assert set(q["scope"].split()) == {"read:user", "user:email"}
    assert q["code_challenge_method"] == "S256" and q["state"]
    (token_req,) = provider.requests_to("/github/login/oauth/access_token")
    assert token_req.status == 200 and "application/json" in token_req.headers["accept"]
    assert token_req.form["code_verifier"]

    path, params = location(callback)
    assert path == "/signup/finish"
    pending = db.in_session(service.pending_social_profile, params["token"][0])
    assert pending == {
        "provider": "github", "subject": "583231", "email": "grace@example.com", "email_verified": True,
        "name": "ghopper",
    }
    user = finish(params["token"][0])
    assert user.email_verified_at is not None and identities() == [(user.id, "github", "583231")]

    # the next time, the identity signs straight in
    async with Browser(build_app()) as again:
        _, _, cb = await sign_in_with(again, "github")
        assert cb.headers["location"] == "/app" and resolve(again.session_cookie).user.id == user.id


async def test_github_verified_primary_address_of_an_existing_account_signs_in(visitor, provider):
    ada = sign_up()
    provider.configure(user=ADA_AT_PROVIDER)
    _, _, callback = await sign_in_with(visitor, "github", "/app/library")
    assert callback.headers["location"] == "/app/library"
    assert set_cookie(callback, "omnipostr_session")["httponly"]
    res = resolve(visitor.session_cookie)
    assert res.user.id == ada.id and res.session.method == "github"
    assert identities() == [(ada.id, "github", str(ADA_AT_PROVIDER.github_id))]


async def test_github_unverified_primary_address_does_not_link_to_an_existing_account(visitor, provider):
    ada = sign_up()
    provider.configure(user=ProviderUser(sub="999", email="ada@example.com", email_verified=False, login="mallory"))
    _, _, callback = await sign_in_with(visitor, "github")

    path, params = location(callback)
    assert path == "/signup/finish" and visitor.session_cookie is None
    assert count(AuthSession, AuthSession.user_id == ada.id) == 0 and identities() == []
    pending = db.in_session(service.pending_social_profile, params["token"][0])
    assert pending["email_verified"] is False
    # nor can the sign-up be finished with that address
    with pytest.raises(InputError) as e:
        finish(params["token"][0], email_raw="ada@example.com")
    assert e.value.field == "email"
    assert count(User) == 1 and identities() == []


async def test_github_only_the_primary_address_counts(visitor, provider):
    ada = sign_up()
    provider.configure(
        user=ProviderUser(sub="1000", email="mallory@example.com", secondary_emails=[("ada@example.com", True)])
    )
    _, _, callback = await sign_in_with(visitor, "github")
    path, params = location(callback)
    assert path == "/signup/finish"
    assert db.in_session(service.pending_social_profile, params["token"][0])["email"] == "mallory@example.com"
    assert count(AuthSession, AuthSession.user_id == ada.id) == 0


async def test_github_person_without_an_address_confirms_one_by_email(visitor, provider):
    provider.configure(user=ProviderUser(sub="31337", email=None, name="Grace", login="grace"))
    _, _, callback = await sign_in_with(visitor, "github")
    path, params = location(callback)
    assert path == "/signup/finish"
    pending = db.in_session(service.pending_social_profile, params["token"][0])
    assert (pending["email"], pending["email_verified"]) == ("", False)

    user = finish(params["token"][0], email_raw="Grace@Example.com")
    assert user.email == "grace@example.com" and user.email_verified_at is None
    db.in_session(service.confirm_email, link_token("grace@example.com", "verify_email"))
    with db.session() as s:
        assert s.get(User, user.id).email_verified_at is not None


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.promise("ACC-3")
@pytest.mark.parametrize("name", ["google", "github"])
async def test_replaying_a_callback_is_refused(visitor, provider, name):
    ada = sign_up()
    provider.configure(user=ADA_AT_PROVIDER)
    start, at_provider, callback = await sign_in_with(visitor, name)
    assert callback.headers["location"] == "/app"
    nonce = set_cookie(start, oauth.NONCE_COOKIE).value
    token_path = "/token" if name == "google" else "/github/login/oauth/access_token"
    assert len(provider.requests_to(token_path)) == 1

    # the same browser (its nonce cookie put back) opens the same callback again
    visitor.ours.cookies.set(oauth.NONCE_COOKIE, nonce, domain="localhost.local", path="/auth/oauth")
    replay = await visitor.get(at_provider.headers["location"])
    assert replay.status_code == 303 and replay.headers["location"] == "/login?error=social_failed"
    assert set_cookie(replay, "omnipostr_session") is None
    assert count(AuthSession, AuthSession.user_id == ada.id) == 1
    assert len(provider.requests_to(token_path)) == 1  # refused before the code was used again


@pytest.mark.promise("ACC-3")
@pytest.mark.parametrize("victim_cookie", ["none", "own_flow"])
@pytest.mark.parametrize("name", ["google", "github"])
async def test_a_callback_planted_in_another_browser_is_refused(provider, name, victim_cookie):
    """Login CSRF: the attacker starts a sign-in with their own provider account and gets
    the victim's browser to open the callback; the victim must not end up signed in."""
    provider.configure(user=ProviderUser(sub="666", email="mallory@example.com", name="Mallory"))
    app = build_app()
    async with Browser(app) as attacker, Browser(app, ip="198.51.100.9") as victim:
        start = await attacker.get(f"/auth/oauth/{name}/start")
        at_provider = await attacker.get(start.headers["location"])
        planted = at_provider.headers["location"]
        if victim_cookie == "own_flow":
            await victim.get(f"/auth/oauth/{name}/start")  # the victim has a nonce of its own
            assert victim.ours.cookies.get(oauth.NONCE_COOKIE)

        r = await victim.get(planted)
        assert r.status_code == 303 and r.headers["location"] == "/login?error=social_failed"
        assert victim.session_cookie is None
    assert count(AuthSession) == 0 and count(AuthToken, AuthToken.purpose == "social_sign_up") == 0
    token_path = "/token" if name == "google" else "/github/login/oauth/access_token"
    assert provider.requests_to(token_path) == []


@pytest.mark.parametrize("name", ["google", "github"])
async def test_the_person_cancelling_at_the_provider(visitor, provider, name):
    provider.configure(deny=True)
    _, at_provider, callback = await sign_in_with(visitor, name)
    assert "error=access_denied" in at_provider.headers["location"]
    assert callback.status_code == 303 and callback.headers["location"] == "/login?error=social_cancelled"
    assert visitor.session_cookie is None and count(User) == 0


@pytest.mark.parametrize("fault", ["token_server_error", "token_invalid_grant"])
@pytest.mark.parametrize("name", ["google", "github"])
async def test_a_failing_token_endpoint_creates_nothing(visitor, provider, name, fault):
    sign_up()
    provider.configure(user=ADA_AT_PROVIDER, fault=fault)
    _, _, callback = await sign_in_with(visitor, name)
    assert callback.status_code == 303 and callback.headers["location"] == "/login?error=social_failed"
    assert visitor.session_cookie is None
    assert count(User) == 1 and count(AuthSession) == 0 and identities() == []
    assert count(AuthToken, AuthToken.purpose == "social_sign_up") == 0
    token_path = "/token" if name == "google" else "/github/login/oauth/access_token"
    (req,) = provider.requests_to(token_path)
    assert req.status == (500 if fault == "token_server_error" else (400 if name == "google" else 200))


async def test_an_unreachable_provider_sends_back_to_login(visitor, provider, monkeypatch):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("OMNIPOSTR_GOOGLE_METADATA_URL", f"http://127.0.0.1:{port}/.well-known/openid-configuration")
    reset_settings()
    r = await visitor.get("/auth/oauth/google/start")
    assert r.status_code == 303 and r.headers["location"] == "/login?error=social_failed"
    assert count(AuthToken, AuthToken.purpose == "oauth_state") == 0


async def test_next_cannot_leave_the_site(visitor, provider):
    sign_up()
    provider.configure(user=ADA_AT_PROVIDER)
    _, _, callback = await sign_in_with(visitor, "google", "//evil.example/phish")
    assert callback.headers["location"] == "/app"


async def test_unconfigured_providers_are_not_offered(monkeypatch):
    for key in ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"):
        monkeypatch.delenv(f"OMNIPOSTR_{key}", raising=False)
    reset_settings()
    try:
        from omnipostr.accounts.state import LoginState

        buttons = LoginState.computed_vars["providers"].fget
        assert oauth.enabled_providers() == [] and buttons(None) == []
        async with Browser(build_app()) as b:
            for name in ("google", "github"):
                assert (await b.get(f"/auth/oauth/{name}/start")).status_code == 404
                assert (await b.get(f"/auth/oauth/{name}/callback?code=x&state=y")).status_code == 404
            assert (await b.get("/auth/oauth/facebook/start")).status_code == 404

        monkeypatch.setenv("OMNIPOSTR_GITHUB_CLIENT_ID", "id")
        monkeypatch.setenv("OMNIPOSTR_GITHUB_CLIENT_SECRET", "secret")
        reset_settings()
        assert buttons(None) == [{"id": "github", "name": "GitHub"}]
    finally:
        monkeypatch.undo()
        reset_settings()
