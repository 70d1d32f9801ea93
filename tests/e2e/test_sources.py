"""Sources in a real browser: every supported file type through the composer's "Upload file"
tab, files it cannot read, and an article imported from a link.

The module's app may fetch private and loopback addresses (the article server below runs on
127.0.0.1). That private addresses are refused by default is shown in test_first_minute.py,
whose app runs on ``make run``'s defaults.
"""

from __future__ import annotations

import io
import re
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from omnipostr import db
from omnipostr.repurpose.models import Generation, Source
from tests.e2e.helpers import sign_up
from tests.fixtures import source_files

pytestmark = pytest.mark.browser

FIRST_SENTENCE = "Long-form articles are great for search"
SECOND_PARAGRAPH = "A good repurposing workflow turns one article into many posts"


def text_box(page: Page):
    return page.get_by_label("Your article or script")


def upload(page: Page, name: str, data: bytes, mime: str) -> None:
    page.get_by_role("tab", name="Upload file").click()
    zone = page.get_by_label("Upload a file")
    expect(zone).to_be_visible()
    zone.locator("input[type=file]").set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


def only_x(page: Page) -> None:
    page.get_by_role("button", name="None", exact=True).click()
    page.get_by_role("group", name="Platforms").get_by_role("button", name="X", exact=True).click()


def generate_and_wait(page: Page) -> int:
    page.get_by_role("button", name="Generate posts").click()
    expect(page.get_by_role("article", name="X")).to_be_visible()
    expect(page.locator("[data-status=done]")).to_have_count(1, timeout=30_000)
    page.wait_for_url(re.compile(r".*/app\?g=\d+$"))
    return int(page.url.rsplit("=", 1)[1])


def source_of(generation_id: int) -> Source:
    with db.session() as s:
        gen = s.get(Generation, generation_id)
        src = s.get(Source, gen.source_id)
        s.expunge(src)
        return src


def png_bytes() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")


def xlsx_bytes() -> bytes:
    """The parts of a spreadsheet that make it one (a workbook in an Office ZIP)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>')
    return out.getvalue()


FILES = [
    ("article.txt", "\n\n".join([source_files.ARTICLE_TITLE, *source_files.ARTICLE_PARAGRAPHS]).encode(), "text/plain"),
    ("article.md", f"# {source_files.ARTICLE_TITLE}\n\n{source_files.ARTICLE_PARAGRAPHS[0]}\n\n"
                   f"{source_files.ARTICLE_PARAGRAPHS[1]}\n\n- one\n- two\n".encode(), "text/markdown"),
    ("article.html", source_files.article_html(), "text/html"),
    ("article.docx", source_files.article_docx(),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("article.pdf", source_files.article_pdf(), "application/pdf"),
]


@pytest.mark.promise("CON-1")
def test_each_supported_file_type_becomes_the_source_of_a_generation(page: Page, smtp, private_urls_app, shots):
    sign_up(page, smtp, email="files@example.com", name="Fern Files", team="Fern Media")
    only_x(page)
    for name, data, mime in FILES:
        upload(page, name, data, mime)
        toast = page.get_by_text(re.compile(rf"^Read [\d,]+ words from {re.escape(name)}\.$"))
        expect(toast).to_be_visible()
        words = int(re.search(r"Read ([\d,]+) words", toast.inner_text()).group(1).replace(",", ""))
        # the composer returns to the text box, which holds the file's text and its count
        expect(text_box(page)).to_be_visible()
        expect(text_box(page)).to_have_value(re.compile(re.escape(FIRST_SENTENCE)))
        expect(page.get_by_text(re.compile(rf"^{words:,} words · \d+ min read$"))).to_be_visible()
        expect(page.get_by_text(name, exact=True)).to_be_visible()  # the file's badge
        value = text_box(page).input_value()
        for leftover in ("SECRET_SCRIPT_TOKEN", "do-not-show", "INLINE_SCRIPT_TEXT", "STYLE_RULE_TEXT"):
            assert leftover not in value, (name, leftover)
        if name != "article.txt":
            expect(page.get_by_label("Title (optional)")).to_have_value(source_files.ARTICLE_TITLE)
        if name == "article.txt":
            page.screenshot(path=str(shots / "sources-uploaded.png"), full_page=True)

        gen_id = generate_and_wait(page)
        src = source_of(gen_id)
        assert (src.kind, src.filename) == ("file", name)
        assert FIRST_SENTENCE in src.text and src.words == words
        page.get_by_role("button", name="New draft").click()
        expect(page.get_by_role("article")).to_have_count(0)
        expect(text_box(page)).to_have_value("")


def test_files_it_cannot_read_are_explained_and_the_text_box_is_kept(page: Page, smtp, private_urls_app, shots):
    sign_up(page, smtp, email="badfiles@example.com", name="Bo Badfile", team="Bo Co")
    draft = "My own draft, typed before trying a few files. It must survive every failed upload."
    text_box(page).fill(draft)
    expect(page.get_by_text(re.compile(r"^1[0-9] words"))).to_be_visible()
    cases = [
        ("numbers.xlsx", xlsx_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "OmniPostr reads .txt, .md, .rst, .html, .docx and .pdf files; this one is .xlsx."),
        ("photo.txt", png_bytes(), "text/plain",
         "This file is named .txt but holds a PNG image, not text. OmniPostr reads .txt, .md, .rst, .html, .docx and .pdf files."),
        ("empty.txt", b"", "text/plain", "This file is empty."),
    ]
    for name, data, mime, message in cases:
        upload(page, name, data, mime)
        expect(page.get_by_role("alert").filter(has_text=message)).to_be_visible()
        if name == "photo.txt":
            page.screenshot(path=str(shots / "sources-bad-file.png"), full_page=True)
        page.get_by_role("tab", name="Paste").click()
        expect(text_box(page)).to_have_value(draft)
        expect(page.get_by_text(re.compile(r"\.(xlsx|txt)$"))).to_have_count(0)  # no file badge
    # and the draft is what gets generated
    only_x(page)
    gen_id = generate_and_wait(page)
    src = source_of(gen_id)
    assert (src.kind, src.text) == ("paste", draft)


class _ArticleHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server hook
        if self.path != "/blog/why-short-posts-win":
            self.send_error(404)
            return
        body = source_files.article_html()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def article_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ArticleHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.promise("CON-1")
def test_an_article_imported_from_a_link_is_generated(page: Page, smtp, private_urls_app, article_server, shots):
    sign_up(page, smtp, email="links@example.com", name="Lin Link", team="Lin Press")
    url = article_server + "/blog/why-short-posts-win"
    page.get_by_role("tab", name="Import link").click()
    page.get_by_label("Article address").fill(article_server + "/blog/missing")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("404")
    page.get_by_label("Article address").fill(url)
    page.get_by_role("button", name="Import", exact=True).click()
    toast = page.get_by_text(re.compile(r"^Imported [\d,]+ words\.$"))
    expect(toast).to_be_visible()
    words = int(re.search(r"Imported ([\d,]+) words", toast.inner_text()).group(1).replace(",", ""))
    expect(text_box(page)).to_have_value(re.compile(re.escape(SECOND_PARAGRAPH)))
    value = text_box(page).input_value()
    assert "Café owners" in value
    for leftover in ("SECRET_SCRIPT_TOKEN", "do-not-show", "INLINE_SCRIPT_TEXT", "STYLE_RULE_TEXT", "Pricing", "Copyright 2026"):
        assert leftover not in value, leftover
    expect(page.get_by_text(re.compile(rf"^{words:,} words · \d+ min read$"))).to_be_visible()
    expect(page.get_by_text("Imported link")).to_be_visible()
    expect(page.get_by_label("Title (optional)")).to_have_value(source_files.ARTICLE_TITLE)
    page.screenshot(path=str(shots / "sources-imported.png"), full_page=True)
    only_x(page)
    gen_id = generate_and_wait(page)
    src = source_of(gen_id)
    assert (src.kind, src.url, src.title) == ("url", url, source_files.ARTICLE_TITLE)
    assert "SECRET_SCRIPT_TOKEN" not in src.text and SECOND_PARAGRAPH in src.text
    with db.session() as s:
        assert next(x for x in s.exec(select(Source)).all() if x.url == url).words == words
