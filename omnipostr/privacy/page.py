"""The privacy policy page, rendered from the policy file shipped with the product."""

from __future__ import annotations

import reflex as rx

from omnipostr.accounts.state import SessionState
from omnipostr.privacy.policy import blocks
from omnipostr.ui.layout import public_layout


def _block(kind: str, text: str) -> rx.Component:
    if kind == "title":
        return rx.heading(text, size="8", as_="h1")
    if kind == "h2":
        return rx.heading(text, size="6", as_="h2", margin_top="1.2em")
    if kind == "h3":
        return rx.heading(text, size="4", as_="h3", margin_top="0.6em")
    if kind == "li":
        return rx.el.li(text)
    return rx.text(text, as_="p")


def _grouped() -> list[rx.Component]:
    out: list[rx.Component] = []
    items: list[rx.Component] = []
    for b in blocks():
        if b.kind == "li":
            items.append(_block(b.kind, b.text))
            continue
        if items:
            out.append(rx.el.ul(*items, class_name="op-list"))
            items = []
        out.append(_block(b.kind, b.text))
    if items:
        out.append(rx.el.ul(*items, class_name="op-list"))
    return out


def privacy_page() -> rx.Component:
    return public_layout(rx.card(rx.vstack(*_grouped(), spacing="3", class_name="op-prose", align="stretch"), size="4"))


def add_pages(app: rx.App) -> None:
    app.add_page(privacy_page, route="/privacy", title="Privacy policy · OmniPostr", on_load=SessionState.load_public)
