"""Turning what a user brings (a file or pasted text) into the composer's source text.

``extract_file`` reads .txt, .md/.markdown, .html/.htm, .docx and .pdf files and returns an
``Extracted`` value: a title, clean plain text, word count and reading time, and warnings the
composer shows (a guessed encoding, replaced bytes, a file whose name did not match its
content). ``validate_text`` applies the same normalisation and limits to pasted text.

Everything that goes wrong raises ``ExtractError`` with a message written for the user; no
other exception escapes for bad input. The functions are CPU-bound and synchronous: call them
from a worker thread (``asyncio.to_thread``) in async code.

Normalisation (all sources): Unicode NFC; ``\\r\\n``, ``\\r``, form feeds and Unicode line
separators become ``\\n``; control characters other than newline and tab are removed;
invisible characters (zero-width space, word joiner, byte-order mark, soft hyphen,
bidirectional overrides) are removed, while zero-width joiners that sit inside a word or an
emoji sequence are kept because they change how those render; trailing spaces are trimmed;
runs of blank lines collapse to one.
"""

from __future__ import annotations

import codecs
import io
import math
import re
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import PurePath

import regex

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_CHARS",
    "ExtractError",
    "Extracted",
    "SUPPORTED_EXTENSIONS",
    "count_words",
    "extract_file",
    "normalize_text",
    "reading_minutes",
    "validate_text",
]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_CHARS = 200_000
WORDS_PER_MINUTE = 238

SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".docx": "docx",
    ".pdf": "pdf",
}
_SUPPORTED_SENTENCE = "OmniPostr reads .txt, .md, .html, .docx and .pdf files"
_KIND_LABEL = {"pdf": "a PDF", "docx": "a Word document (.docx)"}

# Archives (a .docx is a ZIP) are checked from their central directory before anything is
# inflated: every member counts, wherever it sits. ZipFile never inflates a member past the
# size the directory declares, so these bounds hold even for a lying directory.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024  # all members together
MAX_ARCHIVE_MEMBERS = 2000
MAX_RATIO = 100  # uncompressed / compressed, for a member over RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
# PDF: every stream is inflated under these bounds; a document is read within a time budget.
MAX_PDF_STREAM_BYTES = 16 * 1024 * 1024
MAX_PDF_PAGES = 2000
PDF_SECONDS = 20.0
_TITLE_MAX = 200


class ExtractError(Exception):
    """Input we cannot turn into text. ``message`` is written for the person who sent it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass
class Extracted:
    title: str
    text: str
    kind: str
    """"txt", "md", "html", "docx" or "pdf": how the text was read."""
    words: int
    reading_minutes: int
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Normalisation, counting, limits
# ---------------------------------------------------------------------------------------------

_NEWLINES = re.compile(r"\r\n?|[\f\v\x1c-\x1e\x85\u2028\u2029]")
# C0 and C1 controls except \t and \n, DEL, invisible format characters that carry no meaning
# in plain text (ZWSP, word joiner, BOM, soft hyphen, Mongolian vowel separator, invisible
# math operators, bidi embeddings/overrides/isolates).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u180e\u200b\u2060-\u2064\u202a-\u202e\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
# Zero-width (non-)joiners are meaningful between two visible characters (emoji sequences,
# Persian and Indic scripts); elsewhere they are noise.
_STRAY_JOINER = re.compile(r"(?:(?<=\s)|^)[\u200c\u200d]+|[\u200c\u200d]+(?=\s|$)", re.M)
_TRAILING_SPACE = re.compile(r"[ \t\u00a0\u3000]+$", re.M)
_BLANK_RUNS = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """The canonical form every source text is stored in (see the module docstring)."""
    text = _NEWLINES.sub("\n", text)
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _STRAY_JOINER.sub("", text)
    text = _TRAILING_SPACE.sub("", text)
    text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()


_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}\u3005\u3006\u30fc\uff66-\uff9f"
_WORD_CHAR = rf"[\p{{L}}\p{{N}}\p{{M}}--[{_CJK}]]"
_WORD = regex.compile(
    rf"[{_CJK}]|{_WORD_CHAR}+(?:['’.\-]{_WORD_CHAR}+)*",
    regex.V1,
)


def count_words(text: str) -> int:
    """Words in ``text``: runs of letters, marks and digits (``don't``, ``e-mail`` and ``3.5``
    are one word each); every Chinese character and Japanese kana counts as a word, as
    reading-time estimates for those languages do. Punctuation and emoji are not words."""
    return sum(1 for _ in _WORD.finditer(text))


def reading_minutes(words: int, wpm: int = WORDS_PER_MINUTE) -> int:
    """Minutes to read ``words`` words, rounded to the nearest minute, at least 1 for any text."""
    if wpm <= 0:
        raise ValueError("wpm must be positive")
    if words <= 0:
        return 0
    return max(1, math.floor(words / wpm + 0.5))


def _check_length(text: str, max_chars: int, what: str) -> None:
    if len(text) > max_chars:
        raise ExtractError(
            f"{what} {len(text):,} characters long; the limit is {max_chars:,} characters."
        )


def validate_text(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Normalise pasted text and check it is neither empty nor too long."""
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    clean = normalize_text(text)
    if not clean:
        raise ExtractError("The text is empty: paste an article, post or script first.")
    _check_length(clean, max_chars, "This text is")
    return clean


def human_size(n: int) -> str:
    mb = 1024 * 1024
    if n >= mb:
        return f"{n / mb:.1f}".removesuffix(".0") + " MB"
    if n >= 1024:
        return f"{n / 1024:.1f}".removesuffix(".0") + " KB"
    return f"{n} bytes"


def size_error(size: int, limit: int, what: str = "This file") -> ExtractError:
    shown, limit_shown = human_size(size), human_size(limit)
    if shown == limit_shown:
        shown = f"over {limit_shown}"
    return ExtractError(f"{what} is {shown}; the limit is {limit_shown}.")


# ---------------------------------------------------------------------------------------------
# Recognising content
# ---------------------------------------------------------------------------------------------

_MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF-", "pdf"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"PK\x07\x08", "zip"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"BM", ""),  # checked with the NUL heuristic below, "BM" starts ordinary words too
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x00\x00\x01\x00", "an icon image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"\x1f\x8b", "a compressed (gzip) file"),
    (b"BZh", ""),
    (b"\xfd7zXZ\x00", "a compressed (xz) file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program"),
    (b"MZ", ""),
    (b"\xca\xfe\xba\xbe", "a program"),
    (b"\xcf\xfa\xed\xfe", "a program"),
    (b"\x00asm", "a program"),
    (b"SQLite format 3\x00", "a database file"),
    (b"OggS", "an audio file"),
    (b"fLaC", "an audio file"),
    (b"ID3", "an audio file"),
    (b"{\\rtf", "an RTF document"),
    (b"wOFF", "a font file"),
    (b"wOF2", "a font file"),
]
_BOMS: list[tuple[bytes, str]] = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]


def _bom(data: bytes) -> tuple[str, int] | None:
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return enc, len(bom)
    return None


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a byte-order mark: mostly-ASCII text has a NUL in every
    other byte."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    sample = sample[: len(sample) // 2 * 2]
    pairs = len(sample) // 2
    even = sum(1 for b in sample[0::2] if b == 0)
    odd = sum(1 for b in sample[1::2] if b == 0)
    if odd >= pairs * 0.3 and even <= pairs * 0.02:
        enc = "utf-16-le"
    elif even >= pairs * 0.3 and odd <= pairs * 0.02:
        enc = "utf-16-be"
    else:
        return None
    # binary data can have the same pattern: the text must read as mostly printable
    sample_text = sample[: max(2, len(sample) - 2)].decode(enc, errors="replace")
    bad = sum(1 for ch in sample_text if ch == "\ufffd" or (ch < " " and ch not in "\t\n\r\f"))
    return enc if bad <= len(sample_text) * 0.02 else None


def _sniff(data: bytes) -> str:
    """ "pdf", "docx", "text", or a description of the binary content (e.g. "a PNG image")."""
    if _bom(data) or _utf16_without_bom(data):
        return "text"
    head = data[:16]
    for magic, what in _MAGIC:
        if head.startswith(magic):
            if what == "pdf":
                return "pdf"
            if what == "zip":
                return _sniff_zip(data)
            if what == "ole":
                return "ole"
            if what:
                return what
            break
    if b"%PDF-" in data[:1024]:  # a PDF may carry a little junk before its header
        return "pdf"
    if data[12:16] == b"WEBP" and data.startswith(b"RIFF"):
        return "a WebP image"
    if data[4:8] == b"ftyp":
        return "a video or image file"
    sample = data[:8192]
    if b"\x00" in sample:
        return "binary data"
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    if controls > max(8, len(sample) // 20):
        return "binary data"
    return "text"


def _sniff_zip(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "a ZIP archive"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "an Excel spreadsheet"
    if "ppt/presentation.xml" in names:
        return "a PowerPoint presentation"
    if "content.xml" in names and "mimetype" in names:
        return "an OpenDocument file"
    if "META-INF/container.xml" in names:
        return "an e-book (EPUB)"
    return "a ZIP archive"


# ---------------------------------------------------------------------------------------------
# Decoding text
# ---------------------------------------------------------------------------------------------

_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, list[str]]:
    """Decode a text file: a byte-order mark wins, then a declared charset (an HTTP header or
    an HTML meta tag), then UTF-8. Bytes that are not UTF-8 are read as Windows-1252 (or
    Latin-1) when nothing in the file looks like UTF-8, and replaced otherwise; both add a
    warning."""
    warnings: list[str] = []
    bom = _bom(data)
    if bom:
        enc, skip = bom
        text = data[skip:].decode(enc, errors="replace")
        if "\ufffd" in text and "\ufffd".encode(enc) not in data[skip:]:
            warnings.append(_replaced_warning(enc))
        return text, warnings
    utf16 = _utf16_without_bom(data)
    if utf16:
        text = data.decode(utf16, errors="replace")
        if "\ufffd" in text:
            warnings.append(_replaced_warning("UTF-16"))
        return text, warnings
    if declared:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            codec = None
        if codec and codec not in ("utf-8", "ascii", "us-ascii"):
            if codec in ("latin-1", "iso8859-1"):
                codec = "cp1252"  # what browsers do with a latin-1 label
            try:
                return data.decode(codec), warnings
            except UnicodeDecodeError:
                pass  # the label is wrong: fall through to the checks below
    try:
        return data.decode("utf-8"), warnings
    except UnicodeDecodeError:
        pass
    if _UTF8_MULTIBYTE.search(data):
        text = data.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        warnings.append(
            f"This file is not valid UTF-8: {bad:,} unreadable "
            f"{'character was' if bad == 1 else 'characters were'} replaced with \ufffd."
        )
        return text, warnings
    try:
        text = data.decode("cp1252")
        warnings.append(
            "This file is not UTF-8; OmniPostr read it as Windows-1252 (Western European). "
            "Check accented letters and quotes."
        )
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        warnings.append(
            "This file is not UTF-8; OmniPostr read it as Latin-1 (Western European). "
            "Check accented letters and quotes."
        )
    return text, warnings


def _replaced_warning(enc: str) -> str:
    return f"Some bytes of this file are not valid {enc.upper()}; they were replaced with \ufffd."


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.\-]+)""", re.I)


def decode_html(data: bytes, declared: str | None = None) -> tuple[str, list[str]]:
    """Decode an HTML document: BOM, then the declared (HTTP) charset, then the document's
    own ``<meta charset>`` or XML declaration, then UTF-8 with the usual fallbacks."""
    if not declared:
        head = data[:4096]
        m = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
        if m:
            declared = m.group(1).decode("ascii", "replace")
    return decode_text(data, declared)


# ---------------------------------------------------------------------------------------------
# Plain text and Markdown
# ---------------------------------------------------------------------------------------------

_TITLE_END_PUNCT = (".", ",", ";", "!", "?")


def _title_from_text(text: str, fallback: str) -> str:
    for line in text.split("\n"):
        line = line.strip().lstrip("#").strip()
        if line:
            if len(line) <= 120 and not line.endswith(_TITLE_END_PUNCT):
                return line
            break
    return fallback


def _title_from_filename(filename: str) -> str:
    stem = PurePath(filename.replace("\\", "/")).stem if filename else ""
    stem = re.sub(r"[_\s]+", " ", stem).strip()
    return stem or "Untitled"


def _clip_title(title: str) -> str:
    title = " ".join(normalize_text(title).split())
    if len(title) > _TITLE_MAX:
        title = title[: _TITLE_MAX - 1].rstrip() + "…"
    return title


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FRONT_TITLE = re.compile(r"^title\s*:\s*(.+?)\s*$", re.M | re.I)


def markdown_to_text(source: str) -> tuple[str, str | None]:
    """Readable plain text from Markdown, and the document's title if it names one.

    Headings become their own lines, emphasis and code markers go, links become
    ``text (url)``, images their alt text, list items ``- item`` / ``1. item``, table rows
    ``a | b``, code blocks stay as written, and raw HTML is reduced to its text (scripts and
    styles dropped)."""
    from markdown_it import MarkdownIt

    title: str | None = None
    m = _FRONT_MATTER.match(source)
    if m:
        t = _FRONT_TITLE.search(m.group(1))
        if t:
            title = t.group(1).strip().strip("\"'")
        source = source[m.end() :]

    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    tokens = md.parse(source)
    blocks: list[str] = []
    lists: list[list] = []  # one [ordered, next number] per open list
    in_row: list[str] | None = None
    pending_marker = ""
    new_block = True
    first_heading: str | None = None

    def emit(text: str, tight: bool) -> None:
        nonlocal pending_marker, new_block
        if pending_marker:
            text = pending_marker + text
            pending_marker = ""
        elif lists:
            text = "  " * len(lists) + text  # a later paragraph of the same list item
        if blocks and tight and not new_block:
            blocks[-1] += "\n" + text
        else:
            blocks.append(text)
        new_block = False

    for tok in tokens:
        t = tok.type
        if t in ("bullet_list_open", "ordered_list_open"):
            if pending_marker:  # a list nested right at the start of an item
                emit("", tight=True)
            start = int(tok.attrs.get("start", 1) or 1) if t == "ordered_list_open" else 0
            lists.append([t == "ordered_list_open", start])
            if len(lists) == 1:
                new_block = True
        elif t in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                new_block = True
        elif t == "list_item_open":
            ordered, n = lists[-1]
            marker = f"{tok.info or n}. " if ordered else "- "
            if ordered:
                lists[-1][1] = n + 1
            pending_marker = "  " * (len(lists) - 1) + marker
        elif t == "list_item_close":
            if pending_marker:  # an empty item
                emit("", tight=True)
        elif t == "inline":
            text = _render_inline(tok.children or [])
            if in_row is not None:
                in_row.append(" ".join(text.split()))
            else:
                emit(text, tight=bool(lists))
        elif t == "heading_close":
            if first_heading is None and blocks:
                first_heading = blocks[-1].strip()
        elif t in ("fence", "code_block"):
            emit(tok.content.rstrip("\n"), tight=bool(lists))
        elif t == "html_block":
            text = html_fragment_to_text(tok.content)
            if text:
                emit(text, tight=bool(lists))
        elif t == "table_open":
            new_block = True
        elif t == "tr_open":
            in_row = []
        elif t == "tr_close":
            emit(" | ".join(in_row or []), tight=True)
            in_row = None
        # paragraphs, blockquotes, rules, emphasis and table sections need no output
    text = "\n\n".join(b.rstrip() for b in blocks if b.strip())
    return text, title or first_heading


def _render_inline(children) -> str:
    parts: list[str] = []
    links: list[tuple[str, int]] = []
    skipping: str | None = None
    for c in children:
        t = c.type
        if skipping:
            if t == "html_inline" and re.match(rf"</\s*{skipping}\b", c.content, re.I):
                skipping = None
            continue
        if t in ("text", "code_inline"):
            parts.append(c.content)
        elif t == "softbreak":
            parts.append(" ")
        elif t == "hardbreak":
            parts.append("\n")
        elif t == "image":
            alt = c.content.strip()
            if alt:
                parts.append(alt)
        elif t == "link_open":
            links.append((c.attrs.get("href", "") or "", len(parts)))
        elif t == "link_close" and links:
            href, start = links.pop()
            label = "".join(parts[start:]).strip()
            bare = re.sub(r"^(mailto:|tel:)", "", href)
            if href and label not in (href, bare) and not href.startswith("#"):
                parts.append(f" ({href})")
        elif t == "html_inline":
            tag = re.match(r"<\s*(script|style|noscript|template)\b", c.content, re.I)
            if tag:
                skipping = tag.group(1).lower()
            elif re.match(r"<\s*br\b", c.content, re.I):
                parts.append("\n")
    return re.sub(r"(?<=\S) {2,}", " ", "".join(parts)).strip()


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

_SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "math",
        "iframe",
        "object",
        "canvas",
        "select",
        "button",
        "datalist",
    }
)
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "aside",
        "nav",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "blockquote",
        "pre",
        "form",
        "fieldset",
        "figure",
        "figcaption",
        "address",
        "details",
        "summary",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "body",
        "html",
    }
)


class _TextParser(HTMLParser):
    """A forgiving HTML-to-text pass: drops scripts, styles and other non-text elements,
    keeps block structure as lines, list items as ``- item``, table cells as ``a | b``, and
    remembers the ``<title>`` and first ``<h1>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.skip_stack: list[str] = []
        self.title_parts: list[str] | None = None
        self.title = ""
        self.h1_parts: list[str] | None = None
        self.h1 = ""
        self.pre = 0
        self.cells_in_row = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        tag = tag.lower()
        if tag == "title" and not self.title:
            self.title_parts = []
            return
        if tag in _SKIP_TAGS:
            self.skip_stack.append(tag)
            return
        if self.skip_stack:
            return
        if tag == "h1" and not self.h1:
            self.h1_parts = []
        if tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "tr":
            self.parts.append("\n")
            self.cells_in_row = 0
        elif tag in ("td", "th"):
            if self.cells_in_row:
                self.parts.append(" | ")
            self.cells_in_row += 1
        elif tag == "pre":
            self.pre += 1
            self.parts.append("\n\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        elif tag == "img":
            alt = dict(attrs).get("alt") or ""
            if alt.strip():
                self.parts.append(f" {alt.strip()} ")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag.lower() in _SKIP_TAGS:
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if tag == "title" and self.title_parts is not None:
            self.title = " ".join("".join(self.title_parts).split())
            self.title_parts = None
            return
        if self.skip_stack:
            if tag in self.skip_stack:
                while self.skip_stack and self.skip_stack.pop() != tag:
                    pass
            return
        if tag == "h1" and self.h1_parts is not None:
            self.h1 = " ".join("".join(self.h1_parts).split())
            self.h1_parts = None
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag in _BLOCK_TAGS or tag in ("li", "tr"):
            self.parts.append("\n\n" if tag in _BLOCK_TAGS else "\n")

    def handle_data(self, data: str) -> None:
        if self.title_parts is not None:
            self.title_parts.append(data)
            return
        if self.skip_stack:
            return
        if self.h1_parts is not None:
            self.h1_parts.append(data)
        if self.pre:
            self.parts.append(data)
        else:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        out = "\n".join(line.strip() for line in "".join(self.parts).split("\n"))
        out = re.sub(r"\n(- \n)+", "\n", out)  # list items left empty
        return _BLANK_RUNS.sub("\n\n", out).strip()


def _parse_html(markup: str) -> _TextParser:
    parser = _TextParser()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # noqa: S110 - HTMLParser is forgiving; keep what it read so far
        pass
    return parser


def html_fragment_to_text(markup: str) -> str:
    """Plain text of an HTML fragment, without scripts or styles."""
    return _parse_html(markup).text()


def _space_blocks(text: str) -> str:
    """trafilatura writes one block per line; give paragraphs a blank line between them and
    keep list items and table rows together."""
    lines = [ln for ln in text.split("\n")]
    out: list[str] = []
    for ln in lines:
        if not ln.strip():
            continue
        grouped = ln.lstrip().startswith(("- ", "* ", "| ")) or " | " in ln
        prev_grouped = bool(out) and (
            out[-1].lstrip().startswith(("- ", "* ", "| ")) or " | " in out[-1]
        )
        if out and grouped and prev_grouped:
            out[-1] = out[-1] + "\n" + ln
        else:
            out.append(ln)
    return "\n\n".join(out)


def html_to_text(markup: str, *, url: str | None = None, fallback: bool = True) -> tuple[str, str]:
    """(title, main text) of an HTML document. The main text comes from trafilatura (the
    article, without navigation, ads, scripts and styles); when it finds none and
    ``fallback`` is set, from a plain tag stripper. The title is the document's
    ``<title>`` (as trafilatura cleans it) or its first ``<h1>``."""
    parsed = _parse_html(markup)
    text = ""
    title = ""
    if markup.strip():
        import trafilatura

        try:
            doc = trafilatura.bare_extraction(
                markup,
                url=url,
                with_metadata=True,
                include_comments=False,
                include_tables=True,
                include_images=False,
                include_links=False,
                favor_recall=True,
                deduplicate=False,
            )
        except Exception:  # a parser failure inside trafilatura: use the fallback
            doc = None
        if doc is not None:
            text = _space_blocks(getattr(doc, "text", None) or "")
            title = getattr(doc, "title", None) or ""
    if not text.strip() and fallback:
        text = parsed.text()
    return title or parsed.title or parsed.h1, text


# ---------------------------------------------------------------------------------------------
# Word documents
# ---------------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_list_format(doc, p) -> tuple[bool, int] | None:
    """(numbered?, level) when paragraph ``p`` is a list item, else None."""
    ppr = p._p.pPr
    numpr = ppr.numPr if ppr is not None else None
    style = (p.style.name if p.style is not None else "") or ""
    if numpr is None or numpr.numId is None:
        if style.startswith("List Number"):
            return True, _style_level(style)
        if style.startswith(("List Bullet", "List Paragraph")) or style == "List":
            return False, _style_level(style)
        return None
    num_id = numpr.numId.val
    level = numpr.ilvl.val if numpr.ilvl is not None else 0
    if num_id == 0:
        return None
    numbered = style.startswith("List Number")
    try:
        numbering = doc.part.numbering_part.element
        num = numbering.find(f"{_W}num[@{_W}numId='{num_id}']")
        abstract_id = num.find(f"{_W}abstractNumId").get(f"{_W}val")
        abstract = numbering.find(f"{_W}abstractNum[@{_W}abstractNumId='{abstract_id}']")
        lvl = abstract.find(f"{_W}lvl[@{_W}ilvl='{level}']")
        fmt = lvl.find(f"{_W}numFmt").get(f"{_W}val")
        numbered = fmt not in ("bullet", "none")
    except (AttributeError, KeyError, NotImplementedError):
        pass
    return numbered, int(level)


def _style_level(style: str) -> int:
    m = re.search(r"(\d+)$", style)
    return max(0, int(m.group(1)) - 1) if m else 0


def _docx_paragraph_text(p) -> str:
    from docx.text.hyperlink import Hyperlink

    parts: list[str] = []
    try:
        items = list(p.iter_inner_content())
    except AttributeError:
        return p.text
    for item in items:
        if isinstance(item, Hyperlink):
            label = item.text
            url = item.url if item.address else ""
            parts.append(f"{label} ({url})" if url and url != label.strip() else label)
        else:
            parts.append(item.text)
    return "".join(parts)


def _docx_table_lines(table) -> list[str]:
    lines: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell repeats across the columns it spans
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            lines.append(" | ".join(cells))
    return lines


def check_archive(data: bytes, what: str = "This Word document") -> None:
    """Refuse an archive that would unpack to too much, before anything is inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ExtractError(f"{what} is damaged and could not be read.") from exc
    too_big = ExtractError(f"{what} is too large to read once unpacked.")
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise ExtractError(f"{what} has too many parts to read ({len(members):,}).")
    total = 0
    for m in members:
        total += m.file_size
        if total > MAX_UNPACKED_BYTES:
            raise too_big
        if m.file_size > RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise too_big
    # Then every member is inflated once, a chunk at a time, and its checksum verified: a
    # member whose data inflates past what the directory declares fails here, with memory
    # bounded by the chunk, before any reader takes it whole.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for m in members:
                with zf.open(m) as f:
                    while f.read(64 * 1024):
                        pass
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error, NotImplementedError) as exc:
        raise ExtractError(f"{what} is damaged and could not be read.") from exc


def _docx_to_text(data: bytes) -> tuple[str, str]:
    check_archive(data)

    import docx
    from docx.table import Table

    try:
        doc = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several kinds for a broken package
        raise ExtractError("This Word document is damaged and could not be read.") from exc

    blocks: list[str] = []
    first_heading = ""
    numbers: dict[int, int] = {}  # the next number per level of the current list
    list_kind: bool | None = None  # None outside a list, else whether its top level is numbered
    for item in doc.iter_inner_content():
        if isinstance(item, Table):
            lines = _docx_table_lines(item)
            if lines:
                blocks.append("\n".join(lines))
            list_kind = None
            continue
        text = _docx_paragraph_text(item).strip()
        style = (item.style.name if item.style is not None else "") or ""
        if not text:
            continue
        if style == "Title" or style.startswith("Heading"):
            first_heading = first_heading or text
            blocks.append(text)
            list_kind = None
            continue
        lst = _docx_list_format(doc, item)
        if lst is None:
            blocks.append(text)
            list_kind = None
            continue
        numbered, level = lst
        if list_kind is None or (level == 0 and list_kind is not numbered):
            numbers.clear()  # a new list (a numbered list after a bulleted one, or back)
            blocks.append("")
            list_kind = numbered
        for deeper in [k for k in numbers if k > level]:
            del numbers[deeper]
        if numbered:
            numbers[level] = numbers.get(level, 0) + 1
            marker = f"{numbers[level]}. "
        else:
            marker = "- "
        line = "  " * level + marker + text
        blocks[-1] = f"{blocks[-1]}\n{line}" if blocks[-1] else line

    title = first_heading
    if not title:
        try:
            title = (doc.core_properties.title or "").strip()
        except Exception:
            title = ""
    return title, "\n\n".join(blocks)


# ---------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------

_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?\s*$", re.I)
_BULLET = re.compile(r"^\s*(?:[•◦▪‣●○■□–\-*]|\d{1,3}[.)])\s+")
_LIST_ITEM = re.compile(r"(?:- |\d{1,3}[.)] )")
_SENTENCE_END = re.compile(r"""[.!?:;…]["'”’)\]]*$""")


def _pdf_paragraphs(pages: list[str]) -> str:
    """Join a PDF's text lines back into paragraphs: a word hyphenated across a line break is
    rejoined, wrapped lines are joined with a space, and a paragraph ends at a blank line, a
    short line, a bullet, or a page break after a finished sentence."""
    page_lines: list[list[str]] = []
    for page in pages:
        lines = [re.sub(r"[ \t]{2,}", " ", ln).strip() for ln in page.split("\n")]
        # drop page numbers at the top or bottom of a page
        while lines and (not lines[-1] or _PAGE_NUMBER.match(lines[-1])):
            lines.pop()
        while lines and (not lines[0] or _PAGE_NUMBER.match(lines[0])):
            lines.pop(0)
        page_lines.append(lines)
    lengths = sorted(len(ln) for lines in page_lines for ln in lines if ln)
    if not lengths:
        return ""
    typical = lengths[int(len(lengths) * 0.8)] if len(lengths) > 1 else lengths[0]

    paragraphs: list[str] = []
    current = ""

    def flush() -> None:
        nonlocal current
        if current.strip():
            paragraphs.append(current.strip())
        current = ""

    for lines in page_lines:
        for line in lines:
            if not line:
                flush()
                continue
            bullet = _BULLET.match(line)
            if bullet:
                flush()
                line = "- " + line[bullet.end() :] if not line.lstrip()[0].isdigit() else line
            if not current:
                current = line
            elif re.search(r"\w-$", current) and line[:1].islower():
                current = current[:-1] + line
            elif current.endswith(("-", "/")) and not current.endswith(" -"):
                current += line
            else:
                current += " " + line
            if not line.endswith(("-", ",")) and (
                len(line) < typical * 0.6
                or (len(line) < typical * 0.9 and _SENTENCE_END.search(line))
            ):
                flush()
        if _SENTENCE_END.search(current):
            flush()
    flush()
    out = ""
    for i, para in enumerate(paragraphs):
        if i:
            tight = _LIST_ITEM.match(para) and _LIST_ITEM.match(paragraphs[i - 1])
            out += "\n" if tight else "\n\n"
        out += para
    return out


def _pdf_to_text(data: bytes, max_chars: int) -> tuple[str, str, list[str]]:
    from pypdf import apply_configuration

    with apply_configuration(
        zlib_maximum_output_length=MAX_PDF_STREAM_BYTES,
        lzw_maximum_output_length=MAX_PDF_STREAM_BYTES,
        run_length_maximum_output_length=MAX_PDF_STREAM_BYTES,
        brotli_maximum_output_length=MAX_PDF_STREAM_BYTES,
        array_based_stream_maximum_output_length=MAX_PDF_STREAM_BYTES,
        image_maximum_buffer_size=MAX_PDF_STREAM_BYTES,
        stream_decoding_work_maximum_length=2 * MAX_PDF_STREAM_BYTES,
        maximum_declared_stream_length=MAX_PDF_STREAM_BYTES,
    ):
        return _read_pdf(data, max_chars)


def _read_pdf(data: bytes, max_chars: int) -> tuple[str, str, list[str]]:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    warnings: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:
                ok = 0
            if not ok:
                raise ExtractError(
                    "This PDF is password-protected. Remove the password and upload it again."
                )
        pages = list(reader.pages)
    except ExtractError:
        raise
    except Exception as exc:  # pypdf raises many kinds for a broken file
        raise ExtractError("This PDF is damaged and could not be read.") from exc
    if not pages:
        raise ExtractError("This PDF has no pages.")
    if len(pages) > MAX_PDF_PAGES:
        raise ExtractError(f"This PDF has {len(pages):,} pages; OmniPostr reads up to {MAX_PDF_PAGES:,}.")

    texts: list[str] = []
    failed: list[int] = []
    total = 0
    deadline = time.monotonic() + PDF_SECONDS
    for number, page in enumerate(pages, start=1):
        if time.monotonic() > deadline:
            raise ExtractError("This PDF takes too long to read. Paste its text instead.")
        try:
            text = page.extract_text() or ""
        except LimitReachedError as exc:
            raise ExtractError("This PDF is too large to read once unpacked.") from exc
        except Exception:
            failed.append(number)
            text = ""
        texts.append(text)
        total += len(text)
        if total > max_chars * 2:  # far over the limit already: stop reading
            raise ExtractError(
                f"This PDF has more than {max_chars:,} characters of text; "
                f"the limit is {max_chars:,} characters."
            )
    if failed:
        shown = ", ".join(str(n) for n in failed[:10]) + (", …" if len(failed) > 10 else "")
        warnings.append(f"Some pages could not be read and were skipped: {shown}.")

    body = _pdf_paragraphs(texts)
    if not normalize_text(body):
        if any(_page_has_images(p) for p in pages):
            raise ExtractError(
                "This PDF has no text layer (it looks like scanned images). "
                "Run it through text recognition (OCR) first, or paste the text."
            )
        raise ExtractError("This PDF has no text in it.")

    title = ""
    try:
        meta = reader.metadata
        title = (meta.title or "").strip() if meta else ""
    except Exception:
        title = ""
    if title.lower() in ("untitled", "microsoft word", "") or title.lower().endswith(
        (".doc", ".docx", ".pdf")
    ):
        title = ""
    return title, body, warnings


def _page_has_images(page) -> bool:
    try:
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else None
        xobjects = resources.get("/XObject") if resources else None
        xobjects = xobjects.get_object() if xobjects is not None else None
        if not xobjects:
            return False
        return any(
            (xobjects[name].get_object().get("/Subtype") in ("/Image", "/Form"))
            for name in xobjects
        )
    except Exception:
        return False


# ---------------------------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------------------------


def _finish(
    title: str,
    text: str,
    kind: str,
    warnings: list[str],
    filename: str,
    max_chars: int,
    empty_message: str = "This file is empty.",
) -> Extracted:
    text = normalize_text(text)
    if not text:
        raise ExtractError(empty_message)
    _check_length(text, max_chars, "This file's text is")
    title = _clip_title(title) if title else ""
    if not title:
        title = _clip_title(_title_from_text(text, _title_from_filename(filename)))
    words = count_words(text)
    return Extracted(
        title=title,
        text=text,
        kind=kind,
        words=words,
        reading_minutes=reading_minutes(words),
        warnings=warnings,
    )


def _looks_like_html(text: str) -> bool:
    head = text[:2048].lstrip().lower()
    return head.startswith(("<!doctype html", "<html", "<?xml")) or bool(
        re.search(r"<(html|head|body)\b", head)
    )


def extract_file(
    filename: str,
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> Extracted:
    """Read an uploaded file into text. Raises ``ExtractError`` with a message for the user
    when the file is empty, too large, of an unsupported type, not what its name says, a PDF
    without text, damaged, or has more text than ``max_chars``."""
    return extract_bytes(filename, data, max_bytes=max_bytes, max_chars=max_chars)


def extract_bytes(
    filename: str,
    data: bytes,
    *,
    max_bytes: int,
    max_chars: int,
    charset: str | None = None,
    expected: str | None = None,
    page_url: str | None = None,
    html_fallback: bool = True,
) -> Extracted:
    """``extract_file`` plus what a download knows: the declared charset and the kind its
    Content-Type names (``expected``) in place of a file extension."""
    if len(data) > max_bytes:
        raise size_error(len(data), max_bytes)
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise ExtractError("This file is empty.")

    filename = filename or ""
    ext = PurePath(filename.replace("\\", "/")).suffix.lower() if filename else ""
    by_name = expected or SUPPORTED_EXTENSIONS.get(ext)
    if by_name is None and ext:
        raise ExtractError(f"{_SUPPORTED_SENTENCE}; this one is {ext}.")
    named = f"is named {ext} but " if ext else ""

    warnings: list[str] = []
    content = _sniff(data)
    if content in ("pdf", "docx"):
        kind = content
        if ext and by_name and by_name != content:
            warnings.append(
                f"This file is named {ext} but is {_KIND_LABEL[content]}; OmniPostr read it as one."
            )
    elif content == "ole":
        if by_name == "docx":
            raise ExtractError(
                "This Word document is password-protected or in the old .doc format. "
                "Remove the password or save it as .docx, then upload it again."
            )
        raise ExtractError(
            "This is an old Microsoft Office file (.doc, .xls or .ppt). "
            "Save it as .docx or .pdf and upload it again."
        )
    elif content != "text":
        if by_name in ("pdf", "docx"):
            raise ExtractError(
                f"This file {named}is not {_KIND_LABEL[by_name]}; it may be damaged."
            )
        raise ExtractError(f"This file {named}holds {content}, not text. {_SUPPORTED_SENTENCE}.")
    else:
        if by_name in ("pdf", "docx"):
            raise ExtractError(
                f"This file {named}is not {_KIND_LABEL[by_name]}; it may be damaged."
            )
        kind = by_name or "txt"

    if kind == "pdf":
        title, text, more = _pdf_to_text(data, max_chars)
        warnings += more
        return _finish(title, text, "pdf", warnings, filename, max_chars)
    if kind == "docx":
        title, text = _docx_to_text(data)
        return _finish(title, text, "docx", warnings, filename, max_chars)

    if kind == "html":
        decoded, more = decode_html(data, charset)
    else:
        decoded, more = decode_text(data, charset)
    warnings += more
    # a rough early stop before the heavier parsing below
    if len(decoded) > max_chars * 4 + 10_000:
        _check_length(decoded, max_chars, "This file's text is")
    if kind == "txt" and not ext and not expected and _looks_like_html(decoded):
        kind = "html"

    if kind == "html":
        title, text = html_to_text(decoded, url=page_url, fallback=html_fallback)
        return _finish(
            title,
            text,
            "html",
            warnings,
            filename,
            max_chars,
            empty_message="This page has no readable text.",
        )
    if kind == "md":
        text, title = markdown_to_text(_NEWLINES.sub("\n", decoded))
        return _finish(title or "", text, "md", warnings, filename, max_chars)
    return _finish("", decoded, "txt", warnings, filename, max_chars)
