"""Bytes into text: a byte-order mark wins, then a declared charset (an HTTP header, an HTML
meta tag), then UTF-8; anything else is identified by charset-normalizer, and the person is
told which encoding was assumed."""

from __future__ import annotations

import codecs
import re

from omnipostr.sources.sniff import bom, utf16_without_bom

_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, list[str]]:
    """Decode a text file: a byte-order mark wins, then a declared charset (an HTTP header or
    an HTML meta tag), then UTF-8. Bytes that are not UTF-8 are read as Windows-1252 (or
    Latin-1) when nothing in the file looks like UTF-8, and replaced otherwise; both add a
    warning."""
    warnings: list[str] = []
    found = bom(data)
    if found:
        enc, skip = found
        text = data[skip:].decode(enc, errors="replace")
        if "\ufffd" in text and "\ufffd".encode(enc) not in data[skip:]:
            warnings.append(_replaced_warning(enc))
        return text, warnings
    utf16 = utf16_without_bom(data)
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
    guess = _guess(data)
    if guess in _MULTIBYTE:
        warnings.append(_assumed(guess))
        return data.decode(guess, errors="replace"), warnings
    if _UTF8_MULTIBYTE.search(data):
        text = data.decode("utf-8", errors="replace")
        bad = text.count("\ufffd")
        warnings.append(
            f"This file is not valid UTF-8: {bad:,} unreadable "
            f"{'character was' if bad == 1 else 'characters were'} replaced with \ufffd."
        )
        return text, warnings
    if guess is None or guess in _LATIN_SCRIPT:
        # charset-normalizer cannot tell the Western code pages apart on a short text; the
        # Windows one is by far the most common, and Latin-1 reads every byte
        try:
            text, guess = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            text, guess = data.decode("latin-1"), "latin_1"
    else:
        text = data.decode(guess, errors="replace")
    warnings.append(_assumed(guess))
    return text, warnings


_EXCLUDED = ["utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be", "utf_32_le", "utf_7", "utf_8"]
_MULTIBYTE = frozenset({"cp932", "shift_jis", "euc_jp", "iso2022_jp", "gb18030", "gb2312", "gbk", "big5",
                        "big5hkscs", "euc_kr", "cp949", "johab"})
_LATIN_SCRIPT = frozenset({
    "cp1250", "cp1252", "cp1254", "cp1257", "cp437", "cp775", "cp850", "cp852", "cp857", "cp858", "cp860",
    "cp861", "cp863", "cp865", "hp_roman8", "mac_roman", "mac_latin2", "mac_iceland", "mac_turkish", "latin_1",
    "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_15",
    "iso8859_16", "cp1125", "cp737", "cp855", "cp862", "cp1256", "cp1253",
})


def _guess(data: bytes) -> str | None:
    """charset-normalizer's reading of bytes that are not UTF-8."""
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_exclusion=_EXCLUDED).best()
    return best.encoding if best is not None else None


def _assumed(encoding: str) -> str:
    name = _NAMES.get(encoding, encoding.replace("_", "-").upper())
    return f"This file is not UTF-8; OmniPostr read it as {name}. Check accented letters and quotes."


_NAMES = {
    "cp1252": "Windows-1252 (Western European)",
    "latin_1": "Latin-1 (Western European)",
    "iso8859_15": "Latin-9 (Western European)",
    "cp1250": "Windows-1250 (Central European)",
    "iso8859_2": "Latin-2 (Central European)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "koi8_r": "KOI8-R (Cyrillic)",
    "mac_roman": "Mac Roman",
    "shift_jis": "Shift JIS (Japanese)",
    "cp932": "Shift JIS (Japanese)",
    "euc_jp": "EUC-JP (Japanese)",
    "gb18030": "GB18030 (Chinese)",
    "gb2312": "GB2312 (Chinese)",
    "big5": "Big5 (Chinese)",
    "euc_kr": "EUC-KR (Korean)",
    "cp949": "EUC-KR (Korean)",
}


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
