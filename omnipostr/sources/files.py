"""Files (and downloaded pages) into the composer's text.

``extract_file`` reads .txt, .md/.markdown, .html/.htm, .docx and .pdf and returns an
``Extracted``: the title, the text the composer shows, word count, reading time, and warnings
(a guessed encoding, replaced bytes, a file whose name does not match its content). A text or
Markdown file keeps its own text; a page, a Word document and a PDF are read into a
``Document`` and shown as its Markdown. Everything that goes wrong raises ``ExtractError``
with a message for the person; the functions are CPU-bound: call them from a worker thread.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from omnipostr.sources import docx, pdf
from omnipostr.sources import html as html_reader
from omnipostr.sources.decode import decode_html, decode_text
from omnipostr.sources.errors import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_CHARS,
    Extracted,
    ExtractError,
    check_length,
    size_error,
)
from omnipostr.sources.model import Document
from omnipostr.sources.sniff import sniff
from omnipostr.sources.text import count_words, normalize_text, reading_minutes

SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".rst": "rst",
    ".html": "html",
    ".htm": "html",
    ".docx": "docx",
    ".pdf": "pdf",
}
SUPPORTED_SENTENCE = "OmniPostr reads .txt, .md, .rst, .html, .docx and .pdf files"
_KIND_LABEL = {"pdf": "a PDF", "docx": "a Word document (.docx)"}


def _title_from_filename(filename: str) -> str:
    stem = PurePath(filename.replace("\\", "/")).stem if filename else ""
    stem = re.sub(r"[_\s]+", " ", stem).strip()
    return stem or "Untitled"


def _finish(
    title: str, text: str, kind: str, warnings: list[str], filename: str, max_chars: int,
    empty_message: str = "This file is empty.",
) -> Extracted:
    from omnipostr.sources import make_title, parse

    text = normalize_text(text)
    if not text:
        raise ExtractError(empty_message)
    check_length(text, max_chars, "This file's text is")
    if not title:
        doc = parse(text, fmt={"md": "markdown", "rst": "rst", "txt": None}.get(kind))
        title = doc.title if doc.title_from_source else _title_from_filename(filename)
    words = count_words(text)
    return Extracted(
        title=make_title(title), text=text, kind=kind, words=words, reading_minutes=reading_minutes(words),
        warnings=warnings,
    )


def _from_document(doc: Document, kind: str, warnings: list[str], filename: str, max_chars: int,
                   empty_message: str = "This file is empty.") -> Extracted:
    return _finish(doc.title if doc.title_from_source else "", doc.markdown() if doc.blocks else "", kind,
                   warnings + doc.warnings, filename, max_chars, empty_message)


def _looks_like_html(text: str) -> bool:
    head = text[:2048].lstrip().lower()
    return head.startswith(("<!doctype html", "<html", "<?xml")) or bool(re.search(r"<(html|head|body)\b", head))


def extract_file(
    filename: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_chars: int = DEFAULT_MAX_CHARS,
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
        raise ExtractError(f"{SUPPORTED_SENTENCE}; this one is {ext}.")
    named = f"is named {ext} but " if ext else ""

    warnings: list[str] = []
    content = sniff(data)
    if content in ("pdf", "docx"):
        kind = content
        if ext and by_name and by_name != content:
            warnings.append(f"This file is named {ext} but is {_KIND_LABEL[content]}; OmniPostr read it as one.")
    elif content == "ole":
        if by_name == "docx":
            raise ExtractError(
                "This Word document is password-protected or in the old .doc format. "
                "Remove the password or save it as .docx, then upload it again."
            )
        raise ExtractError(
            "This is an old Microsoft Office file (.doc, .xls or .ppt). Save it as .docx or .pdf and upload it again."
        )
    elif content != "text":
        if by_name in ("pdf", "docx"):
            raise ExtractError(f"This file {named}is not {_KIND_LABEL[by_name]}; it may be damaged.")
        raise ExtractError(f"This file {named}holds {content}, not text. {SUPPORTED_SENTENCE}.")
    else:
        if by_name in ("pdf", "docx"):
            raise ExtractError(f"This file {named}is not {_KIND_LABEL[by_name]}; it may be damaged.")
        kind = by_name or "txt"

    if kind == "pdf":
        return _from_document(pdf.parse(data, max_chars), "pdf", warnings, filename, max_chars)
    if kind == "docx":
        return _from_document(docx.parse(data), "docx", warnings, filename, max_chars)

    if kind == "html":
        decoded, more = decode_html(data, charset)
    else:
        decoded, more = decode_text(data, charset)
    warnings += more
    # a rough early stop before the heavier parsing below
    if len(decoded) > max_chars * 4 + 10_000:
        check_length(decoded, max_chars, "This file's text is")
    if kind == "txt" and not ext and not expected and _looks_like_html(decoded):
        kind = "html"
    if kind == "html":
        doc = html_reader.parse(decoded, url=page_url, fallback=html_fallback)
        return _from_document(doc, "html", warnings, filename, max_chars, "This page has no readable text.")
    return _finish("", decoded, kind, warnings, filename, max_chars)
