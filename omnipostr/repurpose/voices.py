"""Settings → Brand voices: workspace-level voice profiles (name, description, sample posts)
that the composer passes to the engine."""

from __future__ import annotations

import json
import re

import reflex as rx

from omnipostr import db
from omnipostr.accounts.guard import member_event, tab_event
from omnipostr.accounts.settings_pages import register_settings_tab, settings_frame
from omnipostr.accounts.state import SessionState
from omnipostr.repurpose import service
from omnipostr.repurpose.service import ComposeError, NotFound
from omnipostr.ui.components import confirm_dialog, empty_state, field, section, submit_button

SAMPLE_SEPARATOR = "\n---\n"
_SEPARATOR_LINE = re.compile(r"^[ \t]*-{3,}[ \t]*$", re.MULTILINE)


def split_samples(text: str) -> list[str]:
    """Sample posts from the text box: separated by a line of three or more dashes (spaces
    around them and Windows line ends allowed)."""
    return [x.strip() for x in _SEPARATOR_LINE.split(text.replace("\r\n", "\n")) if x.strip()]


class VoicesState(SessionState):
    voices: list[dict[str, str]] = []
    editing_id: str = ""
    editing_name: str = ""
    form_name: str = ""
    form_description: str = ""
    form_samples: str = ""
    form_key: int = 0
    errors: dict[str, str] = {}

    def _forget_own(self) -> None:
        self.voices = []
        self._reset_form()

    async def _reload(self, actor) -> None:
        rows = await db.run(service.list_voices, actor)
        self.voices = [
            {
                "id": str(v.id),
                "name": v.name,
                "description": v.description,
                "samples": SAMPLE_SEPARATOR.join(json.loads(v.samples or "[]")),
                "count": str(len(json.loads(v.samples or "[]"))),
            }
            for v in rows
        ]

    @member_event(page=True)
    async def load(self, actor):
        # The form is redrawn only when it shows something from an earlier visit: on a slow
        # load, what the person has begun typing into the empty form is kept.
        stale = bool(self.editing_id or self.form_name or self.form_description or self.form_samples)
        self._reset_form(redraw=stale)
        await self._reload(actor)

    def _reset_form(self, redraw: bool = True) -> None:
        self.editing_id = ""
        self.editing_name = ""
        self.form_name = ""
        self.form_description = ""
        self.form_samples = ""
        if redraw:
            self.form_key += 1
        self.errors = {}

    @tab_event
    def edit(self, voice_id: str):
        v = next((x for x in self.voices if x["id"] == voice_id), None)
        if v is None:
            return
        self.editing_id = voice_id
        self.editing_name = v["name"]
        self.form_name = v["name"]
        self.form_description = v["description"]
        self.form_samples = v["samples"]
        self.form_key += 1
        self.errors = {}

    @tab_event
    def cancel(self):
        self._reset_form()

    @member_event
    async def save(self, actor, form: dict):
        samples = split_samples(str(form.get("voice_samples", "")))
        try:
            await db.run(
                service.save_voice, actor, name=str(form.get("voice_name", "")),
                description=str(form.get("voice_description", "")), samples=samples,
                voice_id=int(self.editing_id) if self.editing_id.isdigit() else None,
            )
        except ComposeError as e:
            self.errors = {e.field or "voice_name": e.message}
            return
        except NotFound:
            self.errors = {"voice_name": "That brand voice no longer exists."}
            return
        self._reset_form()
        await self._reload(actor)
        return rx.toast.success("Brand voice saved.")

    @member_event
    async def delete(self, actor, voice_id: str):
        try:
            await db.run(service.delete_voice, actor, int(voice_id))
        except (NotFound, ValueError):
            pass
        self._reset_form()
        await self._reload(actor)
        return rx.toast.success("Brand voice deleted.")


def _voice_row(v: dict) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.text(v["name"], weight="bold"),
                rx.text(v["description"], size="2", color_scheme="gray"),
                rx.text(v["count"] + " sample posts", size="1", color_scheme="gray"),
                spacing="1",
                flex="1",
            ),
            rx.button("Edit", size="1", variant="soft", on_click=VoicesState.edit(v["id"]), aria_label="Edit " + v["name"]),
            confirm_dialog(
                rx.button("Delete", size="1", variant="soft", color_scheme="red", aria_label="Delete " + v["name"]),
                "Delete the brand voice " + v["name"] + "?",
                "Your team can no longer write in it. Posts already written keep their words.",
                "Delete",
                VoicesState.delete(v["id"]),
            ),
            align="start",
            width="100%",
            spacing="2",
        ),
        width="100%",
        role="article",
        aria_label=v["name"],
    )


def voices_page() -> rx.Component:
    S = VoicesState
    return settings_frame(
        "/settings/voices",
        section(
            "Brand voices",
            "Describe how your brand sounds and paste a few posts you like. The composer writes in the voice you pick.",
            rx.cond(
                S.voices.length() > 0,
                rx.vstack(rx.foreach(S.voices, _voice_row), spacing="2", width="100%"),
                empty_state("mic", "No brand voice yet", "Add one below: a name, a short description and two or three sample posts."),
            ),
        ),
        section(
            "Add or edit a brand voice",
            "",
            rx.form(
                rx.vstack(
                    rx.cond(
                        S.editing_id != "",
                        rx.callout("Editing “" + S.editing_name + "”. Save to change it, or cancel.", icon="pencil", size="1", role="status"),
                    ),
                    field("Name", "voice_name", default_value=S.form_name, error=S.errors.get("voice_name", ""), max_length=100),
                    rx.el.label("Description", html_for="field-voice_description", class_name="op-label"),
                    rx.text_area(id="field-voice_description", name="voice_description", default_value=S.form_description,
                                 placeholder="e.g. Warm, direct, no jargon. Short sentences. Speaks to small-business owners.", rows="3"),
                    rx.cond(S.errors.get("voice_description", "") != "", rx.text(S.errors.get("voice_description", ""), color_scheme="red", size="2", role="alert")),
                    rx.el.label("Sample posts (separate them with a line of ---)", html_for="field-voice_samples", class_name="op-label"),
                    rx.text_area(id="field-voice_samples", name="voice_samples", default_value=S.form_samples, rows="6"),
                    rx.cond(S.errors.get("voice_samples", "") != "", rx.text(S.errors.get("voice_samples", ""), color_scheme="red", size="2", role="alert")),
                    rx.hstack(
                        submit_button("Save brand voice"),
                        rx.cond(S.editing_id != "", rx.button("Cancel", type="button", variant="soft", color_scheme="gray", size="3", on_click=S.cancel)),
                        spacing="2",
                    ),
                    spacing="2",
                    width="100%",
                    align="stretch",
                ),
                on_submit=S.save,
                reset_on_submit=False,
                key=S.form_key.to_string(),
                aria_label="Brand voice",
            ),
        ),
    )


register_settings_tab("Brand voices", "/settings/voices")


def add_pages(app: rx.App) -> None:
    app.add_page(voices_page, route="/settings/voices", title="Brand voices · OmniPostr", on_load=VoicesState.load)
