"""The privacy center (Settings → Privacy): what we hold and for how long, a copy of it,
restriction and marketing choices, where the data is processed, and how to complain."""

from __future__ import annotations

import reflex as rx

from omnipostr.accounts.settings_pages import register_settings_tab, settings_frame
from omnipostr.privacy import erasure
from omnipostr.privacy.state import PrivacyState as P
from omnipostr.settings import get_settings
from omnipostr.ui.components import field, section


def _held_row(h: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(h["category"], weight="medium", size="2"), rx.text(h["what"], size="1", color_scheme="gray"),
                                spacing="1")),
        rx.table.cell(rx.text(h["count"], size="2"), text_align="right"),
        rx.table.cell(rx.vstack(rx.text(h["purpose"], size="1"), rx.text(h["basis"], size="1", color_scheme="gray"), spacing="1")),
        rx.table.cell(rx.text(h["retention"], size="1")),
    )


def _held() -> rx.Component:
    return section(
        "What we hold about you",
        "Every kind of personal data OmniPostr keeps about you, how much of it there is, why, and for how long.",
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Data"), rx.table.column_header_cell("Items", text_align="right"),
                    rx.table.column_header_cell("Why we keep it"), rx.table.column_header_cell("Kept for"),
                )),
                rx.table.body(rx.foreach(P.held, _held_row)),
                size="1",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
            role="region",
            aria_label="Data we hold",
            tab_index=0,
        ),
        rx.text("Who else handles it for us:", size="2", weight="medium", margin_top="0.75em"),
        rx.el.ul(rx.foreach(P.processors, lambda p: rx.el.li(rx.text(p["name"], ": ", p["purpose"], size="2"))), class_name="op-list"),
    )


def _due_row(d: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(d["what"], weight="medium", size="2"), rx.text(d["title"], size="1", color_scheme="gray"),
                                spacing="1")),
        rx.table.cell(rx.text(d["when"], size="2")),
        rx.table.cell(rx.text(d["why"], size="1")),
    )


def _ledger() -> rx.Component:
    return section(
        "When each thing is deleted",
        "What the retention rules delete on their own, and when. You can delete anything sooner yourself, "
        "in the library or below.",
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("What"), rx.table.column_header_cell("Deleted on"),
                    rx.table.column_header_cell("Why"),
                )),
                rx.table.body(rx.foreach(P.due, _due_row)),
                size="1",
                width="100%",
            ),
            overflow_x="auto",
            max_height="22rem",
            overflow_y="auto",
            width="100%",
            role="region",
            aria_label="Deletion dates",
            tab_index=0,
        ),
    )


def _export_row(e: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.cond(
            e["status"] == "ready",
            rx.hstack(
                rx.link(rx.icon("download", size=14), "Download (ZIP, ", e["size"], ")", href=e["href"],
                        download="", reload_document=True, weight="medium", display="inline-flex", align_items="center", gap="0.35em"),
                rx.text("ready until " + e["expires"], size="1", color_scheme="gray"),
                spacing="2", align="center", wrap="wrap",
            ),
            rx.cond(
                e["status"] == "queued",
                rx.hstack(rx.spinner(size="1"), rx.text("Preparing the copy asked for on " + e["created"] + "…", size="2"),
                          spacing="2", align="center"),
                rx.text("The copy asked for on " + e["created"] + " could not be made. Ask for a new one.", size="2", color_scheme="red"),
            ),
        ),
        width="100%",
    )


def _download() -> rx.Component:
    return section(
        "Download your data",
        "A ZIP with everything above: one JSON document (its format is published) and a spreadsheet per kind of data. "
        f"We email you when it is ready; it can be downloaded for {get_settings().export_link_days} days.",
        rx.vstack(rx.foreach(P.exports, _export_row), spacing="2", width="100%"),
        rx.button(rx.icon("archive", size=14), "Prepare a download", on_click=P.request_export, disabled=P.preparing,
                  size="2", width="fit-content"),
        rx.text("Format: ", rx.link("privacy-export-1.json", href=get_settings().backend_path("/schemas/privacy-export-1.json"), underline="always"),
                " (JSON Schema).", size="1", color_scheme="gray"),
    )


def _switch_row(id_: str, label: str, text: str, checked, on_change) -> rx.Component:
    return rx.hstack(
        rx.switch(id=id_, checked=checked, on_change=on_change, margin_top="3px"),
        rx.vstack(rx.el.label(label, html_for=id_, class_name="op-label"), rx.text(text, size="1", color_scheme="gray"), spacing="1"),
        spacing="3",
        align="start",
    )


def _choices() -> rx.Component:
    return section(
        "Your choices",
        "Each takes effect at once.",
        _switch_row(
            "privacy-restrict", "Restrict processing",
            "Your content stays, but nothing is sent to the AI engine and no job touches it except deletion on "
            "schedule. Generating posts is off until you lift it.",
            P.restricted, P.set_restricted,
        ),
        _switch_row(
            "privacy-usage", "Usage analytics",
            "We record what you use and when (a generation, a copy, an error; never your content) to keep the service "
            "working well, only if you agree: here or in the cookie banner. Off, nothing is recorded, except these "
            "choices themselves.",
            ~P.objects_usage, P.set_usage,
        ),
        _switch_row(
            "privacy-marketing", "Product news by email",
            "Occasional email about new features. Off unless you turn it on; every such email has a one-click unsubscribe. "
            "Account and security email is always sent.",
            P.marketing, P.set_marketing,
        ),
    )


def _where() -> rx.Component:
    return section(
        "Where your data is processed",
        "Each workspace keeps its data in one region. Transfers between regions rely on Standard Contractual Clauses "
        "or adequacy decisions, and the data is encrypted in transit and at rest.",
        rx.el.ul(rx.foreach(P.regions, lambda r: rx.el.li(rx.text(r["workspace"], ": ", r["region"], size="2"))), class_name="op-list"),
    )


def _rights() -> rx.Component:
    c = get_settings()
    return section(
        "Your rights",
        "What you can do, and where to turn.",
        rx.text("You can see, download and correct your data here and in your profile, restrict its processing, "
                "choose what email you get, and delete your account. Using any of these rights never changes your plan, "
                "its features or its price.", size="2"),
        rx.text("To ask for anything else, or if we got something wrong, ",
                rx.link("make a privacy request", href="/privacy/requests", underline="always"), " or write to ",
                rx.link(c.privacy_email, href=f"mailto:{c.privacy_email}", underline="always"),
                f": we answer privacy questions within {c.privacy_inquiry_business_days} business days and rights "
                f"requests within {c.privacy_request_days} days.", size="2"),
        rx.text("You may also complain to a data protection supervisory authority, in particular in the country where you "
                "live or work (in the EU, your national authority; in the UK, the Information Commissioner's Office).", size="2"),
    )


def _request(r: rx.Var) -> rx.Component:
    return rx.el.details(
        rx.el.summary(
            rx.text(r.kind, weight="medium", size="2", as_="span"), " · ",
            rx.badge(r.status, color_scheme=rx.cond(r.overdue, "red", "gray"), variant="soft"),
            rx.cond(r.due != "", rx.text(" · answer due " + r.due, size="2", color_scheme="gray", as_="span")),
            rx.text(" · filed " + r.filed, size="2", color_scheme="gray", as_="span"),
        ),
        rx.cond(r.extension != "", rx.text(r.extension, size="2")),
        rx.el.ol(
            rx.foreach(r.history, lambda e: rx.el.li(rx.text(e.at, " — ", e.status, ": ", e.note, size="1"))),
            class_name="op-list",
        ),
        class_name="op-request",
    )


def _requests() -> rx.Component:
    return section(
        "Your privacy requests",
        "Anything you asked us that a button here does not do: each with its status, its due date and what happened.",
        rx.cond(
            P.requests.length() > 0,
            rx.vstack(rx.foreach(P.requests, _request), spacing="2", width="100%"),
            rx.text("You have made no privacy request.", size="2", color_scheme="gray"),
        ),
        rx.link("Make a privacy request", href="/privacy/requests", underline="always", size="2"),
    )


def _heir_choice(w: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.el.label("Who takes over ", w.name, "?", html_for="ws-" + w.id, class_name="op-label"),
        rx.el.select(
            rx.foreach(w.members, lambda m: rx.el.option("Hand it over to " + m.name, value=m.id)),
            rx.el.option("Delete it, with everything in it", value="delete"),
            id="ws-" + w.id,
            name="ws-" + w.id,
            class_name="rt-reset op-native-select",
        ),
        spacing="1",
    )


def _delete() -> rx.Component:
    return section(
        "Delete your account",
        "Your account and your personal data are deleted for good, and you are signed out everywhere at once. "
        "We email you when it is done.",
        rx.text("What goes:", size="2", weight="medium"),
        rx.el.ul(*[rx.el.li(rx.text(x, size="2")) for x in erasure.GOES], class_name="op-list"),
        rx.text("What stays:", size="2", weight="medium"),
        rx.el.ul(*[rx.el.li(rx.text(x, size="2")) for x in erasure.STAYS], class_name="op-list"),
        rx.cond(P.solo.length() > 0, rx.text("Deleted with it, as you own them alone: ", P.solo.join(", "), ".", size="2")),
        rx.form(
            rx.vstack(
                rx.foreach(P.shared, _heir_choice),
                rx.cond(
                    P.has_password,
                    field("Your password", "password", type="password", autocomplete="current-password", required=True),
                    rx.text("You sign in with Google or GitHub: sign out and in again, then delete within 10 minutes.", size="2"),
                ),
                rx.hstack(
                    rx.checkbox(id="delete-understood", name="understood"),
                    rx.el.label("I understand that this cannot be undone.", html_for="delete-understood", class_name="op-label"),
                    spacing="2",
                    align="center",
                ),
                rx.cond(P.delete_error != "", rx.callout(P.delete_error, icon="circle-alert", color_scheme="red", role="alert", width="100%")),
                rx.button(rx.icon("trash-2", size=14), "Delete my account", type="submit", color_scheme="red", size="2",
                          loading=P.deleting, width="fit-content"),
                spacing="3",
                width="100%",
            ),
            on_submit=P.delete_account,
            reset_on_submit=False,
            aria_label="Delete your account",
        ),
    )


def privacy_center_page() -> rx.Component:
    return settings_frame("/settings/privacy", _held(), _ledger(), _download(), _choices(), _requests(), _where(), _rights(), _delete())


register_settings_tab("Privacy", "/settings/privacy")


def add_pages(app: rx.App) -> None:
    app.add_page(privacy_center_page, route="/settings/privacy", title="Privacy · OmniPostr", on_load=P.load)
