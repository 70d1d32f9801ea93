"""Reflex state for accounts. Thin: every handler resolves the user from the session (never
from anything the browser sends in the event or keeps in its state) and calls the service in
a thread. Handlers are written with ``accounts.guard``'s decorators.

Passwords arrive as form data of a submit event and are passed straight to the service;
no state var ever holds one.
"""

from __future__ import annotations

import json
import pickle  # noqa: S403 - Reflex's own format for stored state; here it is also sealed

import reflex as rx

from omnipostr import crypto, db
from omnipostr.accounts import oauth, service, session_header
from omnipostr.accounts.guard import member_event, public_event, tab_event
from omnipostr.accounts.service import AuthError, InputError
from omnipostr.settings import get_settings


def post_form(action: str, fields: dict[str, str] | None = None) -> rx.event.EventSpec:
    """Make the browser POST a form to a backend route that signs in or out: a full page
    load (so the websocket reconnects with the new cookie), with the values in the request
    body, not the address. The tab also drops its state token, so the next page starts
    with fresh state: nothing one person typed or opened (a draft, a generation) is still
    in the tab when someone else signs in on it."""
    js = (
        "(function(a,v){try{window.sessionStorage.removeItem('token');}catch(e){}"
        "var f=document.createElement('form');f.method='POST';f.action=a;"
        "Object.keys(v).forEach(function(k){var i=document.createElement('input');i.type='hidden';"
        "i.name=k;i.value=v[k];f.appendChild(i);});document.body.appendChild(f);f.submit();})("
        + json.dumps(get_settings().backend_path(action)) + "," + json.dumps(fields or {}) + ")"
    )
    return rx.call_script(js)


def post_ticket(ticket: str) -> rx.event.EventSpec:
    """Trade a sign-in ticket for the HttpOnly session cookie at /auth/session."""
    return post_form("/auth/session", {"ticket": ticket})


def full_reload(path: str) -> rx.event.EventSpec:
    return rx.call_script(f"window.location.assign({json.dumps(path)})")


def _unseal(token: bytes):
    """Unpickling a sealed state calls this: it decrypts and unpickles what was sealed."""
    return pickle.loads(crypto.unseal(token))  # noqa: S301 - our own state, sealed with our key


class _Sealed:
    def __init__(self, token: bytes) -> None:
        self.token = token

    def __reduce__(self):
        return (_unseal, (self.token,))


class AppState(rx.State):
    """The base of every OmniPostr state. When the state manager keeps states outside the
    process (Redis, for several workers), each of ours is stored sealed with the content key:
    drafts, posts and addresses are never in Redis in the clear. Reflex unpickles it as
    usual; the pickle it reads decrypts itself."""

    def _serialize(self) -> bytes:
        plain = super()._serialize()
        if not plain:
            return plain
        return pickle.dumps(_Sealed(crypto.seal(plain)))

    # Reflex refuses a state method that replaces one of its own unless it is marked so
    _serialize.__override_base_method__ = True  # type: ignore[attr-defined]


class SessionState(AppState):
    """Who is signed in, for display. Handlers that act re-check through ``_actor``; the vars
    here are what the page shows, never what a handler trusts."""

    signed_in: bool = False
    user_name: str = ""
    user_email: str = ""
    email_verified: bool = False
    workspace_id: int = 0
    workspace_name: str = ""
    role: str = ""
    is_admin: bool = False
    workspaces: list[dict[str, str]] = []
    session_checked: bool = False

    def _session_ref(self) -> str:
        """The session's reference, put on the event connection in place of its cookie by
        ``accounts.session_header`` (the state never holds the cookie)."""
        return self.router.headers.raw_headers.get(session_header.HEADER, "")

    async def _resolve(self) -> service.Resolved | None:
        ref = self._session_ref()
        if not ref:
            return None
        return await db.run(service.resolve_session_ref, ref)

    async def _actor(self) -> service.Actor | None:
        res = await self._resolve()
        if res is None or res.actor is None:
            self._clear()
            return None
        return res.actor

    async def _enter(self) -> service.Resolved | None:
        """For a page's on_load: the signed-in member, with the display vars filled; None
        (and the vars cleared) when nobody is signed in or the member has no workspace."""
        res = await self._resolve()
        if res is None or res.actor is None:
            self._clear()
            return None
        await self._fill(res)
        return res

    def _forget(self) -> None:
        """Drop everything the tab shows of an account or a workspace (signed out, revoked,
        removed): who is signed in, and every page's content below. Each state clears its
        own in ``_forget_own``."""
        top = self
        while type(top) is not SessionState and top.parent_state is not None:
            top = top.parent_state

        def walk(state) -> None:
            if isinstance(state, SessionState):
                state._forget_own()
            for sub in list(state.substates.values()):
                walk(sub)

        walk(top)

    def _forget_own(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self.signed_in = False
        self.user_name = ""
        self.user_email = ""
        self.workspace_id = 0
        self.workspace_name = ""
        self.role = ""
        self.is_admin = False
        self.workspaces = []

    async def _fill(self, res: service.Resolved) -> None:
        self.signed_in = True
        self.user_name = res.user.name
        self.user_email = res.user.email
        self.email_verified = res.user.email_verified_at is not None
        self.is_admin = res.user.is_admin
        if res.actor is not None and res.workspace is not None:
            self.workspace_id = res.workspace.id
            self.workspace_name = res.workspace.name
            self.role = res.actor.role
        infos = await db.run(lambda s: service.workspaces_for(s, res.user.id))
        self.workspaces = [{"id": str(w.id), "name": w.name, "role": service.role_label(w.role)} for w in infos]

    def _login_redirect(self) -> rx.event.EventSpec:
        nxt = service.safe_next(self.router.url.path or "/app")
        return full_reload(f"/login?next={nxt}")

    def _reload_page(self) -> rx.event.EventSpec:
        return full_reload(service.safe_next(self.router.url.path or "/app"))

    @public_event
    async def load_public(self):
        """on_load of public pages: know whether someone is signed in (for the header)."""
        await self._know_who()

    async def _know_who(self) -> service.Resolved | None:
        """Who is signed in, if anyone: the display vars filled (or cleared) for a public page."""
        res = await self._resolve()
        if res is None:
            self._clear()
        else:
            await self._fill(res)
        self.session_checked = True
        return res

    @public_event
    async def require_login(self):
        """on_load of every page behind sign-in."""
        res = await self._enter()
        self.session_checked = True
        if res is None:
            return self._login_redirect()

    @member_event
    async def switch_workspace(self, actor, workspace_id: str):
        try:
            await db.run(service.switch_workspace, actor, int(workspace_id))
        except (InputError, AuthError, ValueError) as e:
            return rx.toast.error(getattr(e, "message", "That workspace is not available."))
        return full_reload("/app")

    @rx.var
    def user_initials(self) -> str:
        parts = [p for p in self.user_name.split() if p]
        return "".join(p[0] for p in parts[:2]).upper() or "?"

    @rx.var
    def role_label(self) -> str:
        return service.role_label(self.role) if self.role else ""

    @rx.var
    def can_manage(self) -> bool:
        return self.role in ("owner", "admin")


class SignUpState(AppState):
    errors: dict[str, str] = {}
    form_error: str = ""
    done: bool = False
    sent_to: str = ""
    busy: bool = False

    @public_event
    async def submit(self, form: dict):
        self.errors = {}
        self.form_error = ""
        data = service.SignUpForm(
            name=str(form.get("name", "")),
            email=str(form.get("email", "")),
            password=str(form.get("password", "")),
            team=str(form.get("team", "")),
            age_confirmed=form.get("age") in (True, "on", "true"),
            policy_accepted=form.get("policy") in (True, "on", "true"),
            marketing_opt_in=form.get("marketing") in (True, "on", "true"),
        )
        self.busy = True
        yield
        try:
            await db.run(service.request_sign_up, data, self.router.session.client_ip or "")
        except InputError as e:
            if e.field in ("", "form"):  # about the request as a whole (a limit), not a field
                self.errors = {}
                self.form_error = e.message
            else:
                self.errors = {e.field: e.message}
                self.form_error = "Please correct the highlighted field."
            self.busy = False
            return
        email = service.normalize_email(data.email)
        self.sent_to = email
        self.done = True
        self.busy = False

    @public_event
    async def resend(self):
        if self.sent_to:
            try:
                await db.run(service.request_new_confirmation, self.sent_to, self.router.session.client_ip or "")
            except InputError as e:
                return rx.toast.error(e.message)
            return rx.toast.success(f"We sent a new link to {self.sent_to}.")

    @tab_event
    def start_over(self):
        self.done = False
        self.errors = {}
        self.form_error = ""


class LoginState(AppState):
    error: str = ""
    notice: str = ""
    unverified_email: str = ""
    busy: bool = False

    @public_event
    def on_load(self):
        q = self.router.url.query_parameters
        self.error = {
            "expired": "That sign-in took too long. Please try again.",
            "social_failed": "Signing in with that provider did not work. Please try again.",
            "social_cancelled": "Sign-in was cancelled.",
        }.get(q.get("error", ""), "")
        self.notice = {
            "1": "You have signed out.",
            "deleted": "Your account is being deleted. We will email you when it is done.",
        }.get(q.get("signed_out", ""), "")
        if q.get("reset") == "1":
            self.notice = "Your password was changed. Sign in with the new one."
        self.busy = False

    @public_event
    async def submit(self, form: dict):
        self.error = ""
        self.notice = ""
        self.unverified_email = ""
        email = str(form.get("email", ""))
        password = str(form.get("password", ""))
        if not email.strip() or not password:
            self.error = "Enter your email and password."
            return
        self.busy = True
        yield
        ip = self.router.session.client_ip or ""
        nxt = service.safe_next(self.router.url.query_parameters.get("next", "/app"))

        def work(s):
            user = service.authenticate(s, email, password, ip)
            return service.issue_sign_in_ticket(s, user.id, nxt)

        try:
            ticket = await db.run(work)
        except AuthError as e:
            self.error = e.message
            if e.unverified:
                self.unverified_email = email.strip().lower()
            self.busy = False
            return
        yield post_ticket(ticket)

    @rx.var
    def providers(self) -> list[dict[str, str]]:
        return [{"id": p, "name": oauth.PROVIDER_NAMES[p]} for p in oauth.enabled_providers()]


class ResetState(AppState):
    sent: bool = False
    error: str = ""
    token_ok: bool = True
    busy: bool = False

    @public_event
    async def request(self, form: dict):
        self.error = ""
        email = str(form.get("email", ""))
        try:
            await db.run(service.request_password_reset, email, self.router.session.client_ip or "")
        except InputError as e:
            self.error = e.message
            return
        self.sent = True

    @public_event
    async def check_token(self):
        self.error = ""
        self.sent = False
        token = self.router.url.query_parameters.get("token", "")
        self.token_ok = await db.run(service.reset_token_valid, token)

    @public_event
    async def confirm(self, form: dict):
        self.error = ""
        token = self.router.url.query_parameters.get("token", "")
        password = str(form.get("password", ""))
        if password != str(form.get("password2", "")):
            self.error = "The two passwords are not the same."
            return
        self.busy = True
        yield
        client = service.ClientInfo(ip=self.router.session.client_ip or "", user_agent=self.router.headers.user_agent)
        try:
            await db.run(service.reset_password, token, password, client)
        except InputError as e:
            self.error = e.message
            self.busy = False
            return
        except AuthError as e:
            self.error = e.message
            self.token_ok = False
            self.busy = False
            return
        self.busy = False
        yield full_reload("/login?reset=1")


class VerifyState(AppState):
    """The page a confirmation link opens. It works only in a real browser session (its
    on_load runs over the websocket), so mail scanners that prefetch links use up nothing."""

    status: str = "checking"  # checking | failed
    message: str = ""

    @public_event
    async def verify_signup(self):
        self.status = "checking"
        token = self.router.url.query_parameters.get("token", "")

        def work(s):
            user = service.confirm_email(s, token)
            return service.issue_sign_in_ticket(s, user.id, "/app?welcome=1")

        try:
            ticket = await db.run(work)
        except AuthError as e:
            self.status = "failed"
            self.message = e.message
            return
        return post_ticket(ticket)

    @public_event
    async def verify_email_change(self):
        self.status = "checking"
        token = self.router.url.query_parameters.get("token", "")
        try:
            await db.run(service.confirm_email_change, token)
        except AuthError as e:
            self.status = "failed"
            self.message = e.message
            return
        self.status = "done"
        self.message = "Your email address was changed."


class InviteState(SessionState):
    valid: bool = False
    workspace: str = ""
    inviter: str = ""
    invited_email: str = ""
    invited_role: str = ""
    error: str = ""

    @public_event
    async def load_invite(self):
        self.error = ""
        token = self.router.url.query_parameters.get("token", "")
        preview = await db.run(service.preview_invite, token)
        self.valid = preview is not None
        if preview:
            self.workspace = preview.workspace_name
            self.inviter = preview.inviter_name
            self.invited_email = preview.email
            self.invited_role = service.role_label(preview.role)
        res = await self._resolve()
        if res is None:
            self._clear()
        else:
            await self._fill(res)

    @public_event
    async def accept(self):
        """Accept an invitation: the signed-in user (any workspace) joins the invite's one."""
        token = self.router.url.query_parameters.get("token", "")
        res = await self._resolve()
        if res is None:
            return self._login_redirect()
        try:
            await db.run(service.accept_invite, res.user.id, token, res.session.id)
        except AuthError as e:
            self.error = e.message
            return
        return full_reload("/app?joined=1")

    @rx.var
    def invite_query(self) -> str:
        return self.router.url.query


class SocialFinishState(AppState):
    loaded: bool = False
    valid: bool = False
    provider: str = ""
    name: str = ""
    email: str = ""
    email_locked: bool = False
    errors: dict[str, str] = {}

    @public_event
    async def load(self):
        token = self.router.url.query_parameters.get("token", "")
        info = await db.run(service.pending_social_profile, token)
        self.loaded = True
        self.valid = info is not None
        if info:
            self.provider = oauth.PROVIDER_NAMES.get(info["provider"], info["provider"])
            self.name = info.get("name", "")
            self.email = info.get("email", "")
            self.email_locked = bool(info.get("email"))

    @public_event
    async def submit(self, form: dict):
        self.errors = {}
        token = self.router.url.query_parameters.get("token", "")

        def work(s):
            user = service.finish_social_sign_up(
                s,
                token,
                name=str(form.get("name", "")),
                team=str(form.get("team", "")),
                email_raw=str(form.get("email", "")),
                age_confirmed=form.get("age") in (True, "on", "true"),
                policy_accepted=form.get("policy") in (True, "on", "true"),
                marketing_opt_in=form.get("marketing") in (True, "on", "true"),
            )
            if user.email_verified_at is None:
                return None
            return service.issue_sign_in_ticket(s, user.id, "/app?welcome=1")

        try:
            ticket = await db.run(work)
        except InputError as e:
            self.errors = {e.field or "form": e.message}
            return
        except AuthError as e:
            self.errors = {"form": e.message}
            return
        if ticket is None:
            self.valid = False
            self.errors = {"form": "Almost done: confirm your email address with the link we sent."}
            return
        return post_ticket(ticket)
