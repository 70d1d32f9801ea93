"""Markdown (CommonMark with tables and strikethrough, front matter) into a ``Document``, with
markdown-it-py's token stream.

Headings, paragraphs, list items (a wrapped item is one item), quotes, fenced and indented
code, tables. Inline: emphasis markers go, links keep their words (the address is kept on
the block), images and badges go, inline code keeps its exact text, raw HTML keeps its text
(scripts and styles go), reference links (``[text][1]``) are resolved by the parser like any
other link.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from omnipostr.sources.model import Block, Document, inline

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FRONT_TITLE = re.compile(r"^title\s*:\s*(.+?)\s*$", re.M | re.I)
_SKIP_HTML = re.compile(r"<\s*(script|style|noscript|template)\b", re.I)
# GitHub's footnotes: a reference "[^1]" and a definition "[^1]: ..." (not CommonMark)
_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]+\]")
_FOOTNOTE_DEF = re.compile(r"^\[\^[^\]\s]+\]:\s")


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _is_contents_entry(got: _Inline) -> bool:
    """A list item that is a link to a section of the page, as in a table of contents."""
    text = got.text.strip()
    return bool(got.in_page_links) and not got.links and len(text.split()) <= 12 and not text.endswith((".", "!", "?"))


class _Inline:
    """The plain text, links and code spans of one inline token."""

    def __init__(self, children) -> None:
        self.parts: list[str] = []
        self.links: list[str] = []
        self.code: list[str] = []
        self.in_page_links = 0  # links to a section of the same page ("#getting-started")
        shown = [c.type for c in children or [] if not (c.type == "text" and not c.content.strip())]
        # "_updated as of May, on a laptop_" under a table: all of it in emphasis
        self.all_emphasis = len(shown) >= 3 and shown[0] == "em_open" and shown[-1] == "em_close"
        skipping: str | None = None
        for c in children or []:
            t = c.type
            if skipping:
                if t == "html_inline" and re.match(rf"</\s*{skipping}\b", c.content, re.I):
                    skipping = None
                continue
            if t == "text":
                self.parts.append(c.content)
            elif t == "code_inline":
                self.parts.append(c.content)
                self.code.append(c.content)
            elif t in ("softbreak",):
                self.parts.append(" ")
            elif t == "hardbreak":
                self.parts.append("\n")
            elif t == "link_open":
                href = c.attrs.get("href", "") or ""
                if href.startswith("#"):
                    self.in_page_links += 1
                elif href:
                    self.links.append(href)
            elif t == "html_inline":
                tag = _SKIP_HTML.match(c.content)
                if tag:
                    skipping = tag.group(1).lower()
                elif re.match(r"<\s*br\b", c.content, re.I):
                    self.parts.append("\n")
            # images (and so badges) carry no prose: their alt text is left out

    @property
    def text(self) -> str:
        text = "".join(self.parts)
        if not _FOOTNOTE_DEF.match(text):
            text = _FOOTNOTE_REF.sub("", text)
        return "\n".join(inline(line) for line in text.split("\n")).strip()


def parse(source: str, *, title_hint: str = "") -> Document:
    from omnipostr.sources import html as html_reader

    front_title = ""
    m = _FRONT_MATTER.match(source)
    if m:
        t = _FRONT_TITLE.search(m.group(1))
        if t:
            front_title = t.group(1).strip().strip("\"'")
        source = source[m.end() :]

    tokens = _parser().parse(source)
    blocks: list[Block] = []
    lists: list[list] = []  # [ordered, next number] per open list
    item_open: list[Block | None] = []  # the block of each open list item (its first paragraph)
    heading_level = 0
    quote_depth = 0
    row: list[str] | None = None
    rows: list[str] = []

    def add(block: Block) -> None:
        blocks.append(block)

    for tok in tokens:
        t = tok.type
        if t in ("bullet_list_open", "ordered_list_open"):
            start = int(tok.attrs.get("start", 1) or 1) if t == "ordered_list_open" else 0
            lists.append([t == "ordered_list_open", start])
        elif t in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif t == "list_item_open":
            item_open.append(None)
        elif t == "list_item_close":
            item_open.pop()
        elif t == "heading_open":
            heading_level = int(tok.tag[1])
        elif t == "heading_close":
            heading_level = 0
        elif t == "blockquote_open":
            quote_depth += 1
        elif t == "blockquote_close":
            quote_depth -= 1
        elif t == "inline" and row is not None:
            row.append(inline(_Inline(tok.children).text))
        elif t == "inline":
            got = _Inline(tok.children)
            if not got.text or _FOOTNOTE_DEF.match(got.text):
                continue  # a footnote's definition is not part of the text
            if heading_level:
                add(Block("heading", inline(got.text), level=heading_level, links=got.links, code=got.code))
            elif item_open and item_open[-1] is None and _is_contents_entry(got):
                item_open[-1] = Block("item", got.text)  # a table of contents entry: not part of the text
            elif item_open and item_open[-1] is None:
                ordered, n = lists[-1]
                blk = Block("item", got.text, level=len(lists) - 1, ordered=ordered, number=n if ordered else 0,
                            links=got.links, code=got.code)
                if ordered:
                    lists[-1][1] = n + 1
                item_open[-1] = blk
                add(blk)
            elif item_open:  # a later paragraph of the same item
                item_open[-1].text += "\n" + got.text
                item_open[-1].links += got.links
                item_open[-1].code += got.code
            elif quote_depth:
                add(Block("quote", got.text, links=got.links, code=got.code))
            elif got.all_emphasis and blocks and blocks[-1].kind in ("table", "code"):
                continue  # the caption of a table or a listing: it says nothing alone
            else:
                add(Block("paragraph", got.text, links=got.links, code=got.code))
        elif t in ("fence", "code_block"):
            add(Block("code", tok.content.rstrip("\n"), language=(tok.info or "").split(" ")[0].strip()))
        elif t == "html_block":
            if _SKIP_HTML.match(tok.content.strip()):
                continue
            add_blocks = html_reader.fragment_blocks(tok.content)
            for b in add_blocks:
                add(b)
        elif t == "table_open":
            rows = []
        elif t == "tr_open":
            row = []
        elif t == "tr_close":
            rows.append("| " + " | ".join(row or []) + " |")
            if len(rows) == 1:
                rows.append("|" + "|".join(" --- " for _ in (row or [""])) + "|")
            row = None
        elif t == "table_close":
            add(Block("table", "\n".join(rows)))

    title = front_title
    from_source = True
    if not title:
        first = next((b for b in blocks if b.kind == "heading"), None)
        top = min((b.level for b in blocks if b.kind == "heading"), default=0)
        if first is not None and (first.level == 1 or (first.level == top and blocks.index(first) == 0)):
            title = first.text
    if not title:
        title, from_source = title_hint, False
    return Document(title=title, blocks=blocks, format="markdown", title_from_source=from_source)
