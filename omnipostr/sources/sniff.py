"""What a file holds, from its first bytes: text, a PDF, a Word document, or something else
(named, so the person can be told: "an Excel spreadsheet", "a PNG image")."""

from __future__ import annotations

import codecs
import io
import zipfile

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


def bom(data: bytes) -> tuple[str, int] | None:
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return enc, len(bom)
    return None


def utf16_without_bom(data: bytes) -> str | None:
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


def sniff(data: bytes) -> str:
    """ "pdf", "docx", "text", or a description of the binary content (e.g. "a PNG image")."""
    if bom(data) or utf16_without_bom(data):
        return "text"
    head = data[:16]
    for magic, what in _MAGIC:
        if head.startswith(magic):
            if what == "pdf":
                return "pdf"
            if what == "zip":
                return sniff_zip(data)
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


def sniff_zip(data: bytes) -> str:
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
