"""Sources: turning pasted text, files and links into one document model.

- ``parse(text)``: pasted (or stored) text into a ``Document``, its format detected
  (Markdown, reStructuredText, HTML or plain text), its title taken from the document
  itself: a ``Title:`` header field, a Markdown ``#`` heading or front matter, an RST title,
  an HTML ``<title>``/``<h1>``; only a document without one gets a title made from its first
  sentence, shortened at a word boundary.
- ``extract_file(name, data)``: a file into the composer's text (``files``).
- ``import_url(url)``: a web page, fetched safely (``urlimport``).
- ``text``: the one tokenizer and sentence segmenter everything else uses.

A module per format: ``markdown``, ``rst``, ``html``, ``plain``, ``docx``, ``pdf``; bytes are
recognised by ``sniff`` and decoded by ``decode``; archives are checked by ``archive``.
"""

from __future__ import annotations

import re

from omnipostr.sources.detect import detect_format
from omnipostr.sources.errors import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_CHARS,
    Extracted,
    ExtractError,
    check_length,
    human_size,
    size_error,
)
from omnipostr.sources.model import HTML_TAG, Block, Document, Sentence
from omnipostr.sources.text import count_words, normalize_text, reading_minutes

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_CHARS",
    "Block",
    "Document",
    "Extracted",
    "ExtractError",
    "SUPPORTED_EXTENSIONS",
    "Sentence",
    "count_words",
    "detect_format",
    "extract_file",
    "human_size",
    "make_title",
    "normalize_text",
    "parse",
    "reading_minutes",
    "size_error",
    "validate_text",
]

TITLE_MAX = 200
_HEADER_LINE = re.compile(r"^(?P<key>[A-Z][A-Za-z-]{1,30}):[ \t]+(?P<value>\S.*)$")


def _header_fields(text: str) -> tuple[dict[str, str], str]:
    """A block of ``Key: value`` lines at the very top (a PEP's or an email's header), when
    it names a Title: the fields, and the text without them."""
    lines = text.split("\n")
    fields: dict[str, str] = {}
    end = 0
    key = ""
    for i, line in enumerate(lines):
        if not line.strip():
            end = i
            break
        m = _HEADER_LINE.match(line)
        if m:
            key = m.group("key").lower()
            fields[key] = m.group("value").strip()
        elif key and line[:1] in (" ", "\t"):
            fields[key] += " " + line.strip()
        else:
            return {}, text
    else:
        end = len(lines)
    if len(fields) < 2 or "title" not in fields:
        return {}, text
    return fields, "\n".join(lines[end:]).strip()


def make_title(text: str, limit: int = TITLE_MAX) -> str:
    """A title as stored and shown: one line, no Markdown marks, shortened at a word boundary
    (with "…") when longer than ``limit``."""
    title = " ".join(normalize_text(text).split())
    title = HTML_TAG.sub("", title).strip("#").strip()
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–—") + "…"


def _fallback_title(doc: Document) -> str:
    """For a document without a title: its first sentence of prose (a paragraph's before a
    list item's), shortened at a word boundary."""
    sentences = [s for s in doc.sentences if s.kind != "heading"]
    first = next((s.text for s in sentences if s.kind == "paragraph" and count_words(s.text) >= 4), "")
    first = first or next((s.text for s in sentences), "")
    return make_title(first, 90) if first else "Untitled"


def parse(text: str, *, fmt: str | None = None, title_hint: str = "") -> Document:
    """``text`` as a ``Document`` (see the module docstring). ``fmt`` forces a format."""
    text = normalize_text(text)
    fields, body = _header_fields(text)
    fmt = fmt or detect_format(body)
    if fmt == "markdown":
        from omnipostr.sources import markdown as reader
    elif fmt == "rst":
        from omnipostr.sources import rst as reader
    elif fmt == "html":
        from omnipostr.sources import html as reader
    else:
        from omnipostr.sources import plain as reader
    try:
        doc = reader.parse(body, title_hint="")
    except Exception:  # a parser that trips on odd input: the words still read as plain text
        if fmt == "plain":
            raise
        from omnipostr.sources import plain

        doc = plain.parse(body)
        fmt = "plain"
    if fields.get("title"):
        doc.title, doc.title_from_source = fields["title"], True
    if not doc.title:
        doc.title, doc.title_from_source = title_hint or _fallback_title(doc), False
    doc.title = make_title(doc.title)
    return doc


def validate_text(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Normalise pasted text and check it is neither empty nor too long."""
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    clean = normalize_text(text)
    if not clean:
        raise ExtractError("The text is empty: paste an article, post or script first.")
    check_length(clean, max_chars, "This text is")
    return clean


def __getattr__(name: str):
    # the file and link readers import heavier libraries: loaded when first asked for
    if name in ("extract_file", "extract_bytes", "SUPPORTED_EXTENSIONS"):
        from omnipostr.sources import files

        return getattr(files, name)
    if name == "import_url":
        from omnipostr.sources.urlimport import import_url

        return import_url
    raise AttributeError(name)
