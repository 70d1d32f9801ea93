"""Public pages about reaching us and who handles data for us, from the configuration:
``/contact`` (addresses and response times) and ``/subprocessors`` (the processors in use)."""

from __future__ import annotations

import reflex as rx

from omnipostr.accounts.state import SessionState
from omnipostr.privacy import inventory
from omnipostr.settings import get_settings
from omnipostr.ui.layout import public_layout


def _days(n: int, kind: str = "") -> str:
    return f"{n} {kind}{'day' if n == 1 else 'days'}"


def contacts() -> list[tuple[str, str, str]]:
    """(what for, address, when we answer), from the settings."""
    c = get_settings()
    return [
        ("Privacy questions", c.privacy_email, f"We answer within {_days(c.privacy_inquiry_business_days, 'business ')}."),
        ("Privacy rights requests (access, correction, deletion, and the others)", c.privacy_email,
         f'Write with the subject "Privacy Rights Request", or use the request form on this site (no account needed). '
         f"We answer within {_days(c.privacy_request_days)}."),
        ("Help with the app", c.support_email, f"We answer within {_days(c.support_response_business_days, 'business ')}."),
    ]


def _contact(what: str, address: str, when: str) -> rx.Component:
    return rx.box(
        rx.heading(what, size="4", as_="h2"),
        rx.text(rx.link(address, href=f"mailto:{address}", underline="always"), size="3"),
        rx.text(when, size="2", color_scheme="gray"),
        class_name="op-contact",
    )


def contact_page() -> rx.Component:
    return public_layout(
        rx.card(
            rx.vstack(
                rx.heading("Contact us", size="8", as_="h1"),
                rx.text(f"{get_settings().company_name} answers every message from a person.", size="3"),
                *[_contact(*c) for c in contacts()],
                rx.text(rx.link("Make a privacy request", href="/privacy/requests", underline="always"),
                        ": confirmed with a code we email you, answered by a date we tell you.", size="2"),
                rx.text("Signed in? Your ", rx.link("privacy center", href="/settings/privacy", underline="always"),
                        " does most of it at once: see, download, correct or delete your data.", size="2"),
                spacing="4",
                align="stretch",
            ),
            size="4",
        ),
        narrow=True,
    )


def subprocessors_page() -> rx.Component:
    return public_layout(
        rx.card(
            rx.vstack(
                rx.heading("Who handles data for us", size="8", as_="h1"),
                rx.text("The service providers this installation of OmniPostr uses, and for what. We share your data "
                        "with no one else and sell it to no one.", size="3"),
                rx.el.ul(
                    *[rx.el.li(rx.text(rx.el.strong(name), ": ", purpose, size="3")) for name, purpose in inventory.processors()],
                    class_name="op-list",
                ),
                spacing="4",
                align="stretch",
            ),
            size="4",
        ),
        narrow=True,
    )


def add_pages(app: rx.App) -> None:
    app.add_page(contact_page, route="/contact", title="Contact · OmniPostr", on_load=SessionState.load_public)
    app.add_page(subprocessors_page, route="/subprocessors", title="Service providers · OmniPostr",
                 on_load=SessionState.load_public)
