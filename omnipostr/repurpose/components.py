"""Platform cards: live while streaming, then a platform-styled preview with length meters,
badges, and actions (edit, copy, regenerate, grounded rewrite, delete). Shared by the composer
and the library; ``S`` is the page's state class (a ``CardsState``)."""

from __future__ import annotations

import reflex as rx

from omnipostr.accounts.state import SessionState
from omnipostr.repurpose.cards import Card, Meter
from omnipostr.repurpose.state import EDITOR_KEYS, FOCUS_EDITOR, focus_after_edit
from omnipostr.settings import get_settings
from omnipostr.ui.components import confirm_dialog

LEVEL_COLOR = {"ok": "green", "near": "amber", "over": "red"}


def platform_badge(badge, color, size: str = "32px") -> rx.Component:
    return rx.center(
        rx.text(badge, weight="bold", size="1", color="white"),
        background=color,
        width=size,
        height=size,
        border_radius="9px",
        flex_shrink="0",
        aria_hidden="true",
    )


def _copy_part(m: Meter) -> rx.Component:
    """Copies one post of a thread (with its number), or one field (a title, a caption), on
    its own: each is pasted into its own box on the platform. Done in the browser; the text
    is already here."""
    return rx.icon_button(
        rx.icon("copy", size=12),
        size="1",
        variant="ghost",
        color_scheme="gray",
        on_click=[rx.set_clipboard(m.sent), rx.toast.success(m.label + " copied.")],
        aria_label="Copy " + m.label,
        title="Copy " + m.label,
    )


def meter(m: Meter, copy: bool | rx.Var = False) -> rx.Component:
    button = rx.fragment() if copy is False else _copy_part(m) if copy is True else rx.cond(copy, _copy_part(m))
    return rx.hstack(
        rx.text(m.label, size="1", color_scheme="gray"),
        button,
        rx.spacer(),
        rx.text(
            m.count.to_string() + " / " + m.limit.to_string() + " " + m.unit,
            size="1",
            weight="medium",
            color_scheme=rx.match(m.level, ("over", "red"), ("near", "amber"), "green"),
            class_name="op-meter",
            data_level=m.level,
        ),
        width="100%",
        align="center",
    )


def _avatar() -> rx.Component:
    return rx.avatar(fallback=SessionState.user_initials, size="2", radius="full", color_scheme="gray")


def _preview_head(platform) -> rx.Component:
    return rx.hstack(
        _avatar(),
        rx.vstack(
            rx.text(SessionState.workspace_name, weight="bold", size="2"),
            rx.text(rx.match(platform, ("linkedin", "Just now · 🌐"), ("instagram", "Original audio"), ("newsletter", "to your subscribers"), "@you · now"), size="1", color_scheme="gray"),
            spacing="0",
        ),
        spacing="2",
        align="center",
    )


def _folded(m: Meter, more: str) -> rx.Component:
    """A post as the feed shows it: cut at the platform's fold, the rest behind "more"."""
    return rx.cond(
        m.rest != "",
        rx.el.details(
            rx.el.summary(rx.text(m.head, rx.el.span(more, class_name="op-more"), as_="span", class_name="op-post-text op-folded-head")),
            rx.text(m.rest, class_name="op-post-text op-folded-rest"),
            class_name="op-fold",
        ),
        rx.text(m.text, class_name="op-post-text"),
    )


def _script(m: Meter) -> rx.Component:
    """A spoken script, beat by beat, each with the time it is said at."""
    return rx.el.ol(
        rx.foreach(
            m.beats,
            lambda b: rx.el.li(rx.text(b.at, class_name="op-beat-time", size="1"), rx.text(b.text, class_name="op-post-text"), class_name="op-beat"),
        ),
        class_name="op-beats",
        aria_label="Script with timings",
    )


def _post_text(platform, m: Meter) -> rx.Component:
    return rx.match(
        platform,
        ("linkedin", _folded(m, "…see more")),
        ("instagram", _folded(m, "… more")),
        ("tiktok", "youtube_shorts", _script(m)),
        # a thread's number is drawn after the text, never typed into it
        rx.text(
            m.text,
            rx.cond(m.mark != "", rx.el.span(" " + m.mark, class_name="op-thread-mark", title="Numbered by OmniPostr when you copy or export")),
            class_name="op-post-text",
        ),
    )


def _post_block(platform, m: Meter, copy) -> rx.Component:
    return rx.vstack(
        _post_text(platform, m),
        meter(m, copy=copy),
        spacing="1",
        width="100%",
        class_name="op-post",
    )


def _thread_post(platform, m: Meter, copy) -> rx.Component:
    """A post of a thread as the platform lays it out: the avatar, and a line down to the
    next post."""
    return rx.hstack(
        rx.vstack(_avatar(), rx.box(class_name="op-thread-line"), align="center", spacing="1"),
        rx.vstack(
            rx.hstack(
                rx.text(SessionState.workspace_name, weight="bold", size="2"),
                rx.text("@you · now", size="1", color_scheme="gray"),
                spacing="2",
                align="baseline",
            ),
            _post_block(platform, m, copy),
            spacing="1",
            width="100%",
            min_width="0",
        ),
        spacing="3",
        width="100%",
        align="stretch",
        class_name="op-thread-post",
    )


def _field_block(m: Meter, copy: bool) -> rx.Component:
    return rx.vstack(
        rx.text(m.label, size="1", weight="bold", color_scheme="gray", class_name="op-field-label"),
        rx.text(m.text, class_name="op-post-text op-field-" + m.part),
        meter(m, copy=copy),
        spacing="1",
        width="100%",
        class_name="op-post",
    )


def _inbox(fields, copy: bool) -> rx.Component:
    """A newsletter's subject and preview text as an inbox lists them."""
    return rx.box(
        rx.text("Inbox", size="1", weight="bold", color_scheme="gray"),
        rx.hstack(
            _avatar(),
            rx.vstack(
                rx.text(SessionState.workspace_name, weight="bold", size="2"),
                rx.foreach(fields, lambda m: rx.text(m.text, size="2", class_name="op-inbox-" + m.part)),
                spacing="0",
                min_width="0",
            ),
            spacing="2",
            align="start",
        ),
        rx.vstack(rx.foreach(fields, lambda m: meter(m, copy=copy)), spacing="0", width="100%", margin_top="0.5em"),
        class_name="op-inbox",
    )


def preview(platform, thread, posts, fields, copy: bool = True) -> rx.Component:
    """A post as it will look on the platform: ``posts`` and ``fields`` are Meter lists (a
    stored post's, or the editor's draft as it is typed)."""
    several = (posts.length() > 1) | (fields.length() > 0)  # a part copies alone
    part_copy = several if copy else False
    return rx.box(
        rx.cond(
            thread & (posts.length() > 1),
            rx.vstack(rx.foreach(posts, lambda m: _thread_post(platform, m, part_copy)), spacing="0", width="100%"),
            rx.fragment(
                _preview_head(platform),
                rx.vstack(
                    rx.cond(
                        platform == "newsletter",
                        _inbox(fields, copy),
                        rx.foreach(fields, lambda m: _field_block(m, copy)),
                    ),
                    rx.foreach(posts, lambda m: _post_block(platform, m, part_copy)),
                    spacing="3",
                    width="100%",
                    margin_top="0.75em",
                ),
            ),
        ),
        class_name="op-preview op-preview-" + platform,
    )


def _editor(S, card: Card) -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.cond(
                S.draft_numbered,
                rx.text("Numbers (1/5, 2/5 …) are added to each post when you copy or export the thread; "
                        "leave them out of the text. The counts include them.", size="1", color_scheme="gray"),
            ),
            rx.foreach(
                S.draft_fields,
                lambda m: rx.vstack(
                    rx.el.label(m.label, html_for="edit-field-" + m.part, class_name="op-label"),
                    rx.text_area(
                        default_value=m.text,
                        id="edit-field-" + m.part,
                        name="field-" + m.part,
                        on_change=lambda v: S.set_draft_field(m.part, v).debounce(120),
                        rows="2",
                        width="100%",
                    ),
                    meter(m),
                    spacing="1",
                    width="100%",
                ),
            ),
            rx.foreach(
                S.draft_posts,
                lambda m, i: rx.vstack(
                    rx.hstack(
                        rx.el.label(m.label, html_for="edit-post-" + i.to_string(), class_name="op-label"),
                        rx.cond(m.mark != "", rx.badge(m.mark, color_scheme="gray", variant="soft", high_contrast=True, aria_hidden="true")),
                        rx.spacer(),
                        rx.cond(
                            card.thread & (S.draft_posts.length() > 1),
                            rx.icon_button(
                                rx.icon("x", size=14), size="1", variant="ghost", color_scheme="gray", type="button",
                                on_click=S.remove_draft_post(i), aria_label="Remove " + m.label,
                            ),
                        ),
                        width="100%",
                    ),
                    rx.text_area(
                        default_value=m.text,
                        id="edit-post-" + i.to_string(),
                        name="post-" + i.to_string(),
                        on_change=lambda v: S.set_draft_post(i, v).debounce(120),
                        rows="5",
                        width="100%",
                    ),
                    meter(m),
                    spacing="1",
                    width="100%",
                    key=card.variant_id.to_string() + "-" + i.to_string() + "-" + S.draft_posts.length().to_string(),
                ),
            ),
            rx.hstack(
                rx.button("Save", type="submit", size="2"),
                rx.button(
                    "Cancel", type="button", variant="soft", color_scheme="gray", size="2", data_cancel="yes",
                    aria_keyshortcuts="Escape",
                    on_click=[S.cancel_edit, rx.call_script(focus_after_edit(card.variant_id.to_string()))],
                ),
                rx.cond(
                    card.thread,
                    rx.button(rx.icon("plus", size=14), "Add post", type="button", variant="ghost", size="2", on_click=S.add_draft_post),
                ),
                spacing="2",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        # Save takes the boxes as they are (the form's values), not the last debounced change
        on_submit=S.save_edit,
        reset_on_submit=False,
        aria_label="Edit " + card.name + " post",
        data_editor="yes",
        on_mount=rx.call_script(EDITOR_KEYS),
    )


def _badges(card: Card) -> rx.Component:
    return rx.hstack(
        rx.cond(card.summary != "", rx.badge(card.summary, color_scheme="gray", variant="soft", high_contrast=True)),
        rx.cond(
            card.status == "done",
            rx.cond(
                card.flags.length() > 0,
                rx.badge(rx.icon("triangle-alert", size=12), "Check facts", color_scheme="amber", high_contrast=True),
                rx.badge(rx.icon("shield-check", size=12), "Grounded", color_scheme="green", high_contrast=True),
            ),
        ),
        rx.cond(card.repaired, rx.badge("Fitted to the rules", color_scheme="blue", variant="soft", high_contrast=True)),
        rx.cond(card.edited, rx.badge("Edited", color_scheme="iris", variant="soft", high_contrast=True)),
        spacing="1",
        wrap="wrap",
    )


def _actions(S, card: Card) -> rx.Component:
    return rx.hstack(
        rx.button(rx.icon("copy", size=14), "Copy", size="1", variant="soft", on_click=S.copy(card.variant_id),
                  aria_label="Copy " + card.name + " post"),
        rx.button(rx.icon("pencil", size=14), "Edit", size="1", variant="soft", color_scheme="gray",
                  id="edit-" + card.variant_id.to_string(),
                  on_click=[S.start_edit(card.variant_id), rx.call_script(FOCUS_EDITOR)],
                  aria_label="Edit " + card.name + " post"),
        rx.cond(
            card.edited,
            # an edited post asks first; its edits stay a version away
            confirm_dialog(
                rx.button(rx.icon("refresh-cw", size=14), "Regenerate", size="1", variant="soft", color_scheme="gray",
                          aria_label="Regenerate " + card.name + " post"),
                "Regenerate your edited " + card.name + " post?",
                "A new take replaces the text you edited. Your edits stay in Versions, and Undo brings them back.",
                "Regenerate",
                S.regenerate(card.variant_id),
                danger=False,
            ),
            rx.button(rx.icon("refresh-cw", size=14), "Regenerate", size="1", variant="soft", color_scheme="gray",
                      on_click=S.regenerate(card.variant_id), aria_label="Regenerate " + card.name + " post"),
        ),
        rx.cond(
            card.version > 1,
            rx.button(rx.icon("undo-2", size=14), "Undo", size="1", variant="soft", color_scheme="gray",
                      on_click=S.undo(card.variant_id), aria_label="Undo the last change to the " + card.name + " post"),
        ),
        _versions(S, card),
        rx.cond(
            card.flags.length() > 0,
            rx.button(rx.icon("shield-check", size=14), "Rewrite grounded", size="1", variant="soft", color_scheme="amber",
                      on_click=S.rewrite_grounded(card.variant_id), aria_label="Rewrite " + card.name + " post grounded in the source"),
        ),
        rx.spacer(),
        confirm_dialog(
            rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="red",
                           aria_label="Delete " + card.name + " post"),
            "Delete this " + card.name + " post?",
            "It is removed from the library. This cannot be undone.",
            "Delete",
            S.delete_variant(card.variant_id),
        ),
        spacing="2",
        width="100%",
        wrap="wrap",
    )


def _versions(S, card: Card) -> rx.Component:
    """Every take and edit of a post, any of which can be made current again."""
    return rx.fragment(
        rx.button(rx.icon("history", size=14), "Versions", size="1", variant="ghost", color_scheme="gray",
                  id="versions-" + card.variant_id.to_string(), on_click=S.open_versions(card.variant_id),
                  aria_label="Versions of the " + card.name + " post", aria_haspopup="dialog"),
        rx.dialog.root(
            rx.dialog.content(
                rx.dialog.title("Versions of the " + card.name + " post"),
                rx.dialog.description("Each take and each edit is kept. Restore one to make it the post again.", size="2"),
                rx.vstack(
                    rx.foreach(
                        S.versions,
                        lambda v: rx.box(
                            rx.hstack(
                                rx.text("Version " + v["version"] + " · " + v["label"], weight="medium", size="2"),
                                rx.spacer(),
                                rx.cond(
                                    v["current"] == "yes",
                                    rx.badge("Current", color_scheme="green", high_contrast=True),
                                    rx.button("Restore", size="1", variant="soft", on_click=S.restore_version(v["version"]),
                                              aria_label="Restore version " + v["version"]),
                                ),
                                align="center",
                                width="100%",
                            ),
                            rx.text(v["when"], size="1", color_scheme="gray"),
                            rx.text(v["preview"], size="2", class_name="op-version-preview"),
                            class_name="op-version",
                            width="100%",
                        ),
                    ),
                    spacing="3",
                    width="100%",
                    margin_top="1em",
                    max_height="60vh",
                    overflow_y="auto",
                ),
                rx.flex(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")), justify="end", margin_top="1em"),
                max_width="560px",
            ),
            open=S.versions_of == card.variant_id,
            on_open_change=S.versions_open,
        ),
    )


def _list_callout(items, heading: str, icon: str, color: str) -> rx.Component:
    return rx.cond(
        items.length() > 0,
        rx.callout(
            rx.vstack(
                rx.text(heading, weight="medium", size="2"),
                rx.foreach(items, lambda x: rx.text("• ", x, size="2")),
                spacing="1",
            ),
            icon=icon,
            color_scheme=color,
            size="1",
            width="100%",
        ),
    )


def platform_card(S, card: Card) -> rx.Component:
    head = rx.hstack(
        platform_badge(card.badge, card.color),
        rx.heading(card.name, size="3", as_="h3"),
        rx.spacer(),
        rx.match(
            card.status,
            ("queued", rx.badge(rx.spinner(size="1"), "Waiting", color_scheme="gray", high_contrast=True)),
            ("streaming", rx.badge(rx.spinner(size="1"), "Writing", color_scheme="iris", high_contrast=True)),
            ("failed", rx.badge("Failed", color_scheme="red", high_contrast=True)),
            rx.badge(rx.icon("check", size=12), "Ready", color_scheme="green", high_contrast=True),
        ),
        align="center",
        width="100%",
    )
    editing = (S.editing == card.variant_id) & (card.variant_id != 0)
    body = rx.cond(
        editing,
        rx.grid(
            _editor(S, card),
            rx.vstack(
                rx.heading("Preview", size="2", as_="h4", color_scheme="gray"),
                preview(card.platform, card.thread, S.draft_posts, S.draft_fields, copy=False),
                spacing="2",
                width="100%",
                class_name="op-live-preview",
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        rx.vstack(
            rx.cond(card.note != "", rx.callout(card.note, icon="clock", size="1", color_scheme="amber", width="100%")),
            rx.cond(
                card.error != "",
                rx.callout(card.error, icon="circle-alert", size="1", color_scheme="red", role="alert", width="100%"),
            ),
            rx.cond(
                card.stream != "",
                rx.text(card.stream, class_name="op-post-text op-streaming"),
                rx.cond((card.posts.length() > 0) | (card.fields.length() > 0), preview(card.platform, card.thread, card.posts, card.fields)),
            ),
            rx.cond(
                (card.status == "queued") & (card.posts.length() == 0) & (card.stream == ""),
                rx.vstack(rx.skeleton(height="14px", width="90%"), rx.skeleton(height="14px", width="75%"), rx.skeleton(height="14px", width="60%"), width="100%"),
            ),
            _list_callout(card.flags, "Not found in your source — check before you publish:", "triangle-alert", "amber"),
            _list_callout(card.problems, "Breaks a platform rule — fix it before you publish:", "circle-alert", "red"),
            rx.cond(
                card.tips.length() > 0,
                rx.vstack(rx.foreach(card.tips, lambda p: rx.text("Tip: ", p, size="1", color_scheme="gray")), spacing="0"),
            ),
            _badges(card),
            rx.cond(
                card.status == "done",
                _actions(S, card),
                rx.cond(
                    card.status == "failed",
                    rx.hstack(
                        rx.button(rx.icon("refresh-cw", size=14), "Retry", size="1", on_click=S.regenerate(card.variant_id),
                                  aria_label="Retry " + card.name + " post"),
                    ),
                ),
            ),
            spacing="3",
            width="100%",
            align="stretch",
        ),
    )
    return rx.card(
        rx.vstack(head, body, spacing="3", width="100%", align="stretch"),
        size="2",
        width="100%",
        class_name="op-platform-card",
        # the card being edited takes the grid's whole width: the editor and its preview
        grid_column=rx.cond(editing, "1 / -1", "auto"),
        data_platform=card.platform,
        data_status=card.status,
        role="article",
        aria_label=card.name,
    )


def cards_grid(S) -> rx.Component:
    return rx.grid(
        rx.foreach(S.cards, lambda c: platform_card(S, c)),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="4",
        width="100%",
    )


EXPORTS = [("Markdown (.md)", "md"), ("Spreadsheet (.csv)", "csv"), ("JSON (.json)", "json"), ("Plain text per platform (.zip)", "zip")]


def hand_over(S) -> rx.Component:
    """Copy all of a generation's posts, or download them as a file."""
    base = get_settings().backend_path("/export/generations/")
    return rx.hstack(
        rx.button(rx.icon("copy", size=14), "Copy all", size="2", variant="soft", on_click=S.copy_all,
                  disabled=S.running),
        rx.dropdown_menu.root(
            rx.dropdown_menu.trigger(
                rx.button(rx.icon("download", size=14), "Export", rx.icon("chevron-down", size=14), size="2", variant="soft",
                          disabled=S.running),
            ),
            rx.dropdown_menu.content(
                *[
                    rx.dropdown_menu.item(
                        # a document request (not the app's own navigation), so the browser downloads
                        rx.link(label, href=base + S.generation_id.to_string() + "." + fmt, download="",
                                reload_document=True, underline="none", color="inherit"),
                        as_child=True,
                    )
                    for label, fmt in EXPORTS
                ],
            ),
        ),
        spacing="2",
    )
