"""Plain text into a ``Document``: paragraphs, headings, list items and code told apart by the
shape of the lines, the way a reader does.

- Lines are joined into paragraphs (hard-wrapped text reads as one paragraph); a blank line
  ends one.
- A list item starts with a marker (``-``, ``*``, ``•``, ``1.``, ``a)``, or the ``o`` RFCs use);
  the lines that follow it, indented or not, are the rest of that item until the next marker.
- A short line without closing punctuation, standing alone before text, is a heading
  (``1. Introduction`` in an RFC, ``WHY IT MATTERS``).
- Code: a block indented well past the text around it, or lines that read as code (``def``,
  ``import``, braces, semicolons, prompts).
- RFC page furniture (page headers and footers, form feeds) goes.
"""

from __future__ import annotations

import re
from collections import Counter

from omnipostr.sources.model import HTML_TAG, Block, Document
from omnipostr.sources.model import inline as _inline

_PAGE_FOOTER = re.compile(r"^\S.*\s\[Page \d+\]\s*$")
_PAGE_HEADER = re.compile(r"^(?:RFC|Internet-Draft)\s+\S+\s{2,}.*\s{2,}\S.*\d{4}\s*$")
_MARKER = re.compile(r"^(?P<indent>\s*)(?P<marker>[-*•+‣◦▪]|\(?\d{1,3}[.)]|\(?[a-z][.)]|o(?=\s))\s+(?P<text>\S.*)$")
_HEADING_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[A-Z]\.|Appendix [A-Z]\.?)\s+\S")
_CODE_LINE = re.compile(
    r"^\s*(?:def |class |import |from \S+ import |return\b|if .*:$|for .*:$|while .*:$|>>>|\$ |#include|"
    r"function\b|const |let |var |public |private |package |func |fn |<\w+[^>]*>$)"
    r"|[{};]\s*$|^\s*[}\])]\s*$|\s(?:==|!=|=>|->|::|\+=|-=)\s"
)
_END_PUNCT = (".", "!", "?", ":", ";", ",", "。", "！", "？", "…", '"', "”", "’", ")", "，", "、", "：", "；")
# HTML pasted into plain text ("Hello <b>world</b>"): scripts and styles go with their content,
# other tags go and leave their words
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def inline(text: str) -> str:
    return _inline(HTML_TAG.sub("", text))


_UNDERLINE = re.compile(r"^\s*([=\-~^*#+_])\1{2,}\s*$")
_CJK_LINE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _is_code(lines: list[str], baseline: int) -> bool:
    if all(_indent(ln) >= baseline + 4 for ln in lines if ln.strip()) and len(lines) >= 1:
        # an indented block: code, unless it reads as sentences
        words = " ".join(lines).split()
        prose_like = sum(1 for w in words if w.isalpha()) > 0.8 * max(len(words), 1)
        if not prose_like or any(_CODE_LINE.search(ln) for ln in lines):
            return True
    code_lines = sum(1 for ln in lines if _CODE_LINE.search(ln))
    return code_lines >= max(1, (len(lines) + 1) // 2)


def _is_heading(lines: list[str], is_last: bool) -> bool:
    if len(lines) != 1 or is_last:
        return False
    line = lines[0].strip()
    if not line or len(line) > 80 or line.endswith(_END_PUNCT):
        return False
    if _CJK_LINE.search(line):  # no capitals to go by: short, and not a sentence
        return len(line) <= 40
    words = line.split()
    if len(words) > 12:
        return False
    return bool(_HEADING_NUMBER.match(line)) or line.isupper() or line[:1].isupper()


def parse(text: str, *, title_hint: str = "") -> Document:
    text = _SCRIPT.sub(" ", text)
    lines = [ln for ln in text.replace("\f", "\n").split("\n") if not (_PAGE_FOOTER.match(ln) or _PAGE_HEADER.match(ln))]
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for ln in lines:
        if ln.strip():
            current.append(ln.rstrip())
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)

    indents = Counter(_indent(ln) for p in paragraphs for ln in p if not _MARKER.match(ln))
    baseline = min((i for i, n in indents.most_common(3)), default=0) if indents else 0

    blocks: list[Block] = []
    for pi, para in enumerate(paragraphs):
        is_last = pi == len(paragraphs) - 1
        # a line underlined with a row of = - * ~ (Setext or reStructuredText style) is a heading
        if len(para) >= 2 and _UNDERLINE.match(para[1]) and not _UNDERLINE.match(para[0]):
            blocks.append(Block("heading", inline(para[0]), level=1 if not blocks else 2))
            para = para[2:]
            if not para:
                continue
        if len(para) == 1 and _UNDERLINE.match(para[0]):
            continue
        if _is_code(para, baseline):
            common = min(_indent(ln) for ln in para if ln.strip())
            blocks.append(Block("code", "\n".join(ln[common:] for ln in para)))
            continue
        if _is_heading(para, is_last):
            blocks.append(Block("heading", inline(para[0]), level=1 if _indent(para[0]) <= baseline and not blocks else 2))
            continue
        items: list[Block] = []
        prose: list[str] = []
        for ln in para:
            m = _MARKER.match(ln)
            if m:
                marker = m.group("marker")
                ordered = marker[-1] in ".)" and marker.strip("()").rstrip(".)").isalnum()
                number = int(marker.strip("()").rstrip(".)")) if ordered and marker.strip("()").rstrip(".)").isdigit() else 0
                depth = max(0, (_indent(ln) - baseline) // 2) if items else 0
                items.append(Block("item", m.group("text").strip(), level=min(depth, 3), ordered=ordered, number=number))
            elif items:
                items[-1].text += " " + ln.strip()  # a wrapped item goes on
            else:
                prose.append(ln.strip())
        if prose:
            blocks.append(Block("paragraph", inline(" ".join(prose))))
        for it in items:
            it.text = inline(it.text)
            blocks.append(it)

    title, from_source = "", False
    if blocks and blocks[0].kind == "heading":
        title, from_source = blocks[0].text, True
    return Document(title=title or title_hint, blocks=blocks, format="plain", title_from_source=from_source)
