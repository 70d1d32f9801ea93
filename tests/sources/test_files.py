"""Reading uploaded files and pasted text into the composer's source text."""

from __future__ import annotations

import codecs
import io
import random

import pytest

from omnipostr.sources import (
    Extracted,
    ExtractError,
    count_words,
    extract_file,
    normalize_text,
    parse,
    reading_minutes,
    validate_text,
)
from tests.fixtures import source_files as files

TITLE = files.ARTICLE_TITLE
MB = 1024 * 1024


def _error(filename: str, data: bytes, **kw) -> str:
    with pytest.raises(ExtractError) as info:
        extract_file(filename, data, **kw)
    return info.value.message


# --- every format round-trips into text -------------------------------------------------------


@pytest.mark.promise("CON-1")
@pytest.mark.parametrize("name", ["article.txt", "ARTICLE.TXT"])
def test_txt_round_trips(name):
    text = "\n\n".join([TITLE, *files.ARTICLE_PARAGRAPHS])
    result = extract_file(name, text.encode())
    assert isinstance(result, Extracted)
    assert result.kind == "txt"
    assert result.text == text
    assert result.title == TITLE
    assert result.words == count_words(text) > 40
    assert result.reading_minutes == 1
    assert result.warnings == []


@pytest.mark.promise("CON-1")
@pytest.mark.parametrize("name", ["post.md", "post.markdown"])
def test_markdown_is_kept_as_written_and_reads_as_a_document(name):
    source = (
        "---\ntitle: Front matter title\ndate: 2026-01-01\n---\n"
        "# Why *Short* Posts Win\n\n"
        "Readers meet ideas in a **feed**, not on [our blog](https://blog.example/post).\n"
        "See <https://omnipostr.com> and `the_code`. ![A chart](chart.png)\n\n"
        "## Steps\n\n"
        "- Pick platforms\n- Keep the __voice__\n  - nested point\n\n"
        "3. third\n4. fourth\n\n"
        "> Quoted line\n\n"
        "```python\nprint('kept as written')\n```\n\n"
        "| Platform | Limit |\n|---|---|\n| X | 280 |\n\n"
        "<div><script>alert('md-script')</script><p>Raw html text</p></div>\n\n"
        "Inline <script>alert('inline-script')</script>after.\n"
    )
    result = extract_file(name, source.encode())
    assert result.kind == "md"
    assert result.title == "Front matter title"
    assert result.text == source.strip()  # the composer shows the person's own Markdown
    doc = parse(result.text)
    assert doc.format == "markdown" and doc.title == "Front matter title"
    kinds = [(b.kind, b.text) for b in doc.blocks]
    assert ("heading", "Why Short Posts Win") in kinds and ("heading", "Steps") in kinds
    assert ("paragraph", "Readers meet ideas in a feed, not on our blog. See https://omnipostr.com and the_code.") in kinds
    assert [t for k, t in kinds if k == "item"] == ["Pick platforms", "Keep the voice", "nested point", "third", "fourth"]
    assert ("quote", "Quoted line") in kinds and ("code", "print('kept as written')") in kinds
    assert ("table", "| Platform | Limit |\n| --- | --- |\n| X | 280 |") in kinds
    assert ("paragraph", "Raw html text") in kinds and ("paragraph", "Inline after.") in kinds
    prose = doc.prose_text()
    for noise in ("**", "__", "](", "```", "<div", "md-script", "inline-script", "title:", "A chart", "print("):
        assert noise not in prose
    assert "https://blog.example/post" in doc.links


def test_markdown_title_is_the_top_heading_without_front_matter():
    assert extract_file("notes.md", b"## Second level title\n\nBody text.\n").title == "Second level title"
    # a heading further down is a section, not the title: the file's name stands in
    assert extract_file("notes.md", b"Intro line.\n\n## A section\n\nBody text.\n").title == "notes"


def test_restructuredtext_file_is_kept_as_written_with_its_own_title():
    data = (
        b"=====================\nWhy we pin versions\n=====================\n\n"
        b"Pinning stops surprise upgrades. See :pep:`440` for the rules.\n\n"
        b".. note::\n\n   Pins need a weekly review.\n"
    )
    result = extract_file("pins.rst", data)
    assert result.kind == "rst" and result.title == "Why we pin versions"
    assert result.text == data.decode().strip()  # kept as written; the reader parses it later


@pytest.mark.promise("CON-1")
@pytest.mark.parametrize("name", ["page.html", "page.htm"])
def test_html_main_text_without_scripts_or_navigation(name):
    result = extract_file(name, files.article_html())
    assert result.kind == "html"
    assert result.title == TITLE
    for paragraph in files.ARTICLE_PARAGRAPHS:
        assert paragraph in result.text
    assert "Café owners" in result.text
    for hidden in (
        "SECRET_SCRIPT_TOKEN",
        "INLINE_SCRIPT_TEXT",
        "STYLE_RULE_TEXT",
        "Pricing",
        "document.write",
        "<p>",
        "Copyright 2026",
    ):
        assert hidden not in result.text


def test_html_fragment_falls_back_to_tag_stripper():
    markup = (
        b"<h1>Fragment heading</h1><p>Only a <script>alert('x-script')</script>short "
        b"fragment &amp; more.</p><style>p{color:red}</style><ul><li>one</li><li>two</li></ul>"
    )
    result = extract_file("fragment.html", markup)
    assert result.title == "Fragment heading"
    assert "Only a short fragment & more." in result.text
    assert "- one\n- two" in result.text
    assert "x-script" not in result.text and "color:red" not in result.text


def test_html_charset_from_meta_tag():
    markup = (
        b'<html><head><meta charset="windows-1252"><title>Caf\xe9</title></head>'
        b"<body><p>Cr\xe8me br\xfbl\xe9e \x93quoted\x94.</p></body></html>"
    )
    result = extract_file("page.html", markup)
    assert result.title == "Café"
    assert "Crème brûlée “quoted”." in result.text
    assert result.warnings == []


def test_html_that_is_only_script_has_no_text():
    message = _error("empty.html", b"<html><body><script>var a = 1;</script></body></html>")
    assert message == "This page has no readable text."


@pytest.mark.promise("CON-1")
def test_docx_paragraphs_headings_lists_tables_links():
    result = extract_file("article.docx", files.article_docx())
    assert result.kind == "docx"
    assert result.title == TITLE  # the first heading wins over core properties
    blocks = result.text.split("\n\n")  # shown as Markdown: headings, lists, tables
    assert blocks[0] == f"# {TITLE}"
    assert "## What to do" in blocks
    assert "Read the guide." in result.text
    assert "- Pick the platforms\n  - Threads first\n- Keep the voice" in result.text
    assert "1. Paste the article\n2. Generate the posts" in result.text
    assert "| Platform | Limit |\n| --- | --- |\n| X | 280 |" in result.text
    assert files.ARTICLE_PARAGRAPHS[1] in result.text
    assert result.warnings == []
    doc = parse(result.text)  # and it reads back as the same document
    assert doc.title == TITLE and "https://omnipostr.com/guide" not in doc.prose_text()


def test_docx_title_from_core_properties_without_heading():
    import docx

    doc = docx.Document()
    doc.core_properties.title = "Quarterly letter"
    doc.add_paragraph("Dear readers, this quarter went well.")
    buf = io.BytesIO()
    doc.save(buf)
    result = extract_file("letter.docx", buf.getvalue())
    assert result.title == "Quarterly letter"
    assert result.text == "# Quarterly letter\n\nDear readers, this quarter went well."


@pytest.mark.promise("CON-1")
def test_pdf_text_of_every_page_joined_into_paragraphs():
    result = extract_file("article.pdf", files.article_pdf())
    assert result.kind == "pdf"
    assert result.title == TITLE
    paragraphs = result.text.split("\n\n")
    assert paragraphs[0] == f"# {TITLE}"
    # the hyphenated "work-/flow" is one word again, wrapped lines are one paragraph
    assert paragraphs[1] == (
        "Long-form articles are great for search, but most readers meet your ideas in a "
        "feed. A thread or a caption is where attention lives, and a good repurposing "
        "workflow turns one article into many posts without losing the argument."
    )
    # a paragraph running across the page break stays whole
    assert paragraphs[2].endswith(
        "carries on past the page break into the next page until it ends."
    )
    assert "- First bullet point\n- Second bullet point" in result.text
    assert paragraphs[-1] == "Closing thoughts come here."  # the page number "2" is gone


def test_image_only_pdf_is_a_clear_error():
    message = _error("scan.pdf", files.build_pdf([[], []], image_only=True))
    assert message.startswith("This PDF has no text layer (it looks like scanned images).")


def test_password_protected_pdf():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(files.article_pdf())))
    writer.encrypt(user_password="secret", algorithm="RC4-128")  # noqa: S106
    buf = io.BytesIO()
    writer.write(buf)
    assert "password-protected" in _error("locked.pdf", buf.getvalue())


def test_pdf_readable_with_empty_user_password():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(files.article_pdf())))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")  # noqa: S106
    buf = io.BytesIO()
    writer.write(buf)
    assert "workflow" in extract_file("restricted.pdf", buf.getvalue()).text


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t ", codecs.BOM_UTF8, b"\xe2\x80\x8b\n"])
def test_empty_file(data):
    assert _error("empty.txt", data) == "This file is empty."


def test_file_over_the_byte_limit():
    data = b"a" * int(14.2 * MB)
    assert _error("big.txt", data) == "This file is 14.2 MB; the limit is 10 MB."


def test_file_just_over_a_one_megabyte_limit():
    data = b"word " * (MB // 5 + 1) + b"x"
    assert _error("big.md", data, max_bytes=MB) == "This file is over 1 MB; the limit is 1 MB."
    # the same bytes are fine under the default limit, but too many characters
    message = _error("big.md", data)
    assert message == (
        f"This file's text is {len(data):,} characters long; the limit is 200,000 characters."
    )


def test_text_over_max_chars_is_refused_not_truncated():
    text = "x" * 1001
    message = _error("long.txt", text.encode(), max_chars=1000)
    assert message == "This file's text is 1,001 characters long; the limit is 1,000 characters."
    assert extract_file("ok.txt", b"x" * 1000, max_chars=1000).text == "x" * 1000


@pytest.mark.parametrize(
    "name,ext",
    [
        ("sheet.xlsx", ".xlsx"),
        ("old.doc", ".doc"),
        ("photo.PNG", ".png"),
        ("archive.tar.gz", ".gz"),
    ],
)
def test_unsupported_extension(name, ext):
    assert _error(name, b"anything") == (
        f"OmniPostr reads .txt, .md, .rst, .html, .docx and .pdf files; this one is {ext}."
    )


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06" + bytes(40)


def _zip_bytes() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("notes.txt", "hello")
    return buf.getvalue()


@pytest.mark.parametrize(
    "name,data,what",
    [
        ("notes.txt", PNG, "a PNG image"),
        ("notes.txt", _zip_bytes(), "a ZIP archive"),
        ("page.html", b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(50), "a JPEG image"),
        ("notes.md", b"\x7fELF\x02\x01\x01" + bytes(60), "a program"),
        ("notes.txt", bytes(range(256)) * 4, "binary data"),
    ],
)
def test_binary_disguised_as_text(name, data, what):
    message = _error(name, data)
    ext = "." + name.rsplit(".", 1)[1]
    assert message.startswith(f"This file is named {ext} but holds {what}, not text.")


def test_pdf_and_docx_named_as_text_are_read_with_a_warning():
    result = extract_file("export.txt", files.article_pdf())
    assert result.kind == "pdf" and "workflow" in result.text
    assert result.warnings == ["This file is named .txt but is a PDF; OmniPostr read it as one."]
    result = extract_file("export.pdf", files.article_docx())
    assert result.kind == "docx"
    assert "is a Word document (.docx)" in result.warnings[0]


def test_misnamed_pdf_and_docx():
    assert _error("fake.pdf", b"just some words") == (
        "This file is named .pdf but is not a PDF; it may be damaged."
    )
    assert _error("fake.docx", _zip_bytes()) == (
        "This file is named .docx but is not a Word document (.docx); it may be damaged."
    )
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)
    assert "password-protected or in the old .doc format" in _error("locked.docx", ole)


def test_damaged_pdf_and_docx():
    assert _error("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catal") in (
        "This PDF is damaged and could not be read.",
        "This PDF has no pages.",
    )
    docx_bytes = files.article_docx()
    assert "damaged" in _error("broken.docx", docx_bytes[: len(docx_bytes) // 2])


def test_broken_utf8_is_replaced_with_a_warning():
    data = "Grüße aus Köln — ".encode() + b"\xff\xfe\xc3" + b" und mehr."
    result = extract_file("broken.txt", data)
    assert result.text.startswith("Grüße aus Köln — \ufffd")
    assert result.text.endswith(" und mehr.")
    assert len(result.warnings) == 1 and "not valid UTF-8" in result.warnings[0]


def test_legacy_encoding_falls_back_to_cp1252_with_a_warning():
    result = extract_file("legacy.txt", "Crème brûlée — “quoted” café".encode("cp1252"))
    assert result.text == "Crème brûlée — “quoted” café"
    assert "Windows-1252" in result.warnings[0]


def test_latin1_when_cp1252_cannot_decode():
    result = extract_file("legacy.txt", b"Caf\xe9 \x81 ok")
    assert result.text.startswith("Café")
    assert "Latin-1" in result.warnings[0]


@pytest.mark.parametrize(
    "encoded",
    [
        codecs.BOM_UTF16_LE + "Hello wörld, 日本語 text.".encode("utf-16-le"),
        codecs.BOM_UTF16_BE + "Hello wörld, 日本語 text.".encode("utf-16-be"),
        "Hello wörld, 日本語 text.".encode("utf-16"),
        codecs.BOM_UTF8 + "Hello wörld, 日本語 text.".encode(),
        "Hello wörld, 日本語 text.".encode("utf-16-le"),  # no byte-order mark
    ],
)
def test_unicode_encodings(encoded):
    result = extract_file("unicode.txt", encoded)
    assert result.text == "Hello wörld, 日本語 text."
    assert result.warnings == []


def test_arbitrary_bytes_never_raise_anything_but_extract_error():
    rng = random.Random(20261126)
    pdf, docx_bytes = files.article_pdf(), files.article_docx()
    samples = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))) for _ in range(25)]
    samples += [pdf[: rng.randrange(10, len(pdf))] for _ in range(8)]
    samples += [docx_bytes[: rng.randrange(10, len(docx_bytes))] for _ in range(4)]
    samples += [bytes(b ^ 0x5A if rng.random() < 0.01 else b for b in pdf) for _ in range(4)]
    for data in samples:
        for name in ("x.txt", "x.md", "x.html", "x.docx", "x.pdf", "noext"):
            try:
                result = extract_file(name, data)
            except ExtractError as exc:
                assert exc.message and "Traceback" not in exc.message
            else:
                assert result.text == normalize_text(result.text)


# --- normalisation, counting, pasted text -----------------------------------------------------


def test_normalisation():
    raw = (
        "  Title\r\nline two\rline three\r\n\r\n\r\n\r\n"
        "Cafe\u0301 nai\u0308ve\u200b zero\ufeffwidth\u2060 soft\u00adhyphen \x07bell \x1bescape\t tab\n"
        "\n\n\n\nfamily 👨\u200d👩\u200d👧 stray \u200djoiner\u200d \u202eoverride\u202c  \n\f"
        "page two\u2028sep"
    )
    assert normalize_text(raw) == (
        "Title\nline two\nline three\n\n"
        "Café naïve zerowidth softhyphen bell escape\t tab\n\n"
        "family 👨\u200d👩\u200d👧 stray joiner override\n\npage two\nsep"
    )


def test_extracted_text_is_normalised():
    result = extract_file("x.txt", "a\r\n\r\n\r\n\r\nb\u200bc\x01".encode("utf-8"))
    assert result.text == "a\n\nbc"


@pytest.mark.parametrize(
    "text,words",
    [
        ("", 0),
        ("   \n", 0),
        ("Hello, world!", 2),
        ("Don't re-use e-mail at 3.5 km/h — ok?", 8),
        ("naïve café über", 3),
        ("日本語のテキスト", 8),
        ("我爱你", 3),
        ("ラーメン", 4),
        ("한국어 문장입니다", 2),
        ("Mixed English 和中文 text", 6),
        ("Привет мир", 2),
        ("مرحبا بالعالم", 2),
        ("🚀 ✨ — !!!", 0),
    ],
)
def test_count_words(text, words):
    assert count_words(text) == words


def test_reading_minutes():
    assert reading_minutes(0) == 0
    assert reading_minutes(1) == 1
    assert reading_minutes(238) == 1
    assert reading_minutes(356) == 1
    assert reading_minutes(357) == 2
    assert reading_minutes(2380) == 10
    assert reading_minutes(100, wpm=50) == 2
    with pytest.raises(ValueError):
        reading_minutes(10, wpm=0)


def test_extracted_counts_words_and_minutes():
    result = extract_file("long.txt", ("word " * 1000).encode())
    assert result.words == 1000
    assert result.reading_minutes == 4


def test_validate_text():
    assert validate_text("  Hello\r\n\r\n\r\nworld\u200b  ") == "Hello\n\nworld"
    for empty in ("", "   ", "\n\n\t", "\u200b\ufeff"):
        with pytest.raises(ExtractError) as info:
            validate_text(empty)
        assert info.value.message == "The text is empty: paste an article, post or script first."
    with pytest.raises(ExtractError) as info:
        validate_text("a" * 200_001)
    assert info.value.message == (
        "This text is 200,001 characters long; the limit is 200,000 characters."
    )
    assert validate_text("a" * 50, max_chars=50) == "a" * 50
    with pytest.raises(ExtractError):
        validate_text("a" * 51, max_chars=50)


def test_html_in_pasted_text_stays_text():
    text = "<script>alert('x')</script> is how an attack looks"
    assert validate_text(text) == text
