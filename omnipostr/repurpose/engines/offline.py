"""The offline engine: a deterministic, extractive draft of every platform's post, made from
the document's own sentences, without a model.

It is the embedded default (no API key needed) and what the loopback Anthropic server
answers with, and the UI says what it is: an extractive draft. It is deterministic (the same
source and options always give the same post), fast, and faithful by construction: every
sentence in a post is a whole sentence of the document's prose (``extractive.analyze``
chooses them; code, tables and markup never reach a post, and nothing is cut short). The
only words it adds are the user's own call to action and link, hashtags made from the
document's key phrases, thread numbers, beat timings in scripts ("[0:05]", not read aloud),
emoji (per the emoji option), and a few short labels ("Read more", "Key points") in the
document's language.

Each platform gets what a creator would post there: X, Bluesky and Threads one post when it
fits, a thread of a hook and the key points when the article has that much to say;
LinkedIn, Facebook and Instagram a hook line and short paragraphs; TikTok and Shorts a spoken
script of short sentences, timed; the newsletter a subject (the title), a preview that adds
to it, an opening and the key points.

Language: the engine cannot translate. It writes in the document's language whatever
``Options.language`` asks for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from omnipostr import sources
from omnipostr.repurpose import platforms as pf
from omnipostr.repurpose.engines.base import Delta, Done, Event, Failed, Options, Source, Usage
from omnipostr.repurpose.engines.extractive import Analysis, analyze
from omnipostr.repurpose.engines.prompting import render
from omnipostr.repurpose.platforms import text as ptext
from omnipostr.repurpose.variant import Variant
from omnipostr.sources import text as T

log = logging.getLogger(__name__)

MODEL = "omnipostr-offline-1"

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "read_more": "Read more",
        "full": "Read the full article",
        "key_points": "Key points",
        "link_in_bio": "Link in bio.",
    },
    "es": {
        "read_more": "Leer más",
        "full": "Lee el artículo completo",
        "key_points": "Puntos clave",
        "link_in_bio": "Enlace en la bio.",
    },
    "fr": {
        "read_more": "Lire la suite",
        "full": "Lire l’article complet",
        "key_points": "Points clés",
        "link_in_bio": "Lien en bio.",
    },
    "de": {
        "read_more": "Weiterlesen",
        "full": "Zum ganzen Artikel",
        "key_points": "Das Wichtigste",
        "link_in_bio": "Link in der Bio.",
    },
    "pt": {
        "read_more": "Leia mais",
        "full": "Leia o artigo completo",
        "key_points": "Pontos principais",
        "link_in_bio": "Link na bio.",
    },
    "it": {
        "read_more": "Leggi di più",
        "full": "Leggi l’articolo completo",
        "key_points": "Punti chiave",
        "link_in_bio": "Link in bio.",
    },
    "ja": {
        "read_more": "続きを読む",
        "full": "記事の全文を読む",
        "key_points": "ポイント",
        "link_in_bio": "リンクはプロフィールから。",
    },
    "zh": {
        "read_more": "阅读更多",
        "full": "阅读全文",
        "key_points": "要点",
        "link_in_bio": "链接见简介。",
    },
    "nl": {
        "read_more": "Lees meer",
        "full": "Lees het hele artikel",
        "key_points": "De kern",
        "link_in_bio": "Link in bio.",
    },
}

_HOOK_EMOJI = {
    "x": "🧵",
    "threads": "🧵",
    "bluesky": "🧵",
    "mastodon": "📌",
    "linkedin": "💡",
    "facebook": "👉",
    "instagram": "✨",
    "tiktok": "🎬",
    "youtube_shorts": "🎬",
    "newsletter": "📬",
}
_POINT_EMOJI = ("✅", "👉", "🔹", "📌", "⚡")
SPOKEN_WORDS = 20  # a sentence longer than this is hard to say in one breath
SHORT_POST = 90  # a thread post shorter than this has room for the next point


@dataclass
class _Ctx:
    platform: pf.Platform
    options: Options
    an: Analysis
    settings: dict[str, int]

    @property
    def labels(self) -> dict[str, str]:
        return _LABELS.get(self.an.language, {})

    @property
    def emoji(self) -> str:
        return self.options.emoji if self.options.emoji in ("none", "some", "lots") else "some"

    def tags(self, want: int, part: str = "posts") -> list[str]:
        if not self.options.hashtags:
            return []
        platform = self.platform
        cap = platform.hashtag_cap(self.settings) if platform.hashtag_part == part else None
        if cap is None and part != "posts":
            cap = platform.field_spec(part).max_hashtags
        if cap is None:
            return []
        return self.an.hashtags(min(want, cap))

    def link_line(self, full: bool = False) -> str:
        if not self.options.link:
            return ""
        label = self.labels.get("full" if full else "read_more")
        icon = "🔗 " if self.emoji != "none" else ""
        return f"{icon}{label}: {self.options.link}" if label else f"{icon}{self.options.link}"

    def cta(self, links: bool = True) -> str:
        cta = " ".join(self.options.call_to_action.split())
        if cta and not links:
            cta = pf.remove_links(cta)
        return cta

    @property
    def take(self) -> int:
        return max(0, int(self.options.variation or 0))

    def point(self, text: str, i: int) -> str:
        if self.emoji == "lots":
            return f"{_POINT_EMOJI[(i + self.take) % len(_POINT_EMOJI)]} {text}"
        return text

    def hook_line(self, hook: str, where: str = "start") -> str:
        icon = _HOOK_EMOJI.get(self.platform.id, "")
        if self.emoji == "none" or not icon:
            return hook
        return f"{icon} {hook}" if where == "start" else f"{hook} {icon}"

    def fits(self, text: str) -> bool:
        return pf.fits(self.platform.id, text, self.settings)

    def hook(self, max_chars: int, **kw) -> str:
        """The hook for this take; the title (never cut) when no sentence fits."""
        return self.an.hook(max_chars, nth=self.take, **kw) or self.an.title


def _size(ctx: _Ctx, lowest: int, highest: int) -> int:
    """How many key points an article of this size has to give."""
    return max(lowest, min(highest, len(ctx.an.candidates) // 5))


def _pack_posts(ctx: _Ctx, items: list[str]) -> list[str]:
    """Lay ``items`` out as thread posts that fit (with room for the "k/n" number the app
    adds where the platform numbers threads): each item starts a post, and is split between
    sentences only when it cannot fit alone."""
    reserve = " 99/99" if ctx.platform.numbered else ""

    def fits(s: str) -> bool:
        return ctx.fits(s + reserve)

    posts: list[str] = []
    for i, item in enumerate(items):
        item = item.strip()
        if not item:
            continue
        # a short point joins the one before it (never the hook) when both fit in a post
        joined = f"{posts[-1]}\n\n{item}" if posts else item
        if i > 1 and posts and ptext.utf16_length(posts[-1]) < SHORT_POST and fits(joined):
            posts[-1] = joined
            continue
        posts.extend([item] if fits(item) else ptext.pack(ptext.split_units(item), fits))
    return posts


def _closing(ctx: _Ctx, tags: list[str]) -> str:
    return "\n".join(c for c in (ctx.cta(), ctx.link_line(), " ".join(tags)) if c)


def _thread(ctx: _Ctx) -> Variant:
    """X, Bluesky, Threads, Mastodon: one post when it fits; a thread when the article has
    that much to say (a hook, then one key point a post, then the close)."""
    pid = ctx.platform.id
    limit = pf.limit(pid, "posts", ctx.settings)
    want_tags = {"x": 2, "threads": 1, "bluesky": 2, "mastodon": 3}.get(pid, 2)
    tags = ctx.tags(want_tags)
    hook = ctx.hook(max(40, min(220, limit - 24)))

    # one post: the hook, the best point if there is room, the close (no thread emoji: a
    # single post promises no thread)
    threaded = pid in ("x", "threads", "bluesky")  # a thread's hook ends with the thread emoji
    head = hook if threaded else ctx.hook_line(hook)
    single: str | None = None
    for extra in ctx.an.key_points(2, exclude=(hook,), max_chars=limit):
        trial = "\n\n".join(x for x in (head, extra, _closing(ctx, tags)) if x)
        if ctx.fits(trial):
            single = trial
            break
    if single is None:
        for tags_ in (tags, tags[:1], []):
            trial = "\n\n".join(x for x in (head, _closing(ctx, tags_)) if x)
            if ctx.fits(trial):
                single = trial
                break
    if not ctx.an.substantial and single is not None:
        return Variant(platform=pid, posts=[single])

    n = {"x": _size(ctx, 3, 6), "bluesky": _size(ctx, 3, 5), "threads": _size(ctx, 3, 5)}.get(pid, _size(ctx, 2, 4))
    points = ctx.an.key_points(n, exclude=(hook,), max_chars=limit - 8)
    items = [ctx.hook_line(hook, where="end" if threaded else "start"), *(ctx.point(p, i) for i, p in enumerate(points))]
    closing = _closing(ctx, tags)
    posts = _pack_posts(ctx, [*items, closing] if closing else items)
    if tags and len(posts) > 1 and posts[-1] == " ".join(tags):
        # the hashtags did not fit the last post: a post of hashtags alone says nothing
        posts = _pack_posts(ctx, [*items, _closing(ctx, [])] if _closing(ctx, []) else items)
    if len(posts) < 3 and single is not None:
        return Variant(platform=pid, posts=[single])
    return Variant(platform=pid, posts=posts)


def _single(ctx: _Ctx, *, budget: int, points: int, tag_want: int, links: bool) -> Variant:
    """LinkedIn, Facebook and Instagram: a hook line, short paragraphs, the close, tags."""
    pid = ctx.platform.id
    fold = ctx.platform.fold or 200
    hook = ctx.hook(min(fold, 200) - 4)
    head = ctx.hook_line(hook)
    chosen = ctx.an.key_points(points, exclude=(hook,))
    closing = [c for c in (ctx.cta(links=links),) if c]
    if ctx.options.link:
        if links:
            closing.append(ctx.link_line())
        elif ctx.labels.get("link_in_bio"):
            closing.append(ctx.labels["link_in_bio"])
    tags = ctx.tags(tag_want)

    def compose(points_: list[str]) -> str:
        parts = [head, *(ctx.point(p, i) for i, p in enumerate(points_))]
        if closing:
            parts.append("\n".join(closing))
        if tags:
            parts.append(" ".join(tags))
        return "\n\n".join(parts)

    text = compose(chosen)
    while chosen and (ptext.utf16_length(text) > budget or not ctx.fits(text)):
        # drop the weakest point, keeping the document's order of the rest
        ranked = {c.text: (c.score, -c.index) for c in ctx.an.candidates}
        chosen.remove(min(chosen, key=lambda p: ranked.get(p, (0.0, 0))))
        text = compose(chosen)
    return Variant(platform=pid, posts=[text])


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"[{s // 60}:{s % 60:02d}]"


def _script(ctx: _Ctx, hook: str) -> str:
    """A spoken script: the hook, then short sentences one beat each, then the call to action,
    within the platform's time; each beat starts with the time it is said at ("[0:05]", a
    stage direction, not read aloud)."""
    pid = ctx.platform.id
    seconds = pf.limit(pid, "posts", ctx.settings)
    wpm = pf.setting(ctx.settings, "script_wpm")
    cta = ctx.cta(links=False)
    spoken = ctx.an.key_points(8, exclude=(hook,), max_words=SPOKEN_WORDS) or ctx.an.key_points(4, exclude=(hook,))
    beats = [hook]

    def timed(beats_: list[str]) -> str:
        out, at = [], 0.0
        for b in beats_:
            out.append(f"{_clock(at)} {b}")
            at += ptext.spoken_words(b) * 60 / wpm
        return "\n\n".join(out)

    for point in spoken:
        if pf.estimate_duration_seconds(timed([*beats, point, *([cta] if cta else [])]), wpm) <= seconds:
            beats.append(point)
    if cta and pf.estimate_duration_seconds(timed([*beats, cta]), wpm) <= seconds:
        beats.append(cta)
    return timed(beats)


def _spoken_hook(ctx: _Ctx, max_chars: int, avoid: tuple[str, ...] = ()) -> str:
    return (
        ctx.an.hook(max_chars, nth=ctx.take, max_words=SPOKEN_WORDS, avoid=avoid)
        or ctx.an.hook(max_chars, nth=ctx.take, avoid=avoid)
        or ctx.an.title
    )


def _video_title(ctx: _Ctx, limit: int) -> str:
    """The document's own title (shortened at a word boundary, never mid-word); no angle
    brackets, which YouTube refuses."""
    title = ctx.an.title.replace("<", "").replace(">", "")
    return sources.make_title(title, limit)


def _tiktok(ctx: _Ctx) -> Variant:
    hook = _spoken_hook(ctx, 150)
    script = _script(ctx, hook)
    lead = _video_title(ctx, 150)
    if ctx.emoji != "none":
        lead = f"{_HOOK_EMOJI['tiktok']} {lead}"
    tags = ctx.tags(5, part="caption")
    caption = lead + ("\n\n" + " ".join(tags) if tags else "")
    return Variant(platform="tiktok", posts=[script], fields={"hook": hook, "caption": caption})


def _shorts(ctx: _Ctx) -> Variant:
    title = _video_title(ctx, 100)
    hook = _spoken_hook(ctx, 200)
    script = _script(ctx, hook)
    about = ctx.an.opening(2, exclude=(hook,)) or [hook]
    parts = [T.joiner(ctx.an.language).join(about)]
    if ctx.options.link:
        parts.append(ctx.link_line())
    if ctx.options.hashtags:
        tags = ["#Shorts", *[t for t in ctx.tags(4, part="description") if t.lower() != "#shorts"]]
        parts.append(" ".join(tags[: ctx.platform.field_spec("description").max_hashtags or 15]))
    description = "\n\n".join(p for p in parts if p).replace("<", "").replace(">", "")
    return Variant(platform="youtube_shorts", posts=[script], fields={"title": title, "description": description})


def _newsletter(ctx: _Ctx) -> Variant:
    """A subject (the document's title), a preview that adds to it (the strongest sentence,
    which the body does not open with), the opening of the document, the key points."""
    subject = sources.make_title(ctx.an.title, 100)
    preview = ctx.hook(150, avoid=(subject,))
    opening = ctx.an.opening(2, exclude=(preview,))
    points = ctx.an.key_points(_size(ctx, 3, 6), exclude=(preview, *opening))
    body: list[str] = [T.joiner(ctx.an.language).join(opening) if opening else preview]
    if points:
        label = ctx.labels.get("key_points")
        lines = []
        for i, p in enumerate(points):
            marker = _POINT_EMOJI[i % len(_POINT_EMOJI)] if ctx.emoji == "lots" else "-"
            lines.append(f"{marker} {p}")
        body.append(((label + ":\n") if label else "") + "\n".join(lines))
    closing = [c for c in (ctx.cta(), ctx.link_line(full=True)) if c]
    if closing:
        body.append("\n\n".join(closing))
    return Variant(platform="newsletter", posts=["\n\n".join(body)], fields={"subject": subject, "preview": preview})


_BUILDERS: dict[str, Callable[[_Ctx], Variant]] = {
    "x": _thread,
    "threads": _thread,
    "bluesky": _thread,
    "mastodon": _thread,
    "linkedin": lambda c: _single(c, budget=1300, points=_size(c, 2, 5), tag_want=3, links=True),
    "facebook": lambda c: _single(c, budget=480, points=2, tag_want=2, links=True),
    "instagram": lambda c: _single(c, budget=1000, points=_size(c, 2, 4), tag_want=5, links=False),
    "tiktok": _tiktok,
    "youtube_shorts": _shorts,
    "newsletter": _newsletter,
}


class EmptySource(ValueError):
    pass


def build_variant(source: Source, platform_id: str, options: Options | None = None) -> Variant:
    """The offline variant of ``source`` for ``platform_id``; it passes the platform's
    validator. Raises ``UnknownPlatform`` or ``EmptySource``."""
    options = options or Options()
    platform = pf.get_platform(platform_id)
    an = analyze(source.document)
    if not an.candidates:
        raise EmptySource(
            "The source has no sentence that can stand in a post (it may be only code, a table or headings)."
        )
    settings = dict(options.platform_settings or {})
    ctx = _Ctx(platform=platform, options=options, an=an, settings=settings)
    variant = _BUILDERS.get(platform.id, _thread if platform.thread else _generic)(ctx)
    if pf.validate(platform.id, variant, settings):
        variant = pf.repair(platform.id, variant, settings)
    return variant


def _generic(ctx: _Ctx) -> Variant:  # a platform added to the catalog later
    return _single(ctx, budget=1000, points=3, tag_want=3, links=ctx.platform.links_allowed)


# --- the engine -----------------------------------------------------------------------------


class OfflineEngine:
    """Streams the offline variant as text deltas, then ``Done``.

    ``delay`` (seconds between chunks) slows the stream down for demos; by default it runs
    as fast as it can. ``feedback`` is ignored: the offline output already passes the
    validator and only quotes the source.
    """

    name = "offline"
    model = MODEL

    def __init__(self, *, delay: float = 0.0, chunk_chars: int = 48) -> None:
        self.delay = max(0.0, delay)
        self.chunk_chars = max(1, chunk_chars)

    async def stream(
        self,
        source: Source,
        platform: str,
        options: Options,
        *,
        feedback: str | None = None,
    ) -> AsyncIterator[Event]:
        try:
            from omnipostr.repurpose import cpu  # the pool's functions import this module

            variant = await cpu.run(cpu.offline_variant, source.title, source.text, platform, options)
        except pf.UnknownPlatform:
            yield Failed(reason=f"There is no platform called “{platform}”.", retryable=False)
            return
        except EmptySource as exc:
            yield Failed(reason=str(exc), retryable=False)
            return
        except Exception:
            log.exception("offline engine failed on %s", platform)
            yield Failed(reason="The offline writer could not make this post.", retryable=False)
            return
        raw = render(variant)
        for start in range(0, len(raw), self.chunk_chars):
            yield Delta(raw[start : start + self.chunk_chars])
            await asyncio.sleep(self.delay)
        yield Done(variant=variant, raw=raw, usage=Usage(), model=MODEL)
