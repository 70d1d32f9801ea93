"""Platform rules: what a post may be on each network, and how to make it so.

Public API (stable):

- ``PLATFORMS``: ordered mapping id -> :class:`Platform` (id, name, unit, limit, thread,
  fields, max_hashtags, links_allowed, description, format, length_rules, ...).
- ``measure(platform_id, text, settings=None, part="posts") -> int``: length in the
  platform's unit; ``limit(platform_id, part="posts", settings=None) -> int``;
  ``unit(platform_id, part="posts") -> str``; ``fits(...) -> bool``.
- ``validate(platform_id, variant, settings=None) -> list[Problem]`` (empty = valid) and
  ``advise(...)`` for softer suggestions that never make a variant invalid.
- ``split_thread(platform_id, text, settings=None, numbered=True) -> list[str]``.
- ``bare(platform_id, posts)``, ``thread_marks(platform_id, count)`` and
  ``outgoing(platform_id, posts)``: on a platform that numbers its threads (X) the numbers
  are drawn, not typed: posts are stored bare, the marks are drawn beside them, and
  ``outgoing`` adds them for copy, export and publishing.
- ``renumber(posts) -> list[str]``: a thread numbered by hand, numbered again after an edit.
- ``repair(platform_id, variant, settings=None) -> Variant``: deterministic; the result
  passes ``validate``.
- ``estimate_duration_seconds(text, wpm=150) -> int`` and ``script_beats(text)``.

``settings`` is ``Options.platform_settings``: ``x_limit``, ``mastodon_limit``,
``instagram_hashtag_cap``, ``tiktok_seconds``, ``youtube_shorts_seconds``, ``script_wpm``
(see ``SETTINGS`` for defaults and ranges).
"""

from omnipostr.repurpose.platforms.catalog import (
    PLATFORMS,
    SETTINGS,
    FieldSpec,
    LengthRule,
    Platform,
    setting,
)
from omnipostr.repurpose.platforms.rules import (
    UnknownPlatform,
    advise,
    bare,
    cap_hashtags,
    estimate_duration_seconds,
    fits,
    get_platform,
    limit,
    measure,
    numbering,
    outgoing,
    remove_links,
    renumber,
    repair,
    replace_forbidden,
    split_thread,
    strip_numbering,
    thread_marks,
    unit,
    validate,
)
from omnipostr.repurpose.platforms.text import find_links, hashtags, script_beats

__all__ = [
    "PLATFORMS",
    "SETTINGS",
    "FieldSpec",
    "LengthRule",
    "Platform",
    "UnknownPlatform",
    "advise",
    "bare",
    "cap_hashtags",
    "estimate_duration_seconds",
    "find_links",
    "fits",
    "get_platform",
    "hashtags",
    "limit",
    "measure",
    "numbering",
    "outgoing",
    "remove_links",
    "renumber",
    "repair",
    "replace_forbidden",
    "script_beats",
    "setting",
    "split_thread",
    "strip_numbering",
    "thread_marks",
    "unit",
    "validate",
]
