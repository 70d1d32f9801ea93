"""What a reader would catch in a post made from a document, as functions the tests share:
markup that leaked, code, words cut short, sentences that are fragments or not the
document's, identifiers altered.

The offline engine writes only whole sentences of the document plus a little framing (the
user's call to action and link, hashtags, thread numbers, beat times in scripts, emoji and a
few labels); ``stray_sentences`` strips that framing and finds anything else.
"""

from __future__ import annotations

import re

from omnipostr import sources
from omnipostr.repurpose.engines.base import Options
from omnipostr.repurpose.platforms import text as ptext
from omnipostr.repurpose.variant import Variant
from omnipostr.sources.text import has_cjk as cjk

_LABELS = (
    "Read more|Read the full article|Key points|Link in bio\\.|Leer más|Lee el artículo completo|Puntos clave|"
    "Lire la suite|Points clés|Weiterlesen|Das Wichtigste|続きを読む|記事の全文を読む|ポイント|リンクはプロフィールから。|"
    "阅读更多|阅读全文|要点|链接见简介。"
)
_FRAMING = [
    re.compile(r"\s\d{1,3}/\d{1,3}$", re.M),  # thread numbers
    re.compile(r"(?:^|(?<=\s))(?:#\w+[ \t]*)+$", re.M),  # the hashtags that close a post
    re.compile(r"\[\d{1,2}:\d{2}\]\s*"),  # beat times of a script
    re.compile(rf"^(?:{_LABELS}):?\s*", re.M),
    re.compile(r"^- ", re.M),
]

# Markup of any of the formats a document comes in, which a post must never carry.
_HTML_TAGS = (
    "a|abbr|b|blockquote|body|br|center|code|dd|del|details|div|dl|dt|em|figcaption|figure|font|h[1-6]|head|hr|html|i|"
    "img|ins|kbd|li|nav|ol|p|picture|pre|s|script|section|small|source|span|strong|style|sub|summary|sup|table|"
    "tbody|td|th|thead|tr|u|ul|video"
)
MARKUP = [
    ("Markdown emphasis", re.compile(r"\*\*\w|\w\*\*")),
    ("a Markdown link", re.compile(r"\]\(|\]\[|^\[[^\]]+\]:\s", re.M)),
    ("a Markdown heading", re.compile(r"^#{1,6}\s", re.M)),
    ("a code fence", re.compile(r"```|~~~")),
    ("a backtick", re.compile(r"`")),
    ("an RST role", re.compile(r":[a-z][\w:-]*:`|:[a-z]+:(?=\w)")),
    ("an RST directive", re.compile(r"^\.\.\s|\.\.\s+[a-z-]+::", re.M)),
    ("an RST literal marker", re.compile(r"::\s*$", re.M)),
    ("an RST footnote reference", re.compile(r"\[(?:\d+|#\w*|\*)\]_")),
    ("an RST link", re.compile(r"<https?://[^>]*>`_|`_")),
    ("an RST substitution", re.compile(r"\|[\w-]+\|")),
    ("an HTML tag", re.compile(rf"</?(?:{_HTML_TAGS})(?:\s[^>]*)?/?>", re.I)),
    ("a Markdown footnote", re.compile(r"\[\^[^\]]+\]")),
    ("an HTML entity", re.compile(r"&(?:[a-z]+|#\d+);")),
    ("a table row", re.compile(r"^\|.*\|$", re.M)),
    ("an underline", re.compile(r"^[=\-~^*]{3,}$", re.M)),
]


def markup_in(text: str, code: list[str] | None = None) -> list[str]:
    """The kinds of markup in ``text`` (inline ``code`` spans, kept as written, aside)."""
    for span in code or ():
        text = text.replace(span, " ")
    return [name for name, pattern in MARKUP if pattern.search(text)]


def parts(variant: Variant) -> list[str]:
    return [*variant.fields.values(), *variant.posts]


def strip_framing(text: str, options: Options) -> str:
    if options.call_to_action:
        text = text.replace(options.call_to_action, "")
    if options.link:
        text = text.replace(options.link, "")
    text = "".join(g for g in ptext.graphemes(text) if not ptext.is_emoji(g))
    text = re.sub(r"^[ \t]+", "", text, flags=re.M)
    for pattern in _FRAMING:
        text = pattern.sub("", text)
    return text


def _norm(text: str) -> str:
    text = "".join(g for g in ptext.graphemes(text) if not ptext.is_emoji(g))
    return " ".join(text.replace("\u2026", " ").split())


def stray_sentences(variant: Variant, doc: sources.Document, options: Options) -> list[str]:
    """Lines of a post that are not whole sentences of the document (or its title, or the
    title shortened at a word boundary). Several sentences may share a line."""
    units = {_norm(s.text) for s in doc.sentences} | {_norm(doc.title)}
    strays = []
    for part in parts(variant):
        for line in strip_framing(part, options).split("\n"):
            rest = _norm(line.strip(" :"))
            if not rest:
                continue
            # peel whole sentences off the front of the line, longest first
            while rest:
                match = max(
                    (u for u in units if u and (rest == u or rest.startswith(u + " ") or (cjk(u) and rest.startswith(u)))),
                    key=len, default="",
                )
                if not match:
                    title = _norm(doc.title)
                    if line.rstrip().endswith("…") and title.startswith(rest) and title[len(rest) : len(rest) + 1] in (" ", ""):
                        rest = ""  # the title shortened at a word boundary
                        break
                    strays.append(rest)
                    break
                rest = rest[len(match) :].strip()
    return strays


def code_lines(variant: Variant, doc: sources.Document) -> list[str]:
    """Lines of the document's code blocks that turn up in a post."""
    text = "\n".join(parts(variant))
    found = []
    for b in doc.blocks:
        if b.kind != "code":
            continue
        for line in b.text.split("\n"):
            line = line.strip()
            if len(line) >= 12 and line in text:
                found.append(line)
    return found


def altered_identifiers(variant: Variant, source_text: str) -> list[str]:
    """Identifier-like words of a post (``__init__``, ``Foo.__a``, ``snake_case``) that the
    source does not contain exactly as written."""
    text = "\n".join(parts(variant))
    return [w for w in re.findall(r"[\w.]*_[\w.]*\w|\w+\.\w[\w.]*\w", text) if "_" in w and w not in source_text]
