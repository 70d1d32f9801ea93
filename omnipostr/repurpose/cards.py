"""What a platform card shows: its posts with length meters, its fields, its badges.

Plain data built from a stored variant or from the live progress of a run; the Reflex state
turns these into its vars. Nothing here imports reflex.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import regex

from omnipostr.repurpose import platforms
from omnipostr.repurpose.engines import prompting
from omnipostr.repurpose.variant import Variant as Post

BADGE = {
    "x": ("X", "#111111"),
    "linkedin": ("in", "#0a66c2"),
    "instagram": ("IG", "#d62976"),
    "threads": ("@", "#222222"),
    "bluesky": ("bs", "#1185fe"),
    "mastodon": ("M", "#6364ff"),
    "facebook": ("f", "#1877f2"),
    "tiktok": ("TT", "#ee1d52"),
    "youtube_shorts": ("YT", "#ff0000"),
    "newsletter": ("NL", "#0d9488"),
}


@dataclass
class Beat:
    """One beat of a spoken script as the preview shows it: when it is said, and what."""

    at: str  # "0:05"
    text: str


@dataclass
class Meter:
    label: str  # "Post 2", "Title", "Script"
    text: str
    count: int
    limit: int
    unit: str
    level: str  # ok | near | over
    part: str = "posts"
    index: int = 0
    mark: str = ""  # the thread number the app draws beside the post ("2/5"); not in ``text``
    sent: str = ""  # the text as it is copied and published (with its number)
    head: str = ""  # where the platform folds a long post: what shows before "…more"
    rest: str = ""  # and what is behind it ("" when the post shows whole)
    beats: list[Beat] = field(default_factory=list)  # a spoken script, beat by beat with times


@dataclass
class Card:
    platform: str
    name: str
    badge: str
    color: str
    status: str  # queued | streaming | done | failed
    variant_id: int = 0
    stream: str = ""
    posts: list[Meter] = field(default_factory=list)
    fields: list[Meter] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # broken platform rules (after an edit)
    tips: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    error: str = ""
    note: str = ""
    repaired: bool = False
    edited: bool = False
    copy_text: str = ""
    summary: str = ""  # e.g. "Thread of 5 posts · 41 s"
    thread: bool = False
    version: int = 0  # how many versions the post has had (each generated, regenerated or edited text)


def level(length: int, limit: int) -> str:
    if limit <= 0:
        return "ok"
    if length > limit:
        return "over"
    if length >= limit * 0.9:
        return "near"
    return "ok"


# Where each platform's feed cuts a long post short: characters, and lines, shown before
# "…see more" / "… more" (LinkedIn's is the platform's own fold rule).
FOLDS = {"linkedin": (platforms.PLATFORMS["linkedin"].fold or 210, 3), "instagram": (125, 2)}
_TYPED_TIME = regex.compile(r"^\[(\d{1,2}:\d{2})\]\s*")


def fold(platform: str, text: str) -> tuple[str, str]:
    """``text`` split where the platform's feed folds it: (shown, behind "more")."""
    if platform not in FOLDS:
        return text, ""
    chars, lines = FOLDS[platform]
    cut = len(text)
    starts = [m.start() for m in regex.finditer(r"\n", text)]
    if len(starts) >= lines:
        cut = starts[lines - 1]
    if cut > chars:
        space = text.rfind(" ", 0, chars + 1)
        cut = space if space > chars // 2 else chars
    head, rest = text[:cut].rstrip(), text[cut:].strip()
    return (text, "") if not rest else (head, rest)


def beats(text: str, wpm: int) -> list[Beat]:
    """A script's beats with the time each is said at: the time written in the script
    ("[0:05]") where there is one, else counted from the words before it at ``wpm``."""
    out, seconds = [], 0
    for beat in platforms.script_beats(text):
        m = _TYPED_TIME.match(beat)
        body = beat[m.end():] if m else beat
        if m:
            minutes, secs = m.group(1).split(":")
            seconds = int(minutes) * 60 + int(secs)
        out.append(Beat(f"{seconds // 60}:{seconds % 60:02d}", body))
        seconds += platforms.estimate_duration_seconds(body, wpm)
    return out


def meters(post: Post, settings: dict | None = None) -> tuple[list[Meter], list[Meter]]:
    spec = platforms.PLATFORMS[post.platform]
    lim = platforms.limit(post.platform, "posts", settings)
    unit = platforms.unit(post.platform, "posts")
    noun = spec.post_noun.capitalize()
    texts = platforms.bare(post.platform, post.posts)
    marks = platforms.thread_marks(post.platform, len(texts))
    posts = []
    for i, (text, sent) in enumerate(zip(texts, platforms.outgoing(post.platform, texts), strict=True)):
        n = platforms.measure(post.platform, sent, settings, "posts")  # counted as it is posted
        label = f"{noun} {i + 1}" if len(texts) > 1 else noun
        m = Meter(label, text, n, lim, unit, level(n, lim), "posts", i, marks[i], sent)
        m.head, m.rest = fold(post.platform, text)
        if spec.format == "script":
            m.beats = beats(text, int(platforms.setting(settings, "script_wpm")))
        posts.append(m)
    fields = []
    for f in spec.fields:
        text = post.fields.get(f.name, "")
        n = f.measure(text)
        fields.append(Meter(f.label.capitalize(), text, n, f.limit, f.unit, level(n, f.limit), f.name, 0, "", text))
    return posts, fields


def copy_text(post: Post) -> str:
    """What "Copy" puts on the clipboard: the fields with their names, then the posts."""
    spec = platforms.PLATFORMS[post.platform]
    parts = []
    for f in spec.fields:
        if post.fields.get(f.name):
            parts.append(f"{f.label.capitalize()}: {post.fields[f.name]}")
    sep = "\n\n---\n\n" if len(post.posts) > 1 else "\n\n"
    parts.append(sep.join(platforms.outgoing(post.platform, post.posts)))
    return "\n\n".join(parts)


def _summary(post: Post) -> str:
    spec = platforms.PLATFORMS[post.platform]
    if spec.format == "script" and post.posts:
        secs = platforms.estimate_duration_seconds(post.posts[0])
        return f"About {secs} s spoken"
    if len(post.posts) > 1:
        return f"Thread of {len(post.posts)} posts"
    return ""


def empty(platform: str, status: str = "queued") -> Card:
    spec = platforms.PLATFORMS[platform]
    badge, color = BADGE.get(platform, (platform[:2].upper(), "#555"))
    return Card(platform=platform, name=spec.name, badge=badge, color=color, status=status, thread=spec.thread)


def from_post(
    platform: str,
    post: Post | None,
    *,
    status: str,
    variant_id: int = 0,
    problems: list[dict] | None = None,
    flags: list[dict] | None = None,
    error: str = "",
    repaired: bool = False,
    edited: bool = False,
    settings: dict | None = None,
    version: int = 0,
) -> Card:
    card = empty(platform, status)
    card.variant_id = variant_id
    card.version = version
    card.error = error
    card.repaired = repaired
    card.edited = edited
    card.problems = [p["message"] for p in (problems or []) if p.get("severity", "error") == "error"]
    card.tips = [p["message"] for p in (problems or []) if p.get("severity") == "tip"]
    card.flags = [f["message"] for f in (flags or [])]
    if post is not None:
        card.posts, card.fields = meters(post, settings)
        card.copy_text = copy_text(post)
        card.summary = _summary(post)
    return card


def streaming(platform: str, raw: str, *, status: str, note: str = "", error: str = "", variant_id: int = 0) -> Card:
    """A card filling in: what has streamed so far, read as far as it goes."""
    card = empty(platform, status)
    card.variant_id = variant_id
    card.note = note
    card.error = error
    if raw:
        try:
            partial = prompting.parse_partial(platform, raw)
        except Exception:  # a half-written answer may not parse yet: show it as it is
            partial = None
        if partial is not None and (partial.posts or partial.fields):
            card.posts, card.fields = meters(partial)
            card.fields = [m for m in card.fields if m.text]
        else:
            card.stream = raw
    return card


def progress_line(total: int, finished: int, failed: int, seconds: int) -> str:
    """What a run has done so far, in words: "3 of 5 ready · 1 failed · 12 s"."""
    parts = [f"{finished - failed} of {total} ready"]
    if failed:
        parts.append(f"{failed} failed")
    if seconds:
        parts.append(f"{seconds} s")
    return " · ".join(parts)


def announcement(total: int, finished: int, failed: int) -> str:
    """What a screen reader says when a run ends."""
    ready = finished - failed
    if not failed:
        return "The post is ready." if ready == 1 else f"All {ready} posts are ready."
    if not ready:
        return "No post could be written; retry them when you are ready." if total > 1 else "The post could not be written; retry it."
    return f"{ready} of {total} posts are ready; {failed} failed and can be retried."
