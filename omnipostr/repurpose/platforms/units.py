"""How each platform measures the length of a text.

- X: the weighted length of twitter-text's v3 rules (``twitter-text-parser``): text is NFC
  normalised; most Latin, Greek, Cyrillic, Hebrew, Arabic and Indic characters and some
  punctuation weigh 1; everything else (CJK, most symbols, emoji) weighs 2; an emoji
  sequence the library knows (Unicode emoji 12) weighs 2 as a whole; every URL, with or
  without ``https://``, weighs 23. Emoji sequences newer than emoji 12 (for example ❤️‍🔥 or
  🧑‍🧑‍🧒) are weighed per component, so they count more than 2: we over-count them rather
  than risk a post X rejects.
- Threads: Meta's Threads API documents "text posts are limited to 500 characters" and
  "emojis are counted as the number of UTF-8 bytes". So an emoji cluster counts its UTF-8
  bytes (😀 = 4, ❤️ = 6, 👨‍👩‍👧‍👦 = 25) and any other character counts its UTF-16 code units
  (1 for nearly all text; 2 for rare astral characters such as 𝗯𝗼𝗹𝗱 letters). URLs count
  in full.
- Bluesky: the post record's limits: 300 graphemes and 3,000 UTF-8 bytes. URLs count in full
  (the record keeps the whole URL even when the app shows it shortened).
- Mastodon: as Mastodon's ``StatusLengthValidator`` does: grapheme clusters, every URL with a
  scheme counts 23, and ``@user@domain`` counts as ``@user``.
- Everything else counts "characters" as UTF-16 code units (what a browser's text field
  counts; an emoji counts 2). That is the conservative reading of the platforms' limits.
"""

from __future__ import annotations

import functools

import regex
from twitter_text import extract_urls_with_indices, parse_tweet

from omnipostr.repurpose.platforms.text import (
    grapheme_length,
    graphemes,
    is_emoji,
    utf8_length,
    utf16_length,
)

URL_WEIGHT = 23

_MASTODON_MENTION = regex.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@\w+(?:[.-]+\w+)*)?", regex.IGNORECASE
)


def x_weighted_length(text: str) -> int:
    if not text:
        return 0
    if text.isascii():
        # Same result as parse_tweet for ASCII text (every ASCII character weighs 1 and no
        # ASCII character is an emoji), without its costly emoji scan.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        urls = extract_urls_with_indices(text)
        return len(text) - sum(len(u["url"]) for u in urls) + URL_WEIGHT * len(urls)
    return _x_parsed_length(text)


@functools.lru_cache(maxsize=4096)
def _x_parsed_length(text: str) -> int:
    """parse_tweet's emoji scan takes 2.6 ms for a post of 200 characters, and a post being
    shown is measured again at every change of its card (each streamed part, then the stored
    post): the same text is weighed once."""
    return parse_tweet(text).weightedLength


def threads_length(text: str) -> int:
    total = 0
    for cluster in graphemes(text):
        total += utf8_length(cluster) if is_emoji(cluster) else utf16_length(cluster)
    return total


def mastodon_countable_text(text: str) -> str:
    """The text Mastodon counts: URLs replaced by 23 characters, remote mentions shortened
    to the user part."""
    spans: list[tuple[int, int, str]] = []
    for entity in extract_urls_with_indices(text, False):
        start, end = entity["indices"]
        spans.append((start, end, "x" * URL_WEIGHT))
    for m in _MASTODON_MENTION.finditer(text):
        if any(s < m.end() and m.start() < e for s, e, _ in spans):
            continue
        spans.append((m.start(), m.end(), "@" + m.group(1)))
    out = []
    pos = 0
    for start, end, replacement in sorted(spans):
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def mastodon_length(text: str) -> int:
    return grapheme_length(mastodon_countable_text(text))


def characters(text: str) -> int:
    return utf16_length(text)


__all__ = [
    "URL_WEIGHT",
    "characters",
    "grapheme_length",
    "mastodon_countable_text",
    "mastodon_length",
    "threads_length",
    "utf8_length",
    "utf16_length",
    "x_weighted_length",
]
