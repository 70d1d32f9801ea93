"""PDF into a ``Document``, with pypdf: the text of each page (every stream inflated within
bounds, the whole document within a time budget), lines joined back into paragraphs and list
items, page numbers dropped; then read as plain text. A PDF without a text layer (a scan) is
refused with what to do about it."""

from __future__ import annotations

import io
import re
import time

from omnipostr.sources import plain
from omnipostr.sources.errors import ExtractError
from omnipostr.sources.model import Document
from omnipostr.sources.text import normalize_text

MAX_PDF_STREAM_BYTES = 16 * 1024 * 1024
MAX_PDF_PAGES = 2000
PDF_SECONDS = 20.0

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




def parse(data: bytes, max_chars: int) -> Document:
    title, body, warnings = _pdf_to_text(data, max_chars)
    doc = plain.parse(body)
    if title:
        doc.title, doc.title_from_source = title, True
    doc.format = "pdf"
    doc.warnings = warnings
    return doc
