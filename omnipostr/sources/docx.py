"""Word documents (.docx) into a ``Document``, with python-docx: headings by their style,
lists by their numbering (bulleted or numbered, nested), quotes, tables, and links that keep
their words. The archive is checked before it is opened (``archive.check_archive``)."""

from __future__ import annotations

import io
import re

from omnipostr.sources.archive import check_archive
from omnipostr.sources.errors import ExtractError
from omnipostr.sources.model import Block, Document, inline

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


def _docx_paragraph(p) -> tuple[str, list[str]]:
    """A paragraph's text (a link keeps its words) and the addresses of its links."""
    from docx.text.hyperlink import Hyperlink

    parts: list[str] = []
    links: list[str] = []
    try:
        items = list(p.iter_inner_content())
    except AttributeError:
        return p.text, []
    for item in items:
        if isinstance(item, Hyperlink):
            parts.append(item.text)
            if item.address:
                links.append(item.url)
        else:
            parts.append(item.text)
    return "".join(parts), links


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


def parse(data: bytes) -> Document:
    check_archive(data)

    import docx
    from docx.table import Table

    try:
        doc = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several kinds for a broken package
        raise ExtractError("This Word document is damaged and could not be read.") from exc

    blocks: list[Block] = []
    title = ""
    numbers: dict[int, int] = {}  # the next number per level of the current list
    list_kind: bool | None = None  # None outside a list, else whether its top level is numbered
    for item in doc.iter_inner_content():
        if isinstance(item, Table):
            lines = _docx_table_lines(item)
            if lines:
                rows = ["| " + ln + " |" for ln in lines]
                rows.insert(1, "|" + "|".join(" --- " for _ in lines[0].split(" | ")) + "|")
                blocks.append(Block("table", "\n".join(rows)))
            list_kind = None
            continue
        text, links = _docx_paragraph(item)
        text = text.strip()
        style = (item.style.name if item.style is not None else "") or ""
        if not text:
            continue
        if style == "Title" or style.startswith("Heading"):
            level = 1 if style == "Title" else _style_level(style) + 1
            if style == "Title" or (not title and not blocks):
                title = title or inline(text)
            blocks.append(Block("heading", inline(text), level=level, links=links))
            list_kind = None
            continue
        if style.startswith(("Quote", "Intense Quote")):
            blocks.append(Block("quote", text, links=links))
            list_kind = None
            continue
        lst = _docx_list_format(doc, item)
        if lst is None:
            blocks.append(Block("paragraph", text, links=links))
            list_kind = None
            continue
        numbered, level = lst
        if list_kind is None or (level == 0 and list_kind is not numbered):
            numbers.clear()  # a new list (a numbered list after a bulleted one, or back)
            list_kind = numbered
        for deeper in [k for k in numbers if k > level]:
            del numbers[deeper]
        number = 0
        if numbered:
            numbers[level] = numbers.get(level, 0) + 1
            number = numbers[level]
        blocks.append(Block("item", text, level=level, ordered=numbered, number=number, links=links))

    if not title:
        first = next((b for b in blocks if b.kind == "heading"), None)
        title = first.text if first is not None else ""
    if not title:
        try:
            title = (doc.core_properties.title or "").strip()
        except Exception:
            title = ""
    return Document(title=title, blocks=blocks, format="docx", title_from_source=bool(title))
