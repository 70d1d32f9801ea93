"""State of the settings pages: profile, security (password, sessions), workspace (members)."""

from __future__ import annotations

import reflex as rx

from omnipostr import db
from omnipostr.accounts import service
from omnipostr.accounts.guard import member_event
from omnipostr.accounts.service import AuthError, InputError
from omnipostr.accounts.state import SessionState, full_reload
from omnipostr.audit import service as audit


class ProfileState(SessionState):
    name: str = ""
    marketing: bool = False
    errors: dict[str, str] = {}
    email_notice: str = ""

    def _forget_own(self) -> None:
        self.name = ""
        self.marketing = False
        self.email_notice = ""

    @member_event(page=True)
    async def load(self, actor):
        user = await db.run(service.current_user, actor)
        self.name = user.name
        self.marketing = user.marketing_opt_in
        self.errors = {}
        self.email_notice = ""

    @member_event
    async def save_profile(self, actor, form: dict):
        self.errors = {}
        try:
            user = await db.run(
                service.update_profile, actor, name=str(form.get("name", "")),
                marketing_opt_in=form.get("marketing") in (True, "on", "true"),
            )
        except InputError as e:
            self.errors = {e.field or "name": e.message}
            return
        self.name = user.name
        self.user_name = user.name
        self.marketing = user.marketing_opt_in
        return rx.toast.success("Profile saved.")

    @member_event
    async def change_email(self, actor, form: dict):
        self.errors = {}
        self.email_notice = ""
        try:
            new = await db.run(
                service.request_email_change, actor, str(form.get("password", "")), str(form.get("new_email", ""))
            )
        except InputError as e:
            self.errors = {e.field or "new_email": e.message}
            return
        self.email_notice = f"We sent a link to {new}. Your address changes when you open it."


class SecurityState(SessionState):
    sessions: list[dict[str, str]] = []
    activity: list[dict[str, str]] = []
    errors: dict[str, str] = {}

    def _forget_own(self) -> None:
        self.sessions = []
        self.activity = []

    async def _load_sessions(self, actor: service.Actor) -> None:
        rows = await db.run(lambda s: service.list_sessions(s, actor.user_id))
        self.sessions = [
            {
                "id": str(r.id),
                "browser": r.browser or "Unknown browser",
                "os": r.os or "Unknown system",
                "device": r.device,
                "ip": r.ip or "unknown",
                "created": r.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                "last_seen": r.last_seen_at.strftime("%Y-%m-%d %H:%M UTC"),
                "method": {"password": "Password"}.get(r.method, r.method.title()),
                "current": "yes" if r.id == actor.session_id else "",
            }
            for r in rows
        ]
        entries = await db.run(audit.recent_for_user, actor.user_id, 50)
        self.activity = [
            {"what": e.what, "when": e.at.strftime("%Y-%m-%d %H:%M UTC"), "ip": e.ip or "—"} for e in entries
        ]

    @member_event(page=True)
    async def load(self, actor):
        self.errors = {}
        await self._load_sessions(actor)

    @member_event
    async def revoke(self, actor, session_id: str):
        try:
            sid = int(session_id)
        except ValueError:
            return
        if sid == actor.session_id:
            return rx.toast.info("Use “Sign out” to end this session.")
        ip = self.router.session.client_ip or ""
        ok = await db.run(lambda s: service.revoke_session(s, actor.user_id, sid, ip=ip))
        await self._load_sessions(actor)
        return rx.toast.success("Signed out of that device.") if ok else rx.toast.error("That session had already ended.")

    @member_event
    async def revoke_others(self, actor):
        ip = self.router.session.client_ip or ""
        n = await db.run(lambda s: service.revoke_other_sessions(s, actor.user_id, actor.session_id, ip=ip))
        await self._load_sessions(actor)
        return rx.toast.success(f"Signed out of {n} other session{'s' if n != 1 else ''}.")

    @member_event
    async def change_password(self, actor, form: dict):
        self.errors = {}
        new = str(form.get("new_password", ""))
        if new != str(form.get("new_password2", "")):
            self.errors = {"new_password2": "The two new passwords are not the same."}
            return
        client = service.ClientInfo(ip=self.router.session.client_ip or "", user_agent=self.router.headers.user_agent)
        try:
            await db.run(service.change_password, actor, str(form.get("current_password", "")), new, client)
        except InputError as e:
            self.errors = {e.field or "new_password": e.message}
            return
        except AuthError:
            return self._login_redirect()
        await self._load_sessions(actor)
        return [
            rx.set_value("field-current_password", ""),
            rx.set_value("field-new_password", ""),
            rx.set_value("field-new_password2", ""),
            rx.toast.success("Password changed. Your other sessions were signed out."),
        ]


class WorkspaceState(SessionState):
    members: list[dict[str, str]] = []
    invites: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    ws_name: str = ""

    def _forget_own(self) -> None:
        self.members = []
        self.invites = []
        self.ws_name = ""

    async def _load_all(self, actor: service.Actor) -> None:
        def work(s):
            return service.list_members(s, actor), service.list_invites(s, actor)

        members, invites = await db.run(work)
        self.members = [
            {
                "user_id": str(m.user_id),
                "name": m.name,
                "email": m.email,
                "role": service.role_label(m.role),
                "role_id": m.role,
                "me": "yes" if m.user_id == actor.user_id else "",
                "joined": m.joined_at.strftime("%Y-%m-%d"),
            }
            for m in members
        ]
        self.invites = [
            {"id": str(i.id), "email": i.email, "role": service.role_label(i.role), "expires": i.expires_at.strftime("%Y-%m-%d")}
            for i in invites
        ]

    @member_event(page=True)
    async def load(self, actor):
        self.errors = {}
        self.ws_name = self.workspace_name
        await self._load_all(actor)

    @member_event
    async def rename(self, actor, form: dict):
        self.errors = {}
        try:
            ws = await db.run(service.rename_workspace, actor, str(form.get("workspace_name", "")))
        except InputError as e:
            self.errors = {"workspace_name": e.message}
            return
        self.ws_name = ws.name
        self.workspace_name = ws.name
        await self._enter()
        return rx.toast.success("Workspace renamed.")

    @member_event
    async def invite(self, actor, form: dict):
        self.errors = {}
        try:
            inv = await db.run(
                service.invite_member, actor, str(form.get("invite_email", "")), str(form.get("invite_role", "member"))
            )
        except InputError as e:
            self.errors = {e.field or "invite_email": e.message}
            return
        await self._load_all(actor)
        return [rx.set_value("field-invite_email", ""), rx.toast.success(f"Invitation sent to {inv.email}.")]

    @member_event
    async def revoke_invite(self, actor, invite_id: str):
        try:
            await db.run(service.revoke_invite, actor, int(invite_id))
        except (InputError, ValueError):
            return rx.toast.error("That invitation no longer exists.")
        await self._load_all(actor)
        return rx.toast.success("Invitation withdrawn.")

    @member_event
    async def remove(self, actor, user_id: str):
        try:
            uid = int(user_id)
            await db.run(service.remove_member, actor, uid)
        except (InputError, ValueError) as e:
            return rx.toast.error(getattr(e, "message", "That member cannot be removed."))
        if uid == actor.user_id:
            return full_reload("/app")
        await self._load_all(actor)
        return rx.toast.success("Member removed.")

    @member_event
    async def set_role(self, actor, user_id: str, role: str):
        try:
            await db.run(service.change_role, actor, int(user_id), role)
        except (InputError, ValueError) as e:
            return rx.toast.error(getattr(e, "message", "That role cannot be changed."))
        await self._load_all(actor)
        return rx.toast.success("Role changed.")
