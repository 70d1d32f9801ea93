"""State of the composer and of every page that shows platform cards.

Thin: starting, relaunching and following a generation are ``generations``' flows (which own
the rules); the work is queued for a generation worker, so a reload or a closed tab loses
nothing, and its progress reaches this page from whichever process writes it. Every handler is an ``accounts.guard`` event: those that touch data get the
signed-in member and call services that filter by the member's workspace; ``watch`` asks
again at every push and clears the page when the member may no longer see it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path, PurePath

import reflex as rx

from omnipostr import db, sources
from omnipostr.accounts import service as accounts
from omnipostr.accounts.guard import member_event, tab_event
from omnipostr.accounts.service import Actor
from omnipostr.accounts.state import SessionState
from omnipostr.billing import quota
from omnipostr.library import service as library
from omnipostr.repurpose import cards, generations, platforms, progress, service
from omnipostr.repurpose.cards import Card, Meter
from omnipostr.repurpose.service import ComposeError, NotFound
from omnipostr.settings import get_settings
from omnipostr.sources.urlimport import import_url
from omnipostr.ui.components import focus_by_id

DEFAULT_PLATFORMS = ["x", "linkedin", "instagram", "threads", "bluesky"]
LANGUAGES = ["English", "Spanish", "French", "German", "Portuguese", "Italian", "Dutch", "Polish", "Japanese", "Korean", "Chinese"]
ACTIVE = ("queued", "running")
# the composer's error slots (see page.py); other fields' messages go to "form"
SHOWN_ERRORS = ("text", "platforms", "link", "restricted", "quota", "form")


class CardsState(SessionState):
    """Cards of one generation: show, stream, edit, copy, regenerate, delete."""

    cards: list[Card] = []
    generation_id: int = 0
    gen_status: str = ""
    gen_error: str = ""
    run_note: str = ""  # about the run while it goes, e.g. that it resumed after a worker stopped
    gen_title: str = ""
    editing: int = 0
    draft_posts: list[Meter] = []
    draft_fields: list[Meter] = []
    draft_numbered: bool = False  # the draft is a thread the app numbers (drawn, not typed)
    watching: bool = False
    run_seconds: int = 0  # how long the run on the page has been going, while it goes
    versions_of: int = 0  # the post whose versions are listed (a dialog)
    versions: list[dict[str, str]] = []
    _run_t0: float = 0.0
    _settings: dict = {}
    _shown: dict = {}  # platform -> the streamed text its card shows (not parsed again)
    _undoable: list = []  # posts being regenerated or rewritten: their toast offers Undo when they land

    def _forget_own(self) -> None:
        self._forget_generation()

    def _forget_generation(self) -> None:
        self.cards = []
        self.generation_id = 0
        self.gen_status = ""
        self.gen_error = ""
        self.run_note = ""
        self.gen_title = ""
        self.editing = 0
        self.draft_posts = []
        self.draft_fields = []
        self._settings = {}
        self._undoable = []

    # --- loading -----------------------------------------------------------------------

    async def _load_generation(self, actor, generation_id: int) -> library.GenerationView | None:
        """Fill the cards from the database; None when the generation is not the actor's.
        A live run has its progress applied (start ``watch`` for more)."""
        try:
            view = await db.run(library.get_generation, actor, generation_id)
        except NotFound:
            self._forget_generation()
            return None
        gen = view.generation
        self.generation_id = gen.id
        self.gen_status = gen.status
        self.gen_error = gen.error
        self.gen_title = gen.title
        self._settings = dict(gen.options.get("platform_settings") or {})
        self.cards = [self._card(v) for v in view.variants]
        self.editing = 0
        if gen.status in ("queued", "running"):
            self._apply_progress(await generations.live(gen.id), {})
        return view

    def _card(self, v: library.VariantView) -> Card:
        return cards.from_post(
            v.platform, v.post, status=v.status, variant_id=v.id, problems=v.problems, flags=v.flags,
            error=v.error, repaired=v.repaired, edited=v.edited, settings=self._settings, version=v.version,
        )

    def _apply_progress(self, prog: progress.RunProgress | None, finished: dict[str, Card]) -> None:
        if prog is None:
            return
        self.run_note = "" if prog.finished else prog.note
        out = []
        for card in self.cards:
            pp = prog.platforms.get(card.platform)
            if card.platform in finished:
                out.append(finished[card.platform])
            elif pp is not None and pp.status in ("queued", "streaming"):
                if (card.status, card.note, self._shown.get(card.platform)) == (pp.status, pp.note, pp.text):
                    out.append(card)  # nothing new: no second parse of the same text
                    continue
                c = cards.streaming(card.platform, pp.text, status=pp.status, note=pp.note, variant_id=card.variant_id)
                self._shown[card.platform] = pp.text
                out.append(c)
            else:
                out.append(card)
        self.cards = out

    @staticmethod
    async def _member_of(ref: str, workspace_id: int) -> Actor | None:
        """The member whose session is ``ref``, if they still act in ``workspace_id`` (asked
        at every push of a background handler: one indexed query). The reference is read once
        per handler: it belongs to the page's connection, which does not change."""
        if not ref or not workspace_id:
            return None
        return await db.run(accounts.member_for_ref, ref, workspace_id)

    def _undo_toast(self, message: str, variant_id: int) -> rx.event.EventSpec:
        """A toast that says what changed, with Undo for it."""
        return rx.toast.success(
            message, duration=8000,
            # (self.__class__: in a background task ``self`` is a proxy of the state)
            action={"label": "Undo", "on_click": self.__class__.undo(variant_id)},
        )

    def _landed(self) -> list[rx.event.EventSpec]:
        """Toasts for regenerated or rewritten posts that have just landed."""
        out = []
        for c in self.cards:
            if c.variant_id in self._undoable and c.status in ("done", "failed"):
                self._undoable = [v for v in self._undoable if v != c.variant_id]
                if c.status == "done":
                    out.append(self._undo_toast(f"New take on the {c.name} post.", c.variant_id))
        return out

    @member_event(background=True)
    async def watch(self, actor):
        """Push a live run's progress to this page until it finishes; stop, and clear the
        page, as soon as the session ends or the member leaves the workspace. A regenerated
        post that lands says so, with Undo."""
        async with self:
            if self.watching or not self.generation_id:
                return
            self.watching = True
            gid = self.generation_id
            ref = self._session_ref()
        try:
            async for update in generations.follow(actor, gid, lambda: self._member_of(ref, actor.workspace_id)):
                async with self:
                    if self.generation_id != gid:
                        return
                    if isinstance(update, generations.Ended):
                        self._forget()
                        return
                    if isinstance(update, generations.Final):
                        if update.status == "failed":  # a generation that failed as a whole gave its unit back
                            await self._refresh_quota(actor)
                        self.gen_status = update.status
                        self.gen_error = update.error
                        self.run_note = ""
                        order = {c.platform: i for i, c in enumerate(self.cards)}
                        final = sorted(update.views, key=lambda v: order.get(v.platform, 99))
                        self.cards = [self._card(v) for v in final] if final else self.cards
                    else:
                        self._apply_progress(update.progress, {p: self._card(v) for p, v in update.finished.items()})
                        if self._run_t0:
                            self.run_seconds = int(time.monotonic() - self._run_t0)
                    landed = self._landed() if self._undoable else []
                for toast in landed:
                    yield toast
        finally:
            async with self:
                self.watching = False

    # --- card actions ----------------------------------------------------------------------

    def _find(self, variant_id: int) -> Card | None:
        return next((c for c in self.cards if c.variant_id == variant_id), None)

    def _replace(self, card: Card) -> None:
        self.cards = [card if c.variant_id == card.variant_id else c for c in self.cards]

    @member_event
    async def copy(self, actor, variant_id: int):
        card = self._find(int(variant_id))
        if card is None or not card.copy_text:
            return rx.toast.error("Nothing to copy yet.")
        await db.run(library.record_feature, actor, "copy", platform=card.platform)
        return [rx.set_clipboard(card.copy_text), rx.toast.success(f"{card.name} post copied.")]

    @member_event
    async def copy_all(self, actor):
        ready = [c for c in self.cards if c.copy_text]
        if not ready:
            return rx.toast.error("Nothing to copy yet.")
        await db.run(library.record_feature, actor, "copy_all", platforms=len(ready))
        text = "\n\n\n".join(f"{c.name}\n\n{c.copy_text}" for c in ready)
        return [rx.set_clipboard(text), rx.toast.success(f"All {len(ready)} posts copied.")]

    @member_event
    async def undo(self, actor, variant_id: int):
        """Back to the version before the last change (an edit, a regenerate, a rewrite)."""
        try:
            view = await db.run(library.undo, actor, int(variant_id))
        except (ComposeError, NotFound) as e:
            return rx.toast.error(getattr(e, "message", "That post no longer exists."))
        self._replace(self._card(view))
        return rx.toast.success(f"{platforms.PLATFORMS[view.platform].name} post is back to how it was.")

    @member_event
    async def open_versions(self, actor, variant_id: int):
        try:
            found = await db.run(library.versions, actor, int(variant_id))
        except NotFound:
            return rx.toast.error("That post no longer exists.")
        self.versions_of = int(variant_id)
        self.versions = [
            {
                "version": str(v.version), "label": v.label, "when": v.created_at.strftime("%d %b %Y, %H:%M UTC"),
                "preview": v.preview, "current": "yes" if v.current else "no",
            }
            for v in found
        ]
        return None

    @tab_event
    def versions_open(self, open_: bool):
        return None if open_ or not self.versions_of else self._close_versions()

    def _close_versions(self) -> rx.event.EventSpec:
        """Close the Versions dialog; the focus goes back to the button that opened it."""
        vid, self.versions_of, self.versions = self.versions_of, 0, []
        return rx.call_script(focus_by_id(f"versions-{vid}"))

    @member_event
    async def restore_version(self, actor, version: int):
        vid = self.versions_of
        try:
            view = await db.run(library.restore_revision, actor, vid, int(version))
        except (ComposeError, NotFound) as e:
            return rx.toast.error(getattr(e, "message", "That version no longer exists."))
        self._replace(self._card(view))
        return [self._undo_toast(f"Version {int(version)} restored.", view.id), self._close_versions()]

    @tab_event
    def start_edit(self, variant_id: int):
        card = self._find(int(variant_id))
        if card is None or card.status not in ("done", "failed") or not card.posts:
            return
        self.editing = card.variant_id
        self.draft_posts = [Meter(**vars(m)) for m in card.posts]
        self.draft_fields = [Meter(**vars(m)) for m in card.fields]
        self.draft_numbered = any(m.mark for m in card.posts)

    @tab_event
    def cancel_edit(self):
        self.editing = 0
        self.draft_posts = []
        self.draft_fields = []

    def _draft_post(self) -> service.Post | None:
        card = self._find(self.editing)
        if card is None:
            return None
        return service.Post(
            platform=card.platform,
            posts=[m.text for m in self.draft_posts],
            fields={m.part: m.text for m in self.draft_fields},
        )

    def _remeter(self) -> None:
        post = self._draft_post()
        if post is None:
            return
        posts, fields = cards.meters(post, self._settings)
        self.draft_posts = posts
        self.draft_fields = fields
        self.draft_numbered = any(m.mark for m in posts)

    @tab_event
    def set_draft_post(self, index: int, value: str):
        index = int(index)
        if 0 <= index < len(self.draft_posts):
            self.draft_posts[index].text = value[:20_000]
            self._remeter()

    @tab_event
    def set_draft_field(self, name: str, value: str):
        for m in self.draft_fields:
            if m.part == name:
                m.text = value[:20_000]
        self._remeter()

    @tab_event
    def add_draft_post(self):
        card = self._find(self.editing)
        if card is None or not card.thread or len(self.draft_posts) >= 50:
            return
        self.draft_posts.append(Meter("", "", 0, 0, "", "ok"))
        self._remeter()  # the drawn numbers follow ("k/6" where it was "k/5")

    @tab_event
    def remove_draft_post(self, index: int):
        index = int(index)
        if len(self.draft_posts) > 1 and 0 <= index < len(self.draft_posts):
            self.draft_posts.pop(index)
            self._remeter()

    @member_event
    async def save_edit(self, actor, form: dict | None = None):
        # What the boxes hold when Save is pressed; a change still in its debounce is in there.
        form = form if isinstance(form, dict) else {}
        for i, m in enumerate(self.draft_posts):
            if isinstance(form.get(f"post-{i}"), str):
                m.text = form[f"post-{i}"][:20_000]
        for m in self.draft_fields:
            if isinstance(form.get(f"field-{m.part}"), str):
                m.text = form[f"field-{m.part}"][:20_000]
        post = self._draft_post()
        if post is None:
            return
        try:
            view = await db.run(library.edit_variant, actor, self.editing, post.posts, post.fields)
        except (ComposeError, NotFound) as e:
            return rx.toast.error(getattr(e, "message", "That post no longer exists."))
        self._replace(self._card(view))
        self.editing = 0
        broken = [p["message"] for p in view.problems if p.get("severity", "error") == "error"]
        said = (
            rx.toast.warning(f"Saved as a draft that {platforms.PLATFORMS[view.platform].name} would not take: {broken[0]}")
            if broken else self._undo_toast("Saved.", view.id)
        )
        return [said, rx.call_script(focus_after_edit(str(view.id)))]

    async def _refresh_quota(self, actor) -> None:
        """The composer's "N of M generations used" after a unit was taken again or given back
        (the handlers of the cards run in this state, whichever page shows them)."""
        used = await db.run(lambda s: quota.usage(s, actor.workspace_id))
        composer = await self.get_state(ComposerState)
        composer.used, composer.limit = used.used, used.limit

    async def _relaunch(self, actor, variant_ids: list[int] | None, kind: str):
        if not self.generation_id:
            return None
        try:
            await generations.relaunch(actor, self.generation_id, variant_ids=variant_ids, kind=kind)
        except (ComposeError, NotFound) as e:
            return rx.toast.error(getattr(e, "message", "That generation no longer exists."))
        if variant_ids:
            self._undoable = [*self._undoable, *variant_ids]
        self.gen_status = "running"
        self.gen_error = ""
        if variant_ids is None:  # a retry of a generation that failed as a whole takes a unit again
            await self._refresh_quota(actor)
        for c in self.cards:
            if variant_ids is None and c.status == "failed" or (variant_ids and c.variant_id in variant_ids):
                self._replace(cards.streaming(c.platform, "", status="queued", variant_id=c.variant_id))
        return type(self).watch

    @member_event
    async def regenerate(self, actor, variant_id: int):
        return await self._relaunch(actor, [int(variant_id)], "regenerate")

    @member_event
    async def rewrite_grounded(self, actor, variant_id: int):
        return await self._relaunch(actor, [int(variant_id)], "rewrite")

    @member_event
    async def retry_failed(self, actor):
        return await self._relaunch(actor, None, "generated")

    @member_event
    async def delete_variant(self, actor, variant_id: int):
        try:
            await db.run(library.delete_variant, actor, int(variant_id))
        except NotFound:
            return rx.toast.error("That post no longer exists.")
        self.cards = [c for c in self.cards if c.variant_id != int(variant_id)]
        return rx.toast.success("Post deleted.")

    @rx.var
    def finished_count(self) -> int:
        return sum(1 for c in self.cards if c.status in ("done", "failed"))

    @rx.var
    def progress_percent(self) -> int:
        return int(100 * self.finished_count / len(self.cards)) if self.cards else 0

    @rx.var
    def failed_count(self) -> int:
        return sum(1 for c in self.cards if c.status == "failed")

    @rx.var
    def running(self) -> bool:
        return self.gen_status in ACTIVE or any(c.status in ("queued", "streaming") for c in self.cards)

    @rx.var
    def progress_line(self) -> str:
        return cards.progress_line(len(self.cards), self.finished_count, self.failed_count, self.run_seconds)

    @rx.var
    def announcement(self) -> str:
        """Said by screen readers when a run ends (a polite live region)."""
        if not self.cards or self.running:
            return ""
        return cards.announcement(len(self.cards), self.finished_count, self.failed_count)


class PlatformsState(SessionState):
    """The platforms picked for the next generation. A state of its own because every part
    of a page that reads a state is drawn again when any value of that state changes: a
    chip's toggle redraws the chips and the Generate button, not the whole composer."""

    selected: list[str] = DEFAULT_PLATFORMS

    def _forget_own(self) -> None:
        self.selected = list(DEFAULT_PLATFORMS)

    @tab_event
    def toggle_platform(self, platform: str):
        if platform not in platforms.PLATFORMS:
            return
        if platform in self.selected:
            self.selected = [p for p in self.selected if p != platform]
        else:
            self.selected = [p for p in platforms.PLATFORMS if p in self.selected or p == platform]

    @tab_event
    def select_all(self):
        self.selected = list(platforms.PLATFORMS)

    @tab_event
    def select_none(self):
        self.selected = []


class ComposerState(CardsState):
    # source
    title: str = ""
    text: str = ""
    seed: str = ""
    seed_key: int = 0
    kind: str = "paste"
    filename: str = ""
    source_url: str = ""
    source_tab: str = "paste"
    url_input: str = ""
    source_warnings: list[str] = []
    importing: bool = False
    # choices
    tone: str = "conversational"
    audience: str = ""
    language: str = "English"
    voice_id: str = "none"
    hashtags: bool = True
    emoji: str = "some"
    cta: str = ""
    link: str = ""
    voices: list[dict[str, str]] = []
    used: int = 0
    limit: int = 0
    errors: dict[str, str] = {}
    starting: bool = False
    restricted: bool = False
    first_run: bool = False  # the workspace has generated nothing yet: the welcome shows
    welcome_closed: bool = False
    options_open: bool = False  # on a phone the options are folded away until asked for

    @rx.var
    def options_summary(self) -> str:
        """The options in one line, shown while they are folded away."""
        emoji = {"none": "no emoji", "some": "a few emoji", "lots": "plenty of emoji"}.get(self.emoji, "")
        parts = [self.tone.capitalize(), self.language, emoji, "hashtags" if self.hashtags else "no hashtags"]
        voice = next((v["name"] for v in self.voices if v.get("id") == self.voice_id), "")
        if voice:
            parts.append(f"voice: {voice}")
        return " · ".join(p for p in parts if p)

    @rx.var
    def word_count(self) -> int:
        return sources.count_words(self.text) if self.text else 0

    @rx.var
    def reading_minutes(self) -> int:
        return sources.reading_minutes(self.word_count) if self.word_count else 0

    @rx.var
    def source_stats(self) -> str:
        n = self.word_count
        return f"{n:,} word{'' if n == 1 else 's'} · {self.reading_minutes} min read"

    @rx.var
    def engine_label(self) -> str:
        return (
            "Claude" if get_settings().claude_enabled
            else "extractive drafts (your own sentences, picked and laid out for each platform; no AI)"
        )

    @rx.var
    def quota_left(self) -> int:
        return max(self.limit - self.used, 0)

    async def _refresh_side(self, actor) -> None:
        def work(s):
            voices = service.list_voices(s, actor)
            used = quota.usage(s, actor.workspace_id)
            return voices, used.used, used.limit, service.processing_restricted(s, actor), not library.has_generations(s, actor)

        voices, self.used, self.limit, self.restricted, self.first_run = await db.run(work)
        self.voices = [{"id": str(v.id), "name": v.name} for v in voices]
        if self.voice_id != "none" and self.voice_id not in {v["id"] for v in self.voices}:
            self.voice_id = "none"

    def _forget_own(self) -> None:
        self._clear_source()
        self.url_input = ""
        self.audience = ""
        self.cta = ""
        self.link = ""
        self.voices = []
        self.voice_id = "none"

    @member_event(page=True)
    async def load(self, actor):
        self.errors = {}
        await self._refresh_side(actor)
        params = self.router.url.query_parameters
        if (reuse := params.get("reuse", "")).isdigit():
            try:
                r = await db.run(library.reuse_source, actor, int(reuse))
            except (ComposeError, NotFound) as e:
                return rx.toast.error(getattr(e, "message", "That generation no longer exists."))
            self._seed(r.text, r.title)
            picker = await self.get_state(PlatformsState)
            picker.selected = [p for p in r.platforms if p in platforms.PLATFORMS] or list(DEFAULT_PLATFORMS)
            self._apply_options(r.options)
            self.generation_id = 0
            self.cards = []
            return None
        if self.text != self.seed:
            # The box is new (a reload, or back from another page) but this tab's draft is
            # not: put the draft back in it.
            self._seed(self.text, self.title)
        gid = int(g) if (g := params.get("g", "")).isdigit() else self.generation_id
        # with no id in the address, the same tab shows its last run if it is still this workspace's
        if gid and await self._load_generation(actor, gid) and self.gen_status in ("queued", "running"):
            return ComposerState.watch
        return None

    def _apply_options(self, o: dict) -> None:
        self.tone = o.get("tone", self.tone)
        self.audience = o.get("audience", "")
        self.language = o.get("language", "English")
        self.hashtags = bool(o.get("hashtags", True))
        self.emoji = o.get("emoji", "some")
        self.cta = o.get("call_to_action", "")
        self.link = o.get("link", "")
        vid = o.get("brand_voice_id")
        self.voice_id = str(vid) if vid and str(vid) in {v["id"] for v in self.voices} else "none"

    def _seed(self, text: str, title: str = "", *, remount: bool = True) -> None:
        """Put ``text`` in the composer's box. The box is uncontrolled: it shows a new seed
        only when remounted (``seed_key``); without ``remount`` the page has set the box
        itself."""
        self.text = text
        self.seed = text
        if remount:
            self.seed_key += 1
        self.title = title
        self.errors = {}

    # --- source -------------------------------------------------------------------------

    @tab_event
    def set_text(self, value: str):
        self.text = value
        if self.errors.get("text"):
            self.errors = {k: v for k, v in self.errors.items() if k != "text"}

    @tab_event
    def set_title(self, value: str):
        self.title = value[:200]

    @tab_event
    def set_source_tab(self, value: str):
        self.source_tab = value

    @tab_event
    def set_url_input(self, value: str):
        self.url_input = value

    @member_event
    async def handle_upload(self, actor, files: list[rx.UploadFile]):
        if not files:
            return
        f = files[0]
        cfg = get_settings()
        # never more than the limit in memory: one byte over is enough to refuse it
        data = await asyncio.to_thread(f.file.read, cfg.upload_max_bytes + 1)
        name = f.name or f.filename or "upload"
        try:
            got = await asyncio.to_thread(
                sources.extract_file, name, data, max_bytes=cfg.upload_max_bytes, max_chars=cfg.source_max_chars
            )
        except sources.ExtractError as e:
            self.errors = {"upload": e.message}
            return
        self._seed(got.text, got.title)
        self.kind = "file"
        self.filename = name[:255]
        self.source_warnings = list(got.warnings)
        self.source_tab = "paste"
        await db.run(library.record_feature, actor, "upload", file_kind=got.kind)
        return rx.toast.success(f"Read {got.words:,} words from {name}.")

    @tab_event
    def upload_rejected(self, names: list[str], codes: list[str]):
        """The file picker refused the file (its type, or more than one file): say why, as
        the server would, instead of the picker's generic notice."""
        self.errors = {"upload": rejected_upload_message(names, codes)}

    @member_event
    async def import_link(self, actor):
        url = self.url_input.strip()
        if not url:
            self.errors = {"url": "Paste the address of the article."}
            return
        self.importing = True
        self.errors = {}
        yield
        cfg = get_settings()
        try:
            got = await import_url(
                url, allow_private=cfg.allow_private_urls, timeout=cfg.url_import_timeout_seconds,
                max_bytes=cfg.url_import_max_bytes, max_chars=cfg.source_max_chars,
            )
        except sources.ExtractError as e:
            self.errors = {"url": e.message}
            self.importing = False
            return
        self._seed(got.text, got.title)
        self.kind = "url"
        self.source_url = url[:2000]
        self.source_warnings = list(got.warnings)
        self.source_tab = "paste"
        self.importing = False
        await db.run(library.record_feature, actor, "url_import")
        yield rx.toast.success(f"Imported {got.words:,} words.")

    def _clear_source(self) -> None:
        # The page empties the box itself as the button is pressed (page.CLEAR_BOX), so the
        # box is not remounted here: a remount would drop whatever was pasted meanwhile.
        self._seed("", "", remount=False)
        self.kind = "paste"
        self.filename = ""
        self.source_url = ""
        self.source_warnings = []

    @tab_event
    def clear_source(self):
        self._clear_source()

    # --- choices ------------------------------------------------------------------------

    @tab_event
    def toggle_options(self):
        self.options_open = not self.options_open

    @tab_event
    def set_tone(self, value: str):
        self.tone = value

    @tab_event
    def set_language(self, value: str):
        self.language = value

    @tab_event
    def set_voice(self, value: str):
        self.voice_id = value

    @tab_event
    def set_hashtags(self, value: bool):
        self.hashtags = bool(value)

    @tab_event
    def set_emoji(self, value: str):
        self.emoji = value if value in service.EMOJI_LEVELS else "some"

    @tab_event
    def set_audience(self, value: str):
        self.audience = value[:200]

    @tab_event
    def set_cta(self, value: str):
        self.cta = value[:300]

    @tab_event
    def set_link(self, value: str):
        self.link = value[:2000]

    # --- generate -----------------------------------------------------------------------

    @member_event
    async def generate(self, actor, text: str | None = None):
        """Start a generation. ``text`` is the text box's value read in the browser at the
        click, so a paste that the debounced change event has not sent yet is not lost."""
        if self.starting or self.running:
            return None
        if isinstance(text, str):
            self.text = text
        self.errors = {}
        picker = await self.get_state(PlatformsState)
        req = service.ComposeRequest(
            text=self.text,
            platforms=list(picker.selected),
            title=self.title,
            kind=self.kind,
            filename=self.filename,
            url=self.source_url,
            tone=self.tone,
            audience=self.audience,
            language=self.language,
            brand_voice_id=int(self.voice_id) if self.voice_id.isdigit() else None,
            hashtags=self.hashtags,
            emoji=self.emoji,
            call_to_action=self.cta,
            link=self.link.strip(),
        )
        self.starting = True
        try:
            started = await generations.start(actor, req)
        except ComposeError as e:
            # a message goes where the page shows it; one about a field without a place of
            # its own (a brand voice deleted meanwhile) goes above the Generate button
            field = e.field if e.field in SHOWN_ERRORS else "form"
            self.errors = {field: e.message}
            if field == "text":
                self.source_tab = "paste"  # the text box shows it
            self.starting = False
            await self._refresh_side(actor)
            return None
        gen = started.generation
        self.generation_id = gen.id
        self.gen_status = "running"
        self.gen_error = ""
        self.gen_title = gen.title
        self._settings = {}
        self.editing = 0
        self.cards = [cards.streaming(p, "", status="queued", variant_id=vid) for p, vid in started.variant_ids.items()]
        self.used += 1
        self.starting = False
        self._run_t0, self.run_seconds = time.monotonic(), 0
        return [
            rx.call_script(f"window.history.replaceState(null, '', '/app?g={gen.id}')"),
            rx.call_script(SHOW_RESULTS),
            ComposerState.watch,
        ]

    @tab_event
    def use_sample(self):
        """Put the sample article in the box (a text written for trying OmniPostr)."""
        self._clear_source()
        self._seed(SAMPLE.read_text(encoding="utf-8"))
        self.source_tab = "paste"

    @tab_event
    def close_welcome(self):
        self.welcome_closed = True

    @rx.var
    def claude_on(self) -> bool:
        return get_settings().claude_enabled

    @tab_event
    def new_draft(self):
        self._forget_generation()
        self._clear_source()
        return rx.call_script("window.history.replaceState(null, '', '/app')")


SAMPLE = Path(__file__).with_name("samples") / "tool-library.md"
"""The sample article of the welcome: written for OmniPostr, free to use."""

SHOW_RESULTS = """
setTimeout(() => {
  const h = document.getElementById('results-heading');
  if (!h) return;
  const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  h.scrollIntoView({block: 'start', behavior: still ? 'auto' : 'smooth'});
  h.focus({preventScroll: true});
}, 60)
"""
"""After Generate: the results come into view and take the focus (their heading)."""

def focus_after_edit(variant_id: str | rx.Var) -> str | rx.Var:
    """Script that gives the focus back to a card's Edit button once its editor has closed."""
    return focus_by_id("edit-" + variant_id)


FOCUS_EDITOR = "setTimeout(function(){var t=document.querySelector('form[data-editor] textarea');if(t)t.focus();},80)"
"""Script that puts the focus in an editor that has just opened."""

# Escape in an open editor presses its Cancel. Listened for in the browser: typing sends
# nothing to the server.
EDITOR_KEYS = (
    "if(!window.__opEditorKeys){window.__opEditorKeys=true;document.addEventListener('keydown',function(e){"
    "if(e.key!=='Escape'||e.defaultPrevented)return;var f=e.target&&e.target.closest&&e.target.closest('form[data-editor]');"
    "if(!f)return;var c=f.querySelector('[data-cancel]');if(c){e.preventDefault();c.click();}});}"
)

SUPPORTED_FILES = "OmniPostr reads .txt, .md, .rst, .html, .docx and .pdf files"


def rejected_upload_message(names: list[str], codes: list[str]) -> str:
    """The message for files the upload's picker refused: their names and react-dropzone's
    error codes (``file-invalid-type``, ``too-many-files``, ...)."""
    names = [str(n) for n in names if isinstance(n, str)] if isinstance(names, list) else []
    codes = [str(c) for c in codes] if isinstance(codes, list) else []
    if len(names) > 1 or any("too-many-files" in c for c in codes):
        return "Upload one file at a time."
    if any("file-too-large" in c for c in codes):
        return f"That file is larger than {sources.human_size(get_settings().upload_max_bytes)}, the upload limit."
    ext = PurePath(names[0].replace("\\", "/")).suffix.lower() if names else ""
    if ext and ext not in sources.SUPPORTED_EXTENSIONS:
        return f"{SUPPORTED_FILES}; this one is {ext[:20]}."
    return f"{SUPPORTED_FILES}."


def platform_choices() -> list[dict[str, str]]:
    out = []
    for pid, spec in platforms.PLATFORMS.items():
        badge, color = cards.BADGE.get(pid, (pid[:2], "#555"))
        out.append({"id": pid, "name": spec.name, "badge": badge, "color": color, "hint": spec.description})
    return out
