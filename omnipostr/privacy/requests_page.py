"""``/privacy/requests``: a privacy request or question, for anyone (REQ-1, REQ-2). Signed in
and writing about the account's own address, it is filed at once; otherwise a 6-digit code
sent to the address confirms it. Then the due date, and the acknowledgment by email."""

from __future__ import annotations

import reflex as rx

from omnipostr.privacy import requests
from omnipostr.privacy.state import RequestState as R
from omnipostr.settings import get_settings
from omnipostr.ui.components import field
from omnipostr.ui.layout import public_layout


def _error(name: str) -> rx.Var:
    return rx.cond(R.error_field == name, R.error, "")


def _form() -> rx.Component:
    c = get_settings()
    return rx.form(
        rx.vstack(
            rx.vstack(
                rx.el.label("What are you asking for?", html_for="request-kind", class_name="op-label"),
                rx.el.select(
                    *[rx.el.option(name, value=key) for key, name in requests.KINDS.items()],
                    id="request-kind",
                    name="kind",
                    default_value=R.kind,
                    class_name="rt-reset op-native-select",
                    key=R.kind,
                ),
                rx.cond(_error("kind") != "", rx.text(_error("kind"), color_scheme="red", size="2", role="alert")),
                spacing="1",
                width="100%",
            ),
            field("Your email address", "email", type="email", autocomplete="email", required=True,
                  default_value=R.email, error=_error("email"),
                  hint="The address of your account, if you have one. We send the code and our answer there."),
            rx.vstack(
                rx.el.label("Details", html_for="request-details", class_name="op-label"),
                rx.text_area(id="request-details", name="details", rows="5", width="100%", max_length=requests.DETAILS_MAX,
                             aria_invalid=rx.cond(_error("details") != "", "true", "false")),
                rx.cond(
                    _error("details") != "",
                    rx.text(_error("details"), color_scheme="red", size="2", role="alert"),
                    rx.text("Anything that helps us answer: for a correction, what is wrong and what is right.",
                            size="1", color_scheme="gray"),
                ),
                spacing="1",
                width="100%",
            ),
            rx.cond(
                (R.error != "") & (R.error_field != "kind") & (R.error_field != "email") & (R.error_field != "details"),
                rx.callout(R.error, icon="circle-alert", color_scheme="red", role="alert", width="100%"),
            ),
            rx.button("Send request", type="submit", size="3", loading=R.sending),
            rx.text(
                f"We answer rights requests within {c.privacy_request_days} days and questions within "
                f"{c.privacy_inquiry_business_days} business days of confirming them.",
                size="1", color_scheme="gray",
            ),
            spacing="4",
            width="100%",
            align="stretch",
        ),
        on_submit=R.file,
        reset_on_submit=False,
        aria_label="Privacy request",
    )


def _code() -> rx.Component:
    return rx.vstack(
        rx.text("We sent a 6-digit code to ", rx.el.strong(R.masked), ". Enter it to confirm it is you: it works for ",
                f"{requests.CODE_MINUTES} minutes.", size="3"),
        rx.form(
            rx.vstack(
                field("Code", "code", autocomplete="one-time-code", required=True, max_length=7, error=_error_code()),
                rx.hstack(
                    rx.button("Confirm", type="submit", size="3"),
                    rx.button("Send a new code", type="button", variant="soft", size="3", on_click=R.resend),
                    spacing="2",
                    wrap="wrap",
                ),
                spacing="3",
                width="100%",
                align="stretch",
            ),
            on_submit=R.confirm,
            reset_on_submit=True,
            aria_label="Confirm with the code",
        ),
        rx.cond(R.error_field == "locked", rx.button("File a new request", on_click=R.start_over, variant="outline")),
        spacing="3",
        width="100%",
        align="stretch",
    )


def _error_code() -> rx.Var:
    return rx.cond(R.error_field != "", R.error, "")


def _done() -> rx.Component:
    return rx.vstack(
        rx.callout("Request confirmed.", icon="circle-check", color_scheme="green", role="status", width="100%"),
        rx.text(R.kind_name, ": we answer by ", rx.el.strong(R.due), ". An acknowledgment is on its way to ",
                R.masked, ".", size="3"),
        rx.cond(
            R.signed_in,
            rx.text("Follow it in your ", rx.link("privacy center", href="/settings/privacy", underline="always"), ".", size="2"),
        ),
        rx.button("Make another request", on_click=R.start_over, variant="soft", width="fit-content"),
        spacing="3",
        width="100%",
        align="stretch",
    )


def requests_page() -> rx.Component:
    return public_layout(
        rx.card(
            rx.vstack(
                rx.heading("Make a privacy request", size="7", as_="h1"),
                rx.text("Ask to see, copy, correct or delete your data, object to or restrict its use, or ask us a "
                        "question about privacy. You do not need an account.", size="3", color_scheme="gray"),
                rx.match(R.step, ("code", _code()), ("done", _done()), _form()),
                spacing="4",
                width="100%",
                align="stretch",
            ),
            size="4",
            width="100%",
        ),
        narrow=True,
    )


def add_pages(app: rx.App) -> None:
    app.add_page(requests_page, route="/privacy/requests", title="Privacy request · OmniPostr", on_load=R.load)
