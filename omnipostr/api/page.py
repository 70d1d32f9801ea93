"""Settings → API keys: owners and admins make keys (each shown once), see when each was last
used, and revoke them. Everyone sees where the API is described."""

from __future__ import annotations

import reflex as rx

from omnipostr import db
from omnipostr.accounts.guard import member_event, tab_event
from omnipostr.accounts.settings_pages import register_settings_tab, settings_frame
from omnipostr.accounts.state import SessionState
from omnipostr.api import keys
from omnipostr.billing import quota
from omnipostr.ui.components import (
    checkbox_field,
    confirm_dialog,
    empty_state,
    field,
    form_error,
    section,
    submit_button,
)


def _when(at) -> str:
    return f"{at:%d %b %Y, %H:%M} UTC" if at else "never"


class ApiKeysState(SessionState):
    manager: bool = False
    api_access: bool = False
    plan_name: str = ""
    per_minute: int = 0
    rows: list[dict[str, str]] = []
    new_key: str = ""  # the whole key, shown once, until "I have copied it"
    new_key_name: str = ""
    errors: dict[str, str] = {}
    form_key: int = 0

    def _forget_own(self) -> None:
        self.rows = []
        self.new_key = ""
        self.new_key_name = ""
        self.errors = {}
        self.manager = False

    def _show(self, views: list[keys.KeyView]) -> None:
        self.rows = [
            {"id": str(v.id), "name": v.name, "prefix": v.prefix, "scopes": ", ".join(v.scopes),
             "created": f"{_when(v.created_at)} by {v.created_by or 'a former member'}", "used": _when(v.last_used_at)}
            for v in views
        ]

    async def _reload(self, actor) -> None:
        def read(s):
            plan = quota.workspace_plan(s, actor.workspace_id)
            return plan, (keys.list_keys(s, actor) if actor.can_manage else [])

        plan, views = await db.run(read)
        self.manager, self.api_access, self.plan_name = actor.can_manage, plan.api_access, plan.name
        self.per_minute = plan.api_requests_per_minute
        self._show(views)

    @member_event(page=True)
    async def load(self, actor):
        self.new_key = ""  # a key is shown once: not again on a later visit
        self.new_key_name = ""
        self.errors = {}
        await self._reload(actor)

    @member_event(manager=True)
    async def create(self, actor, form: dict):
        scopes = [s for s in keys.SCOPES if form.get("scope_" + s.replace(":", "_"))]
        try:
            view, whole = await db.run(keys.create_key, actor, str(form.get("key_name", "")), scopes)
        except keys.KeyRefused as e:
            self.errors = {e.field: e.message}
            return None
        self.errors = {}
        self.new_key, self.new_key_name = whole, view.name
        self.form_key += 1
        await self._reload(actor)
        return rx.toast.success(f"Key “{view.name}” made. Copy it now: it is not shown again.")

    @tab_event
    def copied(self):
        self.new_key = ""
        self.new_key_name = ""

    @member_event(manager=True)
    async def revoke(self, actor, key_id: str):
        try:
            done = await db.run(keys.revoke_key, actor, int(key_id))
        except (ValueError, keys.KeyRefused):
            done = False
        await self._reload(actor)
        if not done:
            return rx.toast.error("That key was already revoked.")
        return rx.toast.success("Key revoked. Requests with it are refused from now on.")


def _key_row(k: dict) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.text(k["name"], weight="bold"),
                rx.text(rx.el.code(k["prefix"] + "_…"), " · ", k["scopes"], size="2"),
                rx.text("Made " + k["created"] + " · last used " + k["used"], size="1", color_scheme="gray"),
                spacing="1",
                flex="1",
            ),
            confirm_dialog(
                rx.button("Revoke", size="1", variant="soft", color_scheme="red", aria_label="Revoke " + k["name"]),
                "Revoke the key " + k["name"] + "?",
                "Every system that uses it is refused from the next request on. This cannot be undone.",
                "Revoke",
                ApiKeysState.revoke(k["id"]),
            ),
            align="start",
            width="100%",
            spacing="2",
        ),
        width="100%",
        role="article",
        aria_label=k["name"],
    )


def _new_key() -> rx.Component:
    S = ApiKeysState
    return rx.cond(
        S.new_key != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key_round")),
            rx.vstack(
                rx.text("Your new key “", S.new_key_name, "”. Copy it now: it is not shown again.", weight="bold"),
                rx.el.label("The new key", html_for="new-api-key", class_name="op-label"),
                rx.input(id="new-api-key", value=S.new_key, read_only=True, width="100%", font_family="monospace"),
                rx.hstack(
                    rx.button("Copy key", rx.icon("copy", size=14), on_click=rx.set_clipboard(S.new_key), size="2"),
                    rx.button("I have copied it", variant="soft", size="2", on_click=S.copied),
                    spacing="2",
                ),
                spacing="2",
                width="100%",
            ),
            color_scheme="green",
            role="status",
            width="100%",
        ),
    )


def _create_form() -> rx.Component:
    S = ApiKeysState
    return rx.form(
        rx.vstack(
            form_error(S.errors.get("form", "")),
            field("Name", "key_name", placeholder="e.g. Our CMS", error=S.errors.get("name", ""), max_length=keys.NAME_MAX),
            rx.el.fieldset(
                rx.el.legend("What the key may do", class_name="op-label"),
                *[checkbox_field(label, "scope_" + scope.replace(":", "_"), default_checked=True)
                  for scope, label in keys.SCOPES.items()],
                rx.cond(S.errors.get("scopes", "") != "", rx.text(S.errors.get("scopes", ""), color_scheme="red", size="2", role="alert")),
                class_name="op-fieldset",
            ),
            submit_button("Create key"),
            spacing="3",
            width="100%",
            align="stretch",
        ),
        on_submit=S.create,
        reset_on_submit=False,
        key=S.form_key.to_string(),
        aria_label="New API key",
    )


def api_keys_page() -> rx.Component:
    S = ApiKeysState
    about = section(
        "The REST API",
        "",
        rx.text(
            "Start generations and read their posts from your own systems. Send a key as ",
            rx.el.code("Authorization: Bearer op_…"),
            " to ", rx.el.code("/api/v1"), ". Everything it can do is described in ",
            rx.link("the API's OpenAPI document", href="/api/v1/openapi.json", underline="always"), ".",
            size="2",
        ),
        rx.cond(
            S.api_access,
            rx.text("On the ", S.plan_name, " plan, each key may make ", S.per_minute.to_string(),
                    " requests a minute.", size="2"),
            rx.callout(
                rx.fragment("The API is not part of the ", S.plan_name, " plan. ",
                            rx.link("See the plans", href="/pricing", underline="always"), "."),
                icon="info", role="status", width="100%",
            ),
        ),
    )
    managed = rx.fragment(
        rx.cond(S.api_access | (S.rows.length() > 0), section(
            "Your keys",
            "A key acts for the member who made it, in this workspace. It stops working when it is revoked or "
            "that member leaves.",
            _new_key(),
            rx.cond(
                S.rows.length() > 0,
                rx.vstack(rx.foreach(S.rows, _key_row), spacing="2", width="100%"),
                empty_state("key_round", "No API key yet", "Make one below for each system that calls the API."),
            ),
        )),  # on a plan without the API: no key list to fill, unless keys are left from an earlier plan
        rx.cond(S.api_access, section("Make a key", "", _create_form())),
    )
    return settings_frame(
        "/settings/api",
        about,
        rx.cond(
            S.manager,
            managed,
            rx.text("Only the workspace's owner and admins make and revoke API keys.", size="2", role="status"),
        ),
    )


register_settings_tab("API keys", "/settings/api")


def add_pages(app: rx.App) -> None:
    app.add_page(api_keys_page, route="/settings/api", title="API keys · OmniPostr", on_load=ApiKeysState.load)
