"""The public landing page and the page for an address that does not exist."""

from __future__ import annotations

import reflex as rx

from omnipostr.accounts.state import SessionState
from omnipostr.ui.components import empty_state, link_button
from omnipostr.ui.layout import public_layout

FEATURES = [
    ("layers", "Every network, its own rules", "X threads counted the way X counts, Bluesky graphemes, LinkedIn's fold, Instagram without dead links, TikTok scripts with timing."),
    ("shield-check", "Grounded in your words", "Each post is checked against your article. Numbers, names, quotes and links it did not contain are flagged before you publish."),
    ("users", "Built for teams", "Shared workspaces with roles, brand voices and a library of everything you have made."),
    ("lock", "Private by design", "Your originals are encrypted at rest, and you can delete them whenever you like. Your content never trains anyone's models."),
]


def _feature(icon: str, title: str, text: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.box(rx.icon(icon, size=22), class_name="op-empty-icon"),
            rx.heading(title, size="4", as_="h3"),
            rx.text(text, color_scheme="gray", size="2"),
            spacing="3",
        ),
        size="3",
    )


def landing_page() -> rx.Component:
    return public_layout(
        rx.vstack(
            rx.box(
                rx.badge("Claude inside · or fully offline", size="2", variant="soft", radius="full"),
                rx.heading(
                    "One article in. Every post out.",
                    size=rx.breakpoints(initial="8", sm="9"),
                    as_="h1",
                    margin_top="0.6em",
                ),
                rx.text(
                    "Paste a blog post, newsletter or video script. OmniPostr writes the X thread, the LinkedIn post, "
                    "the Instagram caption, the Facebook, Bluesky, Threads and Mastodon posts, the TikTok and Shorts scripts and "
                    "the newsletter blurb — each right for its platform, in your voice, without inventing facts.",
                    size="4",
                    color_scheme="gray",
                    max_width="40em",
                    margin="1em auto 0",
                ),
                rx.hstack(
                    rx.cond(
                        SessionState.signed_in,
                        link_button("Open the composer", size="4", href="/app"),
                        link_button("Start free", size="4", href="/signup"),
                    ),
                    link_button("Sign in", size="4", variant="soft", href="/login"),
                    spacing="3",
                    justify="center",
                    margin_top="2em",
                ),
                class_name="op-hero",
            ),
            rx.grid(*[_feature(*f) for f in FEATURES], columns=rx.breakpoints(initial="1", sm="2", lg="4"), spacing="4", width="100%"),
            spacing="6",
            width="100%",
        )
    )


def not_found_page() -> rx.Component:
    return public_layout(
        empty_state(
            "map-pin-off",
            "Page not found",
            "There is nothing at this address. It may have been mistyped, or the page has moved.",
            rx.cond(
                SessionState.signed_in,
                link_button("Open the composer", href="/app"),
                link_button("Go to the home page", href="/"),
            ),
            level="h1",
        ),
        narrow=True,
    )


def add_pages(app: rx.App) -> None:
    app.add_page(landing_page, route="/", title="OmniPostr · one article, every platform", on_load=SessionState.load_public)
    app.add_page(not_found_page, route="404", title="Page not found · OmniPostr", on_load=SessionState.load_public)
