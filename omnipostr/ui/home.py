"""The signed-in home page."""

from __future__ import annotations

import reflex as rx

from omnipostr.accounts.state import SessionState
from omnipostr.ui.components import empty_state, page_header
from omnipostr.ui.layout import app_layout


def home_page() -> rx.Component:
    return app_layout(
        page_header("Compose", "Paste an article and get posts for every platform."),
        empty_state("file-text", "Nothing here yet", "Your first article is one paste away."),
    )


def add_pages(app: rx.App) -> None:
    app.add_page(home_page, route="/app", title="Compose · OmniPostr", on_load=SessionState.require_login)
