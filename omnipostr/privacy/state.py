"""The privacy center's state: thin, each handler authorises and calls one service."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import reflex as rx

from omnipostr import db
from omnipostr.accounts import service as accounts
from omnipostr.accounts.guard import member_event, public_event
from omnipostr.accounts.models import User
from omnipostr.accounts.state import SessionState
from omnipostr.notify.render import mask_email
from omnipostr.privacy import erasure, export, inventory, requests, service
from omnipostr.retention import service as retention
from omnipostr.settings import get_settings


def _when(t) -> str:
    return t.strftime("%d %b %Y, %H:%M UTC") if t else ""


def _size(n: int) -> str:
    return f"{n / 1024:,.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.1f} MB"


@dataclass
class Heir:
    id: str
    name: str


@dataclass
class SharedWorkspace:
    """A workspace the user owns with other members: whom to hand it over to."""

    id: str
    name: str
    members: list[Heir] = field(default_factory=list)


@dataclass
class Step:
    at: str
    status: str
    note: str


@dataclass
class RequestRow:
    """One of the user's privacy requests, as the privacy center lists it."""

    id: str
    kind: str
    status: str
    filed: str
    due: str
    overdue: bool
    extension: str
    history: list[Step] = field(default_factory=list)


def _day(t) -> str:
    return t.strftime("%d %b %Y") if t else ""


def request_rows(views) -> list[RequestRow]:
    return [
        RequestRow(
            str(v.id), v.kind_name, v.status_name, _day(v.created_at), _day(v.due_at), v.overdue,
            f"Extended: {v.extension_reason}" if v.extended_at else "",
            [Step(_when(e.at), e.status_name, e.note) for e in v.history],
        )
        for v in views
    ]


_DUE_WHAT = {"source_text": "Original text", "history": "Generation history", "account": "Your account"}


def due_rows(dues) -> list[dict[str, str]]:
    """The retention ledger: each thing retention will delete, when and why (soonest first)."""
    return [
        {"what": _DUE_WHAT.get(d.what, d.what), "title": d.title or "Untitled",
         "when": _day(d.when) if d.when else "Not while a legal hold lasts", "why": d.why}
        for d in dues
    ]


def _snapshot(s, user_id: int) -> dict:
    """Everything the privacy center shows, read in one session."""
    user = s.get(User, user_id)
    return {
        "restricted": user.restrict_processing,
        "marketing": user.marketing_opt_in,
        "objects_usage": user.object_usage,
        "held": [
            {"category": h.category, "what": h.what, "count": f"{h.count:,}", "purpose": h.purpose,
             "basis": h.basis, "retention": h.retention}
            for h in service.what_we_hold(s, user_id)
        ],
        "exports": service.exports_of(s, user_id),
        "regions": [{"workspace": r["workspace"], "region": r["region_name"]} for r in export.regions(s, user_id)],
        "processors": [{"name": n, "purpose": p} for n, p in inventory.processors()],
        "plan": erasure.plan(s, user_id),
        "requests": request_rows(requests.requests_of(s, user_id)),
        "due": due_rows(retention.due_dates(s, user_id)),
    }


class PrivacyState(SessionState):
    held: list[dict[str, str]] = []
    exports: list[dict[str, str]] = []
    regions: list[dict[str, str]] = []
    processors: list[dict[str, str]] = []
    restricted: bool = False
    marketing: bool = False
    objects_usage: bool = False
    preparing: bool = False
    shared: list[SharedWorkspace] = []
    requests: list[RequestRow] = []
    due: list[dict[str, str]] = []
    solo: list[str] = []
    has_password: bool = True
    delete_error: str = ""
    deleting: bool = False

    def _forget_own(self) -> None:
        self.held = []
        self.exports = []
        self.regions = []
        self.processors = []
        self.restricted = False
        self.marketing = False
        self.objects_usage = False
        self.preparing = False
        self.shared = []  # other members' names
        self.requests = []
        self.due = []
        self.solo = []
        self.has_password = True
        self.delete_error = ""
        self.deleting = False

    def _show(self, snap: dict) -> None:
        self.restricted = snap["restricted"]
        self.marketing = snap["marketing"]
        self.objects_usage = snap["objects_usage"]
        self.held = snap["held"]
        self.regions = snap["regions"]
        self.processors = snap["processors"]
        self._set_exports(snap["exports"])
        plan = snap["plan"]
        self.shared = [SharedWorkspace(str(w.id), w.name, [Heir(str(i), n) for i, n in w.members]) for w in plan.shared]
        self.solo = plan.solo
        self.requests = snap["requests"]
        self.due = snap["due"]
        self.has_password = plan.has_password
        self.delete_error = ""

    def _set_exports(self, views) -> None:
        self.exports = [
            {
                "id": str(e.id), "status": e.status, "created": _when(e.created_at), "size": _size(e.size),
                "expires": _when(e.expires_at), "href": get_settings().backend_path(f"/privacy/exports/{e.id}.zip"),
            }
            for e in views
        ]
        self.preparing = any(e.status == "queued" for e in views)

    @member_event(page=True)
    async def load(self, actor):
        self._show(await db.run(_snapshot, actor.user_id))
        if self.preparing:
            return PrivacyState.follow_export

    @member_event
    async def request_export(self, actor):
        await db.run(service.request_export, actor.user_id, ip=self.router.session.client_ip or "")
        self._set_exports(await db.run(service.exports_of, actor.user_id))
        return [rx.toast.info("Preparing your data. It takes a moment; we email you when it is ready."), PrivacyState.follow_export]

    @member_event(background=True)
    async def follow_export(self, actor):
        """Show the copy as soon as it is made (for up to two minutes, while the session lasts)."""
        async with self:
            ref = self._session_ref()
        for _ in range(120):
            await asyncio.sleep(1)
            if await db.run(accounts.member_for_ref, ref, actor.workspace_id) is None:
                return
            views = await db.run(service.exports_of, actor.user_id)
            if not any(e.status == "queued" for e in views):
                async with self:
                    self._set_exports(views)
                return
        views = await db.run(service.exports_of, actor.user_id)
        async with self:
            self._set_exports(views)

    @member_event
    async def set_restricted(self, actor, on: bool):
        self.restricted = await db.run(service.set_restriction, actor.user_id, bool(on), ip=self.router.session.client_ip or "")
        return rx.toast.success(
            "Processing restricted: your content stays, and nothing is sent to the AI engine."
            if self.restricted else "Restriction lifted: you can generate posts again."
        )

    @member_event
    async def set_usage(self, actor, on: bool):
        """The switch reads "Usage analytics": on means no objection."""
        self.objects_usage = await db.run(service.set_usage_objection, actor.user_id, not bool(on))
        return rx.toast.success(
            "Usage analytics off: nothing more is recorded about what you do." if self.objects_usage
            else "Usage analytics on. Thank you."
        )

    @member_event
    async def set_marketing(self, actor, on: bool):
        self.marketing = await db.run(service.set_marketing, actor.user_id, bool(on))
        return rx.toast.success("You will get product news by email." if self.marketing else "No product news by email.")

    @member_event
    async def delete_account(self, actor, form: dict):
        """Delete the account: the password (or a recent sign-in), a choice for each shared
        workspace, and the box that says it cannot be undone."""
        self.delete_error = ""
        if form.get("understood") not in ("on", True, "true"):
            self.delete_error = "Tick the box to say you understand that this cannot be undone."
            return None
        hand_over: dict[int, int | None] = {}
        for w in self.shared:
            choice = str(form.get(f"ws-{w.id}", ""))
            if choice == "delete":
                hand_over[int(w.id)] = None
            elif choice.isdigit():
                hand_over[int(w.id)] = int(choice)
        self.deleting = True
        try:
            await db.run(
                erasure.request_deletion, actor.user_id, password=str(form.get("password", "")),
                session_id=actor.session_id, hand_over=hand_over, ip=self.router.session.client_ip or "",
            )
        except erasure.DeletionRefused as e:
            self.delete_error = e.message
            return None
        finally:
            self.deleting = False
        self._forget()
        return rx.redirect("/login?signed_out=deleted")


class RequestState(SessionState):
    """The privacy request form (``/privacy/requests``), for anyone: signed in or not. The
    request being confirmed is kept on the server only (``_request_id``): a client cannot
    point the code form at someone else's request."""

    step: str = "form"  # form | code | done
    email: str = ""
    kind: str = "access"
    kind_name: str = ""
    masked: str = ""
    due: str = ""
    error: str = ""
    error_field: str = ""
    sending: bool = False
    _request_id: int = 0

    def _forget_own(self) -> None:
        self._start_over()
        self.email = ""

    def _start_over(self) -> None:
        self.step, self.kind_name, self.masked, self.due = "form", "", "", ""
        self.error = self.error_field = ""
        self._request_id = 0

    def _fail(self, e: requests.RequestError) -> None:
        self.error, self.error_field = e.message, e.reason

    def _done(self, view) -> None:
        self.kind_name = view.kind_name
        self.masked = mask_email(view.email)
        self.error = self.error_field = ""
        if view.needs_code:
            self.step = "code"
        else:
            self.step, self.due = "done", _day(view.due_at)
            self._request_id = 0

    @public_event
    async def load(self):
        """on_load: who is signed in (their address fills the form), and the kind asked for
        by the link that led here (``?kind=deletion``).

        It runs again whenever the page's connection is re-established, so it keeps what the
        person is doing: a form being filled in, its message, a code being waited for. Only a
        finished request starts over."""
        res = await self._know_who()
        if self.step == "done":
            self._start_over()
        if res is not None and not self.email:
            self.email = res.user.email
        asked = self.router.url.query_parameters.get("kind", "")
        if asked in requests.KINDS:
            self.kind = asked

    @public_event
    async def file(self, form: dict):
        res = await self._resolve()
        self.kind = str(form.get("kind", ""))
        self.email = str(form.get("email", "")).strip()
        self.sending = True
        try:
            view = await db.run(
                requests.file_request, self.kind, self.email, str(form.get("details", "")),
                user_id=res.user.id if res is not None else None, ip=self.router.session.client_ip or "",
            )
        except requests.RequestError as e:
            self._fail(e)
            return None
        finally:
            self.sending = False
        self._request_id = view.id
        self._done(view)
        return None

    @public_event
    async def confirm(self, form: dict):
        if not self._request_id:
            self._start_over()
            return None
        try:
            view = await db.run(requests.verify, self._request_id, str(form.get("code", "")))
        except requests.RequestError as e:
            self._fail(e)
            if e.reason == "locked":
                self._request_id = 0
            return None
        self._done(view)
        return None

    @public_event
    async def resend(self):
        if not self._request_id:
            self._start_over()
            return None
        try:
            await db.run(requests.resend_code, self._request_id, ip=self.router.session.client_ip or "")
        except requests.RequestError as e:
            self._fail(e)
            return None
        self.error = self.error_field = ""
        return rx.toast.info(f"A new code is on its way to {self.masked}.")

    @public_event
    async def start_over(self):
        self._start_over()
