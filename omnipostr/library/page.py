"""The library pages: every generation, newest first; and one generation with its posts."""

from __future__ import annotations

import reflex as rx

from omnipostr.library.state import PERIODS, STATUS_LABEL, GenerationState, LibraryState
from omnipostr.repurpose import platforms
from omnipostr.repurpose.components import cards_grid, hand_over
from omnipostr.ui.components import (
    confirm_dialog,
    empty_state,
    labelled_select,
    link_button,
    page_header,
)
from omnipostr.ui.layout import app_layout

L = LibraryState
G = GenerationState


def _status_badge(status, label) -> rx.Component:
    return rx.badge(
        label,
        variant="soft",
        high_contrast=True,
        color_scheme=rx.match(status, ("done", "green"), ("partial", "amber"), ("failed", "red"), ("interrupted", "amber"), ("running", "iris"), "gray"),
    )


def _filter_select(label: str, id_: str, value, on_change, items: list[tuple[str, str]]) -> rx.Component:
    options = [rx.select.item(t, value=v) for v, t in items]
    return labelled_select(label, id_, value, on_change, options, small=True, min_width="150px")


def filters() -> rx.Component:
    return rx.flex(
        rx.form(
            rx.vstack(
                rx.el.label("Search", html_for="library-search", class_name="op-label op-small"),
                rx.hstack(
                    rx.input(id="library-search", name="q", placeholder="Words from a title or a post", default_value=L.query, size="2", min_width="240px",
                             key="search-" + L.visit.to_string()),
                    rx.button("Search", type="submit", size="2", variant="soft"),
                    spacing="2",
                ),
                spacing="1",
            ),
            on_submit=L.search,
            reset_on_submit=False,
            aria_label="Search the library",
        ),
        _filter_select("Platform", "filter-platform", L.platform, L.set_platform,
                       [("all", "All platforms")] + [(p, s.name) for p, s in platforms.PLATFORMS.items()]),
        _filter_select("Status", "filter-status", L.status, L.set_status, [("all", "Any status")] + list(STATUS_LABEL.items())),
        _filter_select("Date", "filter-period", L.period, L.set_period, [("all", "Any time")] + [(k, f"Last {v} days") for k, v in PERIODS.items()]),
        rx.cond(L.filtered, rx.button("Clear filters", variant="ghost", size="2", on_click=L.clear_filters, align_self="end")),
        spacing="4",
        wrap="wrap",
        align="end",
        margin_bottom="1.25em",
    )


def _row(item: dict) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.link(item["title"], href="/library/" + item["id"], weight="medium"),
                rx.text(item["platforms"], size="1", color_scheme="gray"),
                # on a phone the columns fold into the row: what and when, under the title
                rx.text(item["line"], size="1", color_scheme="gray", class_name="op-narrow-only"),
                spacing="1",
            )
        ),
        rx.table.cell(_status_badge(item["status"], item["status_label"])),
        rx.table.cell(rx.text(item["engine"], size="2"), class_name="op-wide-col"),
        rx.table.cell(rx.text(item["tokens"], size="2"), class_name="op-wide-col"),
        rx.table.cell(rx.text(item["cost"], size="2"), class_name="op-wide-col"),
        rx.table.cell(rx.text(item["when"], size="2"), class_name="op-wide-col"),
    )


def library_page() -> rx.Component:
    table = rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Source"),
                    rx.table.column_header_cell("Status"),
                    rx.table.column_header_cell("Engine", class_name="op-wide-col"),
                    rx.table.column_header_cell("Tokens", class_name="op-wide-col"),
                    rx.table.column_header_cell("Cost", class_name="op-wide-col"),
                    rx.table.column_header_cell("Date (UTC)", class_name="op-wide-col"),
                )
            ),
            rx.table.body(rx.foreach(L.items, _row)),
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
        role="region",
        aria_label="Generations",
    )
    return app_layout(
        page_header("Library", "Everything you have generated, newest first.", link_button(rx.icon("plus", size=16), "New", href="/app")),
        filters(),
        rx.cond(
            L.items.length() > 0,
            rx.vstack(
                table,
                rx.hstack(
                    rx.button("Newer", variant="soft", size="2", on_click=L.previous_page, disabled=L.cursor_stack.length() == 0),
                    rx.button("Older", variant="soft", size="2", on_click=L.next_page, disabled=L.next_cursor == ""),
                    spacing="2",
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            rx.cond(
                L.loaded,
                rx.cond(
                    L.filtered,
                    empty_state("search", "Nothing matches", "Try other words or clear the filters."),
                    empty_state("library", "Your library is empty", "Generate posts from an article and they will be kept here.",
                                link_button("Open the composer", href="/app")),
                ),
            ),
        ),
    )


def generation_page() -> rx.Component:
    head_actions = rx.hstack(
        hand_over(G),
        rx.cond(G.source_kept, rx.button(rx.icon("copy-plus", size=14), "Reuse in composer", size="2", on_click=G.reuse)),
        confirm_dialog(
            rx.button(rx.icon("trash-2", size=14), "Delete generation", size="2", variant="soft", color_scheme="red"),
            "Delete this generation?",
            "Its posts and its original text are deleted. This cannot be undone.",
            "Delete",
            G.delete_generation,
        ),
        spacing="2",
        wrap="wrap",
    )
    source = rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Original", size="3", as_="h2"),
                rx.spacer(),
                rx.cond(
                    G.source_kept,
                    rx.hstack(
                        rx.button(rx.cond(G.show_source, "Hide text", "Show text"), size="1", variant="ghost", on_click=G.toggle_source),
                        confirm_dialog(
                            rx.button("Delete original text", size="1", variant="ghost", color_scheme="red"),
                            "Delete the original text?",
                            "The posts stay in your library. The text itself is gone for good.",
                            "Delete text",
                            G.delete_source,
                        ),
                        spacing="2",
                    ),
                    rx.badge("Original text deleted", color_scheme="gray", high_contrast=True),
                ),
                width="100%",
                align="center",
            ),
            rx.text(G.source_title, weight="medium"),
            rx.cond(G.source_note != "", rx.text(G.source_note, size="2", color_scheme="gray")),
            rx.text(G.source_words.to_string() + " words · " + G.engine + " · " + G.tokens + " · " + G.cost + " · " + G.created + " UTC", size="1", color_scheme="gray"),
            rx.cond(G.show_source, rx.box(rx.text(G.source_text, class_name="op-post-text"), class_name="op-source-text")),
            rx.hstack(
                rx.switch(id="may-feature", checked=G.may_feature, on_change=G.set_may_feature, margin_top="3px"),
                rx.vstack(
                    rx.el.label("OmniPostr may feature these posts", html_for="may-feature", class_name="op-label"),
                    rx.text("As examples in our own marketing, with your permission only. Off unless you turn it on; "
                            "turn it off at any time. ", G.may_feature_since, size="1", color_scheme="gray"),
                    spacing="1",
                ),
                spacing="3",
                align="start",
                margin_top="0.5em",
            ),
            spacing="2",
            width="100%",
            align="stretch",
        ),
        size="3",
        width="100%",
    )
    found = rx.vstack(
        page_header("Generation", "", link_button(rx.icon("arrow-left", size=14), "Library", href="/library", variant="ghost", size="2")),
        rx.flex(rx.heading(G.gen_title, size="6", as_="h2"), rx.spacer(), head_actions, width="100%", wrap="wrap", spacing="3", align="center"),
        rx.cond(
            (G.gen_error != "") & ~G.running,
            rx.callout(G.gen_error, icon="info", color_scheme=rx.cond(G.gen_status == "failed", "red", "amber"), width="100%"),
        ),
        rx.cond((G.failed_count > 0) & ~G.running, rx.button(rx.icon("refresh-cw", size=14), "Retry failed", on_click=G.retry_failed, size="2")),
        source,
        cards_grid(G),
        spacing="4",
        width="100%",
    )
    return app_layout(
        rx.cond(
            G.found,
            found,
            empty_state("search-x", "Generation not found", "It was deleted, or it belongs to another workspace.", link_button("Back to the library", href="/library")),
        )
    )


def add_pages(app: rx.App) -> None:
    app.add_page(library_page, route="/library", title="Library · OmniPostr", on_load=LibraryState.load)
    app.add_page(generation_page, route="/library/[library_item]", title="Generation · OmniPostr", on_load=GenerationState.load)
