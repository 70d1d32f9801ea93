"""The composer: bring a source, choose platforms and options, watch the posts arrive."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars import ArrayVar, ObjectVar

from omnipostr.repurpose.components import cards_grid, hand_over, platform_badge
from omnipostr.repurpose.service import TONES
from omnipostr.repurpose.state import LANGUAGES, ComposerState, PlatformsState, platform_choices
from omnipostr.settings import get_settings
from omnipostr.ui.components import labelled_select, link_button, page_header
from omnipostr.ui.layout import app_layout

S = ComposerState
P = PlatformsState
ACCEPT = {
    "text/plain": [".txt"],
    "text/markdown": [".md", ".markdown"],
    "text/x-rst": [".rst"],
    "text/html": [".html", ".htm"],
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": [".docx"],
    "application/pdf": [".pdf"],
}


# Empties the text box in the browser the moment "Clear" or "New draft" is pressed; the
# state follows (see ComposerState._clear_source).
CLEAR_BOX = rx.call_script("(function(e){if(e){e.value='';}})(document.getElementById('source-text'))")


# Ctrl+Enter (⌘+Enter on a Mac) in the text box presses "Generate posts". Listened for in
# the browser, so typing sends nothing to the server.
GENERATE_SHORTCUT = rx.call_script(
    "if(!window.__opGenerateKey){window.__opGenerateKey=true;document.addEventListener('keydown',function(e){"
    "if(e.key==='Enter'&&(e.ctrlKey||e.metaKey)&&e.target&&e.target.id==='source-text'){"
    "var b=document.getElementById('generate-posts');if(b&&!b.disabled){e.preventDefault();b.click();}}});}"
)


def _error(name: str) -> rx.Component:
    return rx.cond(S.errors.get(name, "") != "", rx.text(S.errors.get(name, ""), color_scheme="red", size="2", role="alert"))


def _paste_tab() -> rx.Component:
    return rx.vstack(
        rx.el.label("Title (optional)", html_for="source-title", class_name="op-label"),
        rx.input(id="source-title", value=S.title, on_change=S.set_title, placeholder="Taken from the article (its heading or first sentence) when empty", size="2", width="100%"),
        rx.el.label("Your article or script", html_for="source-text", class_name="op-label"),
        rx.text_area(
            id="source-text",
            default_value=S.seed,
            key=S.seed_key,
            on_change=S.set_text.debounce(250),
            on_mount=GENERATE_SHORTCUT,
            placeholder="Paste a blog post, newsletter, transcript or video script…",
            rows="14",
            width="100%",
            resize="vertical",
            aria_invalid=rx.cond(S.errors.get("text", "") != "", "true", "false"),
        ),
        _error("text"),
        rx.hstack(
            rx.text(S.source_stats, size="1", color_scheme="gray", aria_live="polite"),
            rx.cond(S.filename != "", rx.badge(rx.icon("file-text", size=12), S.filename, variant="soft", color_scheme="gray")),
            rx.cond(S.source_url != "", rx.badge(rx.icon("link", size=12), "Imported link", variant="soft", color_scheme="gray")),
            rx.spacer(),
            rx.cond(S.text != "", rx.button("Clear", variant="ghost", size="1", color_scheme="gray", on_click=[CLEAR_BOX, S.clear_source])),
            width="100%",
            align="center",
        ),
        rx.foreach(S.source_warnings, lambda w: rx.text(w, size="1", color_scheme="amber")),
        spacing="2",
        width="100%",
        align="stretch",
    )


def _on_rejected(rejected: rx.Var) -> rx.event.EventSpec:
    """Send the refused files' names and error codes (the files themselves stay here)."""
    records = rejected.to(ArrayVar, list[dict[str, Any]])
    names = records.map(lambda r: r.to(ObjectVar, dict[str, Any])["file"].to(ObjectVar, dict[str, Any])["name"].to(str))
    codes = records.map(
        lambda r: r.to(ObjectVar, dict[str, Any])["errors"].to(ArrayVar, list[dict[str, Any]]).map(lambda e: e.to(ObjectVar, dict[str, Any])["code"].to(str)).join(",")
    )
    return S.upload_rejected(names, codes)


def _upload_tab() -> rx.Component:
    cfg = get_settings()
    mb = cfg.upload_max_bytes // (1024 * 1024)
    return rx.vstack(
        rx.upload(
            rx.vstack(
                rx.icon("upload", size=28, color="var(--accent-11)"),
                rx.text("Drop a file here, or click to choose one", weight="medium"),
                rx.text(f".txt, .md, .rst, .html, .docx or .pdf — up to {mb} MB", size="1", color_scheme="gray"),
                align="center",
                spacing="2",
            ),
            id="source-upload",
            accept=ACCEPT,
            multiple=False,
            max_files=1,
            max_size=cfg.upload_max_bytes,
            on_drop=S.handle_upload(rx.upload_files(upload_id="source-upload")),
            on_drop_rejected=_on_rejected,
            border="1px dashed var(--gray-a7)",
            border_radius="var(--radius-4)",
            padding="2em",
            width="100%",
            cursor="pointer",
            aria_label="Upload a file",
        ),
        _error("upload"),
        spacing="2",
        width="100%",
    )


def _link_tab() -> rx.Component:
    return rx.vstack(
        rx.el.label("Article address", html_for="source-url", class_name="op-label"),
        rx.hstack(
            rx.input(id="source-url", value=S.url_input, on_change=S.set_url_input, placeholder="https://example.com/your-article", type="url", size="2", flex="1"),
            rx.button("Import", on_click=S.import_link, loading=S.importing, size="2"),
            width="100%",
        ),
        _error("url"),
        rx.text("We fetch the page once and keep only its main text.", size="1", color_scheme="gray"),
        spacing="2",
        width="100%",
        align="stretch",
    )


def source_card() -> rx.Component:
    return rx.card(
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("Paste", value="paste"),
                rx.tabs.trigger("Upload file", value="upload"),
                rx.tabs.trigger("Import link", value="link"),
            ),
            # every panel stays mounted (hidden when inactive), so what was typed in the text
            # box survives a look at the other tabs
            rx.tabs.content(_paste_tab(), value="paste", padding_top="1em", force_mount=True, class_name="op-tab-panel"),
            rx.tabs.content(_upload_tab(), value="upload", padding_top="1em", force_mount=True, class_name="op-tab-panel"),
            rx.tabs.content(_link_tab(), value="link", padding_top="1em", force_mount=True, class_name="op-tab-panel"),
            value=S.source_tab,
            on_change=S.set_source_tab,
        ),
        size="3",
        width="100%",
    )


def _chip(p: dict) -> rx.Component:
    on = P.selected.contains(p["id"])
    return rx.button(
        platform_badge(p["badge"], p["color"], size="20px"),
        p["name"],
        variant=rx.cond(on, "solid", "outline"),
        color_scheme=rx.cond(on, "iris", "gray"),
        size="2",
        radius="full",
        on_click=P.toggle_platform(p["id"]),
        aria_pressed=rx.cond(on, "true", "false"),
        title=p["hint"],
        type="button",
    )


def platforms_picker() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Platforms", size="3", as_="h2"),
            rx.spacer(),
            rx.button("All", variant="ghost", size="1", on_click=P.select_all),
            rx.button("None", variant="ghost", size="1", color_scheme="gray", on_click=P.select_none),
            width="100%",
            align="center",
        ),
        rx.flex(*[_chip(p) for p in platform_choices()], wrap="wrap", spacing="2", role="group", aria_label="Platforms"),
        _error("platforms"),
        spacing="2",
        width="100%",
    )


def _select(label: str, id_: str, value, on_change, items: list[tuple[str, str]] | rx.Var) -> rx.Component:
    if isinstance(items, list):
        options = [rx.select.item(text, value=val) for val, text in items]
    else:  # the workspace's brand voices
        options = [rx.select.item("No brand voice", value="none"), rx.foreach(items, lambda v: rx.select.item(v["name"], value=v["id"]))]
    return labelled_select(label, id_, value, on_change, options, width="100%")


def _more_options() -> rx.Component:
    """Tone, language, voice and the rest: folded away on a phone until asked for."""
    return rx.vstack(
        rx.grid(
            _select("Tone", "opt-tone", S.tone, S.set_tone, [(t, t.capitalize()) for t in TONES]),
            _select("Output language", "opt-language", S.language, S.set_language, [(x, x) for x in LANGUAGES]),
            _select("Brand voice", "opt-voice", S.voice_id, S.set_voice, S.voices),
            _select("Emoji", "opt-emoji", S.emoji, S.set_emoji, [("none", "None"), ("some", "A few"), ("lots", "Plenty")]),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        rx.vstack(
            rx.el.label("Audience (optional)", html_for="opt-audience", class_name="op-label"),
            rx.input(id="opt-audience", value=S.audience, on_change=S.set_audience.debounce(200), placeholder="e.g. founders of small SaaS companies", width="100%"),
            rx.el.label("Call to action (optional)", html_for="opt-cta", class_name="op-label"),
            rx.input(id="opt-cta", value=S.cta, on_change=S.set_cta.debounce(200), placeholder="e.g. Subscribe to the newsletter", width="100%"),
            rx.el.label("Link back to the original (optional)", html_for="opt-link", class_name="op-label"),
            rx.input(id="opt-link", value=S.link, on_change=S.set_link.debounce(200), placeholder="https://…", type="url", width="100%"),
            _error("link"),
            spacing="1",
            width="100%",
            align="stretch",
        ),
        rx.hstack(
            rx.switch(id="opt-hashtags", checked=S.hashtags, on_change=S.set_hashtags),
            rx.el.label("Hashtags", html_for="opt-hashtags", class_name="op-label"),
            align="center",
            spacing="2",
        ),
        rx.hstack(
            rx.link("Manage brand voices", href="/settings/voices", size="2"),
            width="100%",
        ),
        spacing="3",
        width="100%",
        align="stretch",
        id="more-options",
        class_name="op-more-options",
        data_open=rx.cond(S.options_open, "yes", "no"),
    )


def options_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            platforms_picker(),
            rx.separator(size="4"),
            rx.hstack(
                rx.heading("Options", size="3", as_="h2"),
                rx.spacer(),
                # on a phone the options fold away until asked for: Generate stays in reach
                rx.button(
                    rx.cond(S.options_open, "Hide options", "Show options"),
                    rx.icon(rx.cond(S.options_open, "chevron-up", "chevron-down"), size=14),
                    variant="ghost", size="1", type="button", class_name="op-options-toggle",
                    aria_expanded=rx.cond(S.options_open, "true", "false"), aria_controls="more-options",
                    on_click=S.toggle_options,
                ),
                width="100%",
                align="center",
            ),
            rx.cond(
                ~S.options_open,
                rx.text(S.options_summary, size="1", color_scheme="gray", class_name="op-options-summary"),
            ),
            _more_options(),
            spacing="3",
            width="100%",
            align="stretch",
        ),
        size="3",
        width="100%",
    )


def generate_bar() -> rx.Component:
    return rx.vstack(
        rx.cond(
            S.errors.get("restricted", "") != "",
            rx.callout(S.errors.get("restricted", ""), icon="shield", color_scheme="amber", role="alert", width="100%"),
        ),
        rx.cond(
            S.errors.get("quota", "") != "",
            rx.callout(
                rx.vstack(
                    rx.text(S.errors.get("quota", ""), size="2"),
                    link_button("See plans and upgrade", href="/billing", size="1", variant="soft"),
                    spacing="2",
                    align="start",
                ),
                icon="gauge", color_scheme="amber", role="alert", width="100%",
            ),
        ),
        rx.cond(S.errors.get("form", "") != "", rx.callout(S.errors.get("form", ""), icon="triangle-alert", color_scheme="red", role="alert", width="100%")),
        rx.hstack(
            rx.button(
                rx.icon("sparkles", size=16),
                rx.cond(S.running, "Generating…", "Generate posts"),
                size="3",
                id="generate-posts",
                aria_keyshortcuts="Control+Enter Meta+Enter",
                on_click=rx.call_script(
                    "(document.getElementById('source-text') || {}).value ?? null", callback=S.generate
                ),
                loading=S.starting,
                disabled=S.running | (P.selected.length() == 0),
                aria_describedby="generate-why",
            ),
            rx.vstack(
                rx.cond(
                    (P.selected.length() == 0) & ~S.running,
                    rx.text("Pick at least one platform to generate.", size="1", weight="medium", id="generate-why"),
                ),
                rx.text(S.used.to_string() + " of " + S.limit.to_string() + " generations used this period", size="1", color_scheme="gray"),
                rx.text("Engine: ", S.engine_label, size="1", color_scheme="gray"),
                rx.text("Shortcut: Ctrl+Enter or ⌘+Enter in the text", size="1", color_scheme="gray", class_name="op-wide-only"),
                spacing="0",
            ),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        spacing="2",
        width="100%",
    )


def results() -> rx.Component:
    return rx.cond(
        S.cards.length() > 0,
        rx.vstack(
            rx.hstack(
                rx.heading(S.gen_title, size="5", as_="h2", id="results-heading", tab_index=-1),
                rx.spacer(),
                rx.cond(
                    (S.failed_count > 0) & ~S.running,
                    rx.button(rx.icon("refresh-cw", size=14), "Retry failed", on_click=S.retry_failed, size="2"),
                ),
                rx.cond(S.generation_id > 0, hand_over(S)),
                rx.cond(S.generation_id > 0, link_button("Open in library", href="/library/" + S.generation_id.to_string(), size="2", variant="soft")),
                rx.button("New draft", on_click=[CLEAR_BOX, S.new_draft], size="2", variant="ghost"),
                width="100%",
                align="center",
                wrap="wrap",
                spacing="2",
            ),
            rx.cond(
                S.running,
                rx.hstack(
                    rx.progress(value=S.progress_percent, max=100, width="100%", aria_label="Generation progress"),
                    rx.text(S.progress_line, size="1", color_scheme="gray", white_space="nowrap"),
                    width="100%",
                    align="center",
                    spacing="3",
                ),
            ),
            rx.cond(
                S.running & (S.run_note != ""),
                rx.callout(S.run_note, icon="refresh-cw", color_scheme="amber", width="100%", role="status"),
            ),
            rx.cond(
                (S.gen_error != "") & ~S.running,
                rx.callout(S.gen_error, icon="info", color_scheme=rx.cond(S.gen_status == "failed", "red", "amber"), width="100%"),
            ),
            rx.el.div(S.announcement, role="status", aria_live="polite", class_name="sr-only"),
            cards_grid(S),
            spacing="4",
            width="100%",
            id="results",
        ),
    )


def _meaning(term: rx.Component, text) -> rx.Component:
    return rx.fragment(rx.el.dt(term), rx.el.dd(rx.text(text, size="2", color_scheme="gray")))


def welcome() -> rx.Component:
    """The first visit of a workspace: how it works, a sample to try, what the badges mean,
    which engine writes, and the month's allowance."""
    return rx.cond(
        S.first_run & ~S.welcome_closed & (S.cards.length() == 0),
        rx.card(
            rx.vstack(
                rx.heading("Welcome to OmniPostr", size="4", as_="h2"),
                rx.text(
                    "Paste an article or a script, pick the platforms, and press Generate posts: you get a post made "
                    "for each platform, to edit, copy or export. Everything you generate is kept in the Library.",
                    size="2",
                ),
                rx.hstack(
                    rx.button(rx.icon("file-text", size=14), "Try a sample article", on_click=[CLEAR_BOX, S.use_sample], size="2"),
                    rx.button("Got it", on_click=S.close_welcome, size="2", variant="soft", color_scheme="gray"),
                    spacing="2",
                    wrap="wrap",
                ),
                rx.el.dl(
                    _meaning(rx.badge(rx.icon("shield-check", size=12), "Grounded", color_scheme="green", high_contrast=True),
                             "Every number, name, quote and link in the post is in your text."),
                    _meaning(rx.badge(rx.icon("triangle-alert", size=12), "Check facts", color_scheme="amber", high_contrast=True),
                             "The post says something your text does not; the card quotes it so you can fix or rewrite it."),
                    _meaning(rx.badge("Fitted to the rules", color_scheme="blue", variant="soft", high_contrast=True),
                             "It was shortened or split to fit the platform's limits."),
                    _meaning(rx.text("Engine", weight="medium", size="2"),
                             rx.cond(
                                 S.claude_on,
                                 "Claude writes the posts.",
                                 "Extractive drafts: your own sentences, picked and laid out for each platform, no AI. To "
                                 "write with Claude, whoever runs OmniPostr sets an Anthropic API key (ANTHROPIC_API_KEY) "
                                 "and restarts it.",
                             )),
                    _meaning(rx.text("This month", weight="medium", size="2"),
                             S.used.to_string() + " of " + S.limit.to_string() + " generations of your plan used."),
                    class_name="op-welcome-list",
                ),
                spacing="3",
                width="100%",
            ),
            size="2",
            width="100%",
            margin_bottom="1.5em",
            role="region",
            aria_label="Welcome",
        ),
    )


def composer_page() -> rx.Component:
    return app_layout(
        page_header("Compose", "Paste an article and get posts made for every platform."),
        welcome(),
        rx.cond(
            S.restricted,
            rx.callout(
                rx.text(
                    "You restricted processing of your content: OmniPostr keeps it but generates nothing until you lift "
                    "the restriction in ",
                    rx.link("your privacy settings", href="/settings/privacy", underline="always"),
                    ".",
                ),
                icon="shield",
                color_scheme="amber",
                margin_bottom="1em",
            ),
        ),
        # Side by side on a wide screen (Generate under the text); on a phone the platforms
        # and options come before the Generate button, in the order a person fills them in.
        rx.grid(
            rx.box(source_card(), grid_area="source", min_width="0"),
            rx.box(options_card(), grid_area="options", min_width="0"),
            rx.box(generate_bar(), grid_area="generate", min_width="0", class_name="op-generate"),
            grid_template_columns=rx.breakpoints(initial="minmax(0, 1fr)", lg="minmax(0, 3fr) minmax(0, 2fr)"),
            grid_template_rows=rx.breakpoints(initial="auto", lg="auto 1fr"),
            grid_template_areas=rx.breakpoints(
                initial='"source" "options" "generate"', lg='"source options" "generate options"'
            ),
            align_items="start",
            spacing="5",
            width="100%",
        ),
        rx.box(results(), margin_top="2em", width="100%"),
    )


def add_pages(app: rx.App) -> None:
    app.add_page(composer_page, route="/app", title="Compose · OmniPostr", on_load=ComposerState.load)
