"""HTML into a ``Document``.

A whole page goes through trafilatura, which finds the article (without navigation, ads,
cookie banners, footers, scripts and styles) and hands back its structure as XML: headings,
paragraphs, lists, quotes, code and tables, which map onto blocks. When trafilatura finds no
article, or for a fragment (raw HTML inside Markdown), lxml's HTML parser is walked instead.
The title is the page's own: trafilatura's choice between ``<title>`` and ``<h1>``.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

from omnipostr.sources.model import Block, Document, inline

_SKIP = {"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas",
         "select", "button", "datalist", "nav", "form", "head"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


def _flat(text: str) -> str:
    """A text node as a browser shows it: a line break in the HTML source is a space (only
    <br> breaks a line)."""
    return text.replace("\r", " ").replace("\n", " ")


def _text_of(el) -> tuple[str, list[str], list[str]]:
    """Plain text, links and inline code of an element of trafilatura's XML."""
    parts: list[str] = []
    links: list[str] = []
    code: list[str] = []

    def walk(node) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("graphic",):
            pass
        elif tag == "lb":
            parts.append("\n")
        else:
            if tag == "ref" and node.get("target"):
                links.append(node.get("target"))
            if tag == "code":
                code.append("".join(node.itertext()))
            if node.text:
                parts.append(_flat(node.text))
            for child in node:
                walk(child)
                if child.tail:
                    parts.append(_flat(child.tail))

    if el.text:
        parts.append(_flat(el.text))
    for child in el:
        walk(child)
        if child.tail:
            parts.append(_flat(child.tail))
    text = "\n".join(inline(line) for line in "".join(parts).split("\n")).strip()
    return text, links, code


def _from_trafilatura(xml: str) -> tuple[str, list[Block]]:
    root = etree.fromstring(xml.encode("utf-8"))
    title = root.get("title") or ""
    main = root.find("main")
    blocks: list[Block] = []
    if main is None:
        return title, blocks

    def walk(el, depth: int = 0) -> None:
        tag = el.tag
        if tag == "head":
            text, links, code = _text_of(el)
            level = int((el.get("rend") or "h2").lstrip("h") or 2) if (el.get("rend") or "").startswith("h") else 2
            if text:
                blocks.append(Block("heading", inline(text), level=level, links=links, code=code))
        elif tag == "p":
            text, links, code = _text_of(el)
            if text:
                blocks.append(Block("paragraph", text, links=links, code=code))
        elif tag == "quote":
            text, links, code = _text_of(el)
            if text:
                blocks.append(Block("quote", text, links=links, code=code))
        elif tag == "code":
            body = "".join(el.itertext()).strip("\n")
            if body.strip():
                blocks.append(Block("code", body))
        elif tag == "list":
            ordered = (el.get("rend") or "") == "ol"
            n = 0
            for item in el:
                if item.tag != "item":
                    continue
                n += 1
                nested = [c for c in item if c.tag == "list"]
                for c in nested:
                    item.remove(c)
                text, links, code = _text_of(item)
                if text:
                    blocks.append(Block("item", text, level=depth, ordered=ordered, number=n if ordered else 0,
                                        links=links, code=code))
                for c in nested:
                    walk(c, depth + 1)
        elif tag == "table":
            rows = []
            for r in el.iter("row"):
                cells = [inline("".join(c.itertext())) for c in r if c.tag == "cell"]
                rows.append("| " + " | ".join(cells) + " |")
                if len(rows) == 1:
                    rows.append("|" + "|".join(" --- " for _ in cells) + "|")
            if rows:
                blocks.append(Block("table", "\n".join(rows)))
        elif tag in ("div", "main"):
            for child in el:
                walk(child, depth)

    for child in main:
        walk(child)
    return title, blocks


def fragment_blocks(markup: str) -> list[Block]:
    """The blocks of an HTML fragment, walked with lxml (no article detection)."""
    if not markup.strip():
        return []
    try:
        root = lxml_html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    blocks: list[Block] = []
    buffer: list[str] = []
    links: list[str] = []
    code: list[str] = []

    def flush(kind: str = "paragraph", level: int = 0) -> None:
        text = "\n".join(inline(x) for x in "".join(buffer).split("\n")).strip()
        if text:
            blocks.append(Block(kind, inline(text) if kind == "heading" else text, level=level,
                                links=list(links), code=list(code)))
        buffer.clear()
        links.clear()
        code.clear()

    def walk(el, depth: int = 0) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag in _SKIP or not tag:
            if el.tail:
                buffer.append(el.tail)
            return
        if tag in _HEADINGS:
            flush()
            buffer.append(el.text_content())
            flush("heading", _HEADINGS[tag])
        elif tag == "pre":
            flush()
            body = el.text_content().strip("\n")
            if body.strip():
                blocks.append(Block("code", body))
        elif tag in ("ul", "ol"):
            flush()
            n = 0
            for li in el:
                if not isinstance(li.tag, str) or li.tag.lower() != "li":
                    continue
                n += 1
                nested = [c for c in li if isinstance(c.tag, str) and c.tag.lower() in ("ul", "ol")]
                for c in nested:
                    li.remove(c)
                text = inline(li.text_content())
                if text:
                    blocks.append(Block("item", text, level=depth, ordered=tag == "ol", number=n if tag == "ol" else 0,
                                        links=[a.get("href") for a in li.iter("a") if a.get("href")]))
                for c in nested:
                    walk(c, depth + 1)
        elif tag == "blockquote":
            flush()
            text = inline(el.text_content())
            if text:
                blocks.append(Block("quote", text))
        elif tag == "table":
            flush()
            rows = []
            for tr in el.iter("tr"):
                cells = [inline(c.text_content()) for c in tr if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")]
                rows.append("| " + " | ".join(cells) + " |")
                if len(rows) == 1:
                    rows.append("|" + "|".join(" --- " for _ in cells) + "|")
            if rows:
                blocks.append(Block("table", "\n".join(rows)))
        elif tag == "img":
            pass
        elif tag == "br":
            buffer.append("\n")
        elif tag in ("p", "div", "section", "article", "header", "footer", "aside", "main", "figure", "figcaption",
                     "details", "summary", "dl", "dt", "dd", "address", "body", "html"):
            flush()
            if el.text:
                buffer.append(_flat(el.text))
            for child in el:
                walk(child, depth)
            flush()
        else:  # inline elements
            if tag == "a" and el.get("href") and not el.get("href").startswith("#"):
                links.append(el.get("href"))
            if tag == "code":
                code.append(el.text_content())
            if el.text:
                buffer.append(_flat(el.text))
            for child in el:
                walk(child, depth)
        if el.tail:
            buffer.append(_flat(el.tail))

    if root.text:
        buffer.append(_flat(root.text))
    for child in root:
        walk(child)
    flush()
    return blocks


_SITE_SEPARATOR = re.compile(r"\s[|·•–—-]\s|\s::\s")


def _page_title(markup: str) -> str:
    """The page's own title: its ``<title>``, unless that carries the site's name ("How we
    did it | Acme Blog") and the first ``<h1>`` says the title alone; an ``<h1>`` that only
    adds to the ``<title>`` (a version number after it) does not win."""
    try:
        doc = lxml_html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        return ""
    found = doc.xpath("//title")
    title = inline(found[0].text_content()) if found else ""
    found = doc.xpath("//h1")
    h1 = inline(found[0].text_content()) if found else ""
    if title and h1 and _SITE_SEPARATOR.search(title) and h1 in title:
        return h1
    return title or h1


def parse(markup: str, *, url: str | None = None, fallback: bool = True, title_hint: str = "") -> Document:
    """A page's article as a document. With ``fallback`` off, a page where trafilatura finds
    no article gives an empty document (URL import says so rather than keep the menus)."""
    title, blocks = "", []
    if markup.strip():
        import trafilatura

        try:
            xml = trafilatura.extract(
                markup, url=url, output_format="xml", include_formatting=True, include_tables=True,
                include_links=True, include_images=False, include_comments=False, with_metadata=True,
                favor_recall=True, deduplicate=False,
            )
        except Exception:  # a parser failure inside trafilatura: use the fallback
            xml = None
        if xml:
            try:
                title, blocks = _from_trafilatura(xml)
            except etree.XMLSyntaxError:
                title, blocks = "", []
    if not blocks and fallback:
        body = markup
        try:
            doc = lxml_html.document_fromstring(markup)
            found = doc.xpath("//body")
            if found:
                body = lxml_html.tostring(found[0], encoding="unicode")
        except (etree.ParserError, ValueError):
            pass
        blocks = fragment_blocks(body)
    title = _page_title(markup) or title
    from_source = bool(title)
    return Document(title=title or title_hint, blocks=blocks, format="html", title_from_source=from_source)
