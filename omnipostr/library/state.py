"""State of the library: the list of generations (search, filters, pages) and one generation."""

from __future__ import annotations

from datetime import datetime, timedelta

import reflex as rx

from omnipostr import clock, db
from omnipostr.accounts.guard import member_event, tab_event
from omnipostr.accounts.state import SessionState, full_reload
from omnipostr.library import service as library
from omnipostr.repurpose import platforms
from omnipostr.repurpose.service import ComposeError, NotFound
from omnipostr.repurpose.state import CardsState

STATUS_LABEL = {
    "queued": "Queued",
    "running": "Running",
    "done": "Done",
    "partial": "Partly failed",
    "failed": "Failed",
    "interrupted": "Interrupted",
}
PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365}


def _when(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M")


def _engine(engine: str, model: str = "") -> str:
    """What wrote the posts; "—" once retention removed the generation's history."""
    if engine == "claude":
        return "Claude · " + model if model else "Claude"
    return "Extractive draft" if engine else "—"


class LibraryState(SessionState):
    items: list[dict[str, str]] = []
    query: str = ""
    platform: str = "all"
    status: str = "all"
    period: str = "all"
    visit: int = 0
    cursor_stack: list[str] = []  # cursors of the pages before this one
    cursor: str = ""
    next_cursor: str = ""
    loaded: bool = False

    def _forget_own(self) -> None:
        self.items = []
        self.next_cursor = ""
        self.cursor = ""
        self.cursor_stack = []
        self.loaded = False

    async def _fetch(self, actor) -> None:
        since = None
        if self.period in PERIODS:
            since = clock.now() - timedelta(days=PERIODS[self.period])
        page = await db.run(
            library.list_generations,
            actor,
            query=self.query,
            platform="" if self.platform == "all" else self.platform,
            status="" if self.status == "all" else self.status,
            since=since,
            cursor=self.cursor,
            limit=20,
        )
        self.items = [
            {
                "id": str(i.id),
                "title": i.title,
                "platforms": ", ".join(platforms.PLATFORMS[p].name for p in i.platforms if p in platforms.PLATFORMS),
                "status": i.status,
                "status_label": STATUS_LABEL.get(i.status, i.status),
                "engine": _engine(i.engine, i.model),
                "tokens": f"{i.tokens:,}" if i.tokens else "—",
                "cost": f"${i.cost_usd:.4f}" if i.cost_usd else "—",
                "when": _when(i.created_at),
                # the row in one line, for a phone: when, engine and what it cost (if anything)
                "line": " · ".join(
                    x for x in (_when(i.created_at) + " UTC", _engine(i.engine).strip("—"),
                                f"${i.cost_usd:.4f}" if i.cost_usd else "") if x
                ),
                "variants": str(i.variants),
                "source": "kept" if i.source_kept else "deleted",
            }
            for i in page.items
        ]
        self.next_cursor = page.next_cursor
        self.loaded = True

    async def _refilter(self, actor) -> None:
        self.cursor = ""
        self.cursor_stack = []
        await self._fetch(actor)

    @member_event(page=True)
    async def load(self, actor):
        # a new visit starts from the whole library: a search left from last time would
        # greet a returning person with "Nothing matches"
        self.query, self.platform, self.status, self.period = "", "all", "all", "all"
        self.visit += 1  # the search box is drawn again, empty
        await self._refilter(actor)

    @member_event
    async def search(self, actor, form: dict):
        self.query = str(form.get("q", ""))[:200]
        await self._refilter(actor)

    @member_event
    async def set_platform(self, actor, value: str):
        self.platform = value if value in platforms.PLATFORMS else "all"
        await self._refilter(actor)

    @member_event
    async def set_status(self, actor, value: str):
        self.status = value if value in STATUS_LABEL else "all"
        await self._refilter(actor)

    @member_event
    async def set_period(self, actor, value: str):
        self.period = value if value in PERIODS else "all"
        await self._refilter(actor)

    @member_event
    async def clear_filters(self, actor):
        self.query = ""
        self.platform = "all"
        self.status = "all"
        self.period = "all"
        await self._refilter(actor)
        return rx.set_value("library-search", "")

    @member_event
    async def next_page(self, actor):
        if not self.next_cursor:
            return
        self.cursor_stack = [*self.cursor_stack, self.cursor]
        self.cursor = self.next_cursor
        await self._fetch(actor)

    @member_event
    async def previous_page(self, actor):
        if not self.cursor_stack:
            return
        self.cursor = self.cursor_stack[-1]
        self.cursor_stack = self.cursor_stack[:-1]
        await self._fetch(actor)

    @rx.var
    def filtered(self) -> bool:
        return bool(self.query) or self.platform != "all" or self.status != "all" or self.period != "all"


class GenerationState(CardsState):
    """One generation in the library: its source, options and cards."""

    found: bool = True
    source_title: str = ""
    source_text: str = ""
    source_kept: bool = False
    source_note: str = ""
    may_feature: bool = False
    may_feature_since: str = ""
    source_words: int = 0
    created: str = ""
    engine: str = ""
    tokens: str = ""
    cost: str = ""
    show_source: bool = False

    def _forget_own(self) -> None:
        self.source_title = ""
        self.source_text = ""
        self.source_kept = False
        self.source_note = ""
        self.may_feature = False
        self.may_feature_since = ""
        self.show_source = False

    @member_event(page=True)
    async def load(self, actor):
        raw = str(self.router.url.path).rstrip("/").rsplit("/", 1)[-1]
        if not raw.isdigit():
            self.found = False
            return None
        view = await self._load_generation(actor, int(raw))
        if view is None:
            self.found = False
            return None
        self.found = True
        self.show_source = False
        g = view.generation
        self.source_title = view.source_title
        self.source_text = view.source_text or ""
        self.source_kept = view.source_text is not None
        self.source_note = await db.run(library.source_note, actor, g.id)
        self._show_feature(g.may_feature_at)
        self.source_words = view.source_words
        self.created = _when(g.created_at)
        self.engine = _engine(g.engine, g.model)
        total = g.input_tokens + g.output_tokens + g.cache_read_tokens + g.cache_write_tokens
        self.tokens = f"{total:,} tokens ({g.cache_read_tokens:,} from cache)" if total else "no tokens (extractive draft)"
        self.cost = f"${g.cost_usd:.4f}" if g.cost_usd else "$0"
        if g.history_purged_at is not None:  # retention removed the run's history; the posts stay
            self.engine, self.tokens, self.cost = f"history removed on {g.history_purged_at:%Y-%m-%d}", "—", "—"
        if g.status in ("queued", "running"):
            return GenerationState.watch
        return None

    @tab_event
    def toggle_source(self):
        self.show_source = not self.show_source

    @member_event
    async def delete_source(self, actor):
        try:
            await db.run(library.delete_source_text, actor, self.generation_id)
        except (ComposeError, NotFound) as e:
            return rx.toast.error(getattr(e, "message", "That generation no longer exists."))
        self.source_text = ""
        self.source_kept = False
        self.show_source = False
        return rx.toast.success("Original text deleted. The posts are kept.")

    def _show_feature(self, since) -> None:
        self.may_feature = since is not None
        self.may_feature_since = f"Allowed on {since:%d %b %Y, %H:%M} UTC." if since else ""

    @member_event
    async def set_may_feature(self, actor, on: bool):
        try:
            since = await db.run(library.set_may_feature, actor, self.generation_id, bool(on))
        except (ComposeError, NotFound) as e:
            return rx.toast.error(getattr(e, "message", "That generation no longer exists."))
        self._show_feature(since)
        return rx.toast.success("OmniPostr may feature these posts." if since else "Permission withdrawn: these posts will not be featured.")

    @member_event
    async def delete_generation(self, actor):
        try:
            await db.run(library.delete_generation, actor, self.generation_id)
        except NotFound:
            pass
        self.generation_id = 0
        self.cards = []
        return [rx.toast.success("Generation deleted."), rx.redirect("/library")]

    @tab_event
    def reuse(self):
        if self.generation_id and self.source_kept:
            return full_reload(f"/app?reuse={self.generation_id}")
