"""One declaration per platform: limits, unit of length, format, fields and checks.

Per-platform knobs come from ``Options.platform_settings`` (a ``dict[str, int]``); every
function that takes ``settings`` reads them through :func:`setting`, which applies the
default and clamps the value to the platform's real range.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from omnipostr.repurpose.platforms import text as t
from omnipostr.repurpose.platforms import units
from omnipostr.repurpose.variant import Problem, Variant

Settings = Mapping[str, int] | None

# key: (default, lowest, highest)
SETTINGS: Mapping[str, tuple[int, int, int]] = MappingProxyType(
    {
        "x_limit": (280, 1, 25_000),  # 280 on a free account; Premium allows up to 25,000
        "mastodon_limit": (500, 1, 100_000),  # per server
        "instagram_hashtag_cap": (5, 0, 30),  # Instagram's guidance is 3-5; it allows 30
        "tiktok_seconds": (60, 1, 600),  # target length of a TikTok script; TikTok allows 10 min
        "youtube_shorts_seconds": (60, 1, 180),  # Shorts may run up to 3 minutes
        "script_wpm": (150, 60, 300),  # speaking speed for script durations
    }
)


def setting(settings: Settings, key: str) -> int:
    default, lowest, highest = SETTINGS[key]
    raw = (settings or {}).get(key)
    if raw is None or isinstance(raw, bool):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return max(lowest, min(highest, value))


Measure = Callable[[str, Settings], int]


@dataclass(frozen=True)
class LengthRule:
    """One length limit on a part of a variant."""

    measure: Measure
    limit: int
    noun: str  # what the number counts, as a user reads it: "characters", "bytes", "seconds"
    setting: str | None = None  # a settings key that overrides ``limit``

    def limit_for(self, settings: Settings) -> int:
        return setting(settings, self.setting) if self.setting else self.limit


@dataclass(frozen=True)
class FieldSpec:
    """A named part of a variant besides its posts (title, subject, hook...)."""

    name: str
    limit: int
    label: str  # how a sentence names it: "title", "preview text"
    required: bool = True
    advise_above: int | None = None  # a softer, recommended length
    max_hashtags: int | None = None
    links_allowed: bool = True
    derive_chars: int = 0  # length aimed at when the field is filled from the body
    derive_from: str = "lead"  # "lead" (the opening) or "second" (what follows the opening)
    forbidden: str = ""  # characters the platform refuses in this field

    @property
    def unit(self) -> str:
        return "characters"

    def measure(self, value: str) -> int:
        return units.characters(value)


Check = Callable[["Platform", Variant, Settings], list[Problem]]


@dataclass(frozen=True)
class Platform:
    id: str
    name: str
    unit: str  # short label of the unit of ``limit``
    limit: int  # default per-post (or per-script) limit in ``unit``
    thread: bool  # whether several posts make one variant
    fields: tuple[FieldSpec, ...]
    max_hashtags: int | None  # recommended cap, per post (or in ``hashtag_part``)
    links_allowed: bool
    description: str
    format: str  # "thread", "post", "caption", "script" or "email"
    post_noun: str  # how a sentence names one item of ``posts``: "post", "caption", "script"
    length_rules: tuple[LengthRule, ...]
    max_links: int | None = None  # per post, where links are allowed but capped
    hashtag_part: str = "posts"  # where hashtags go: "posts" or a field name
    hashtag_setting: str | None = None
    numbered: bool = False  # threads are numbered "1/5" by default
    fold: int | None = None  # characters shown before "see more"
    recommended_length: int | None = None  # softer length for the posts
    checks: tuple[Check, ...] = ()

    def field_spec(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.name} has no field {name!r}")

    def hashtag_cap(self, settings: Settings) -> int | None:
        if self.hashtag_setting:
            return setting(settings, self.hashtag_setting)
        return self.max_hashtags


# --- measures -----------------------------------------------------------------------------


def _x(text: str, settings: Settings) -> int:
    return units.x_weighted_length(text)


def _chars(text: str, settings: Settings) -> int:
    return units.characters(text)


def _threads(text: str, settings: Settings) -> int:
    return units.threads_length(text)


def _graphemes(text: str, settings: Settings) -> int:
    return units.grapheme_length(text)


def _bytes(text: str, settings: Settings) -> int:
    return units.utf8_length(text)


def _mastodon(text: str, settings: Settings) -> int:
    return units.mastodon_length(text)


def _seconds(text: str, settings: Settings) -> int:
    return t.estimate_duration_seconds(text, setting(settings, "script_wpm"))


# --- platform-specific checks ---------------------------------------------------------------


def first_line(text: str) -> str:
    for line in text.strip().split("\n"):
        if line.strip():
            return line.strip()
    return ""


def check_hook_fold(platform: Platform, variant: Variant, settings: Settings) -> list[Problem]:
    """LinkedIn shows about 210 characters before "see more": the first line must end
    before the fold so the hook reads as a whole."""
    if not variant.posts or platform.fold is None:
        return []
    line = first_line(variant.posts[0])
    n = units.characters(line)
    if n <= platform.fold:
        return []
    return [
        Problem(
            code="hook_too_long",
            message=(
                f"The first line is {t.fmt(n)} characters; {platform.name} shows about "
                f"{platform.fold} before “see more”, so end the opening line sooner."
            ),
            part="posts",
            index=0,
        )
    ]


# --- the platforms --------------------------------------------------------------------------

_HOOK = FieldSpec("hook", 150, "hook", derive_chars=150)
_CAPTION = FieldSpec(
    "caption", 4000, "caption", max_hashtags=5, links_allowed=False, derive_chars=150
)
# YouTube refuses "<" and ">" in a video's title and description.
_TITLE = FieldSpec("title", 100, "title", derive_chars=100, forbidden="<>")
_DESCRIPTION = FieldSpec(
    "description", 5000, "description", max_hashtags=15, derive_chars=5000, forbidden="<>"
)
_SUBJECT = FieldSpec("subject", 150, "subject", advise_above=60, derive_chars=60)
_PREVIEW = FieldSpec("preview", 150, "preview text", derive_chars=150, derive_from="second")

_PLATFORM_LIST = [
    Platform(
        id="x",
        name="X",
        unit="weighted characters",
        limit=280,
        thread=True,
        fields=(),
        max_hashtags=2,
        links_allowed=True,
        description=(
            "Posts of up to 280 weighted characters: links count 23, emoji and CJK "
            "characters count 2. Longer text becomes a numbered thread (1/5, 2/5...)."
        ),
        format="thread",
        post_noun="post",
        length_rules=(LengthRule(_x, 280, "characters", setting="x_limit"),),
        numbered=True,
    ),
    Platform(
        id="linkedin",
        name="LinkedIn",
        unit="characters",
        limit=3000,
        thread=False,
        fields=(),
        max_hashtags=5,
        links_allowed=True,
        description=(
            "One post of up to 3,000 characters. About 210 characters show before "
            "“see more”, so the first line is a hook that stands on its own."
        ),
        format="post",
        post_noun="post",
        length_rules=(LengthRule(_chars, 3000, "characters"),),
        fold=210,
        checks=(check_hook_fold,),
    ),
    Platform(
        id="instagram",
        name="Instagram",
        unit="characters",
        limit=2200,
        thread=False,
        fields=(),
        max_hashtags=5,
        links_allowed=False,
        description=(
            "A caption of up to 2,200 characters. Links are not clickable in captions, so "
            "none go in; up to 5 hashtags by default (Instagram allows 30)."
        ),
        format="caption",
        post_noun="caption",
        length_rules=(LengthRule(_chars, 2200, "characters"),),
        hashtag_setting="instagram_hashtag_cap",
    ),
    Platform(
        id="threads",
        name="Threads",
        unit="characters",
        limit=500,
        thread=True,
        fields=(),
        max_hashtags=1,
        links_allowed=True,
        description=(
            "Posts of up to 500 characters (an emoji counts its UTF-8 bytes, 4 for most), "
            "one topic tag and at most 5 links per post; longer text becomes a thread."
        ),
        format="thread",
        post_noun="post",
        length_rules=(LengthRule(_threads, 500, "characters"),),
        max_links=5,
    ),
    Platform(
        id="bluesky",
        name="Bluesky",
        unit="graphemes",
        limit=300,
        thread=True,
        fields=(),
        max_hashtags=3,
        links_allowed=True,
        description=(
            "Posts of up to 300 characters as people see them (an emoji or flag counts "
            "1) and 3,000 bytes; links count in full. Longer text becomes a thread."
        ),
        format="thread",
        post_noun="post",
        length_rules=(
            LengthRule(_graphemes, 300, "characters"),
            LengthRule(_bytes, 3000, "bytes"),
        ),
    ),
    Platform(
        id="mastodon",
        name="Mastodon",
        unit="characters",
        limit=500,
        thread=True,
        fields=(),
        max_hashtags=5,
        links_allowed=True,
        description=(
            "Posts of up to 500 characters on most servers (set yours in the options); "
            "every link counts 23 and @user@server counts only @user. Longer text "
            "becomes a thread."
        ),
        format="thread",
        post_noun="post",
        length_rules=(LengthRule(_mastodon, 500, "characters", setting="mastodon_limit"),),
    ),
    Platform(
        id="facebook",
        name="Facebook",
        unit="characters",
        limit=63206,
        thread=False,
        fields=(),
        max_hashtags=3,
        links_allowed=True,
        description=(
            "One post of up to 63,206 characters; short posts (under about 500 characters) do best."
        ),
        format="post",
        post_noun="post",
        length_rules=(LengthRule(_chars, 63206, "characters"),),
        recommended_length=500,
    ),
    Platform(
        id="tiktok",
        name="TikTok",
        unit="seconds",
        limit=60,
        thread=False,
        fields=(_HOOK, _CAPTION),
        max_hashtags=5,
        links_allowed=False,
        description=(
            "A spoken script (a hook, then short beats) timed at 150 words a minute to "
            "about 60 seconds (up to 10 minutes), plus a caption of up to 4,000 "
            "characters with at most 5 hashtags and no links."
        ),
        format="script",
        post_noun="script",
        length_rules=(LengthRule(_seconds, 60, "seconds", setting="tiktok_seconds"),),
        hashtag_part="caption",
    ),
    Platform(
        id="youtube_shorts",
        name="YouTube Shorts",
        unit="seconds",
        limit=60,
        thread=False,
        fields=(_TITLE, _DESCRIPTION),
        max_hashtags=15,
        links_allowed=True,
        description=(
            "A spoken script of about 60 seconds at 150 words a minute, a title of up to "
            "100 characters and a description of up to 5,000."
        ),
        format="script",
        post_noun="script",
        length_rules=(LengthRule(_seconds, 60, "seconds", setting="youtube_shorts_seconds"),),
        hashtag_part="description",
    ),
    Platform(
        id="newsletter",
        name="Newsletter",
        unit="characters",
        limit=50000,
        thread=False,
        fields=(_SUBJECT, _PREVIEW),
        max_hashtags=None,
        links_allowed=True,
        description=(
            "An email: a subject line (up to 150 characters; under 60 reads best in "
            "inboxes), preview text of up to 150 characters, and the body."
        ),
        format="email",
        post_noun="body",
        length_rules=(LengthRule(_chars, 50000, "characters"),),
    ),
]

PLATFORMS: Mapping[str, Platform] = MappingProxyType({p.id: p for p in _PLATFORM_LIST})
"""Every platform, in the order the product shows them."""
