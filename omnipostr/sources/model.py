"""The one source model every engine reads: a document of titled sections made of headings,
paragraphs, list items, quotes, code blocks and tables, with code kept apart from prose.

Every format (Markdown, reStructuredText, HTML, plain text, Word, PDF) is parsed into a
``Document``. Posts are written from its prose (``Document.sentences``): headings,
paragraphs, list items and quotes, with inline markup gone, links reduced to their words and
inline code kept exactly as written. Code blocks and tables are never prose.
``Document.markdown()`` is the canonical text of a document (what the composer shows for a
file or a link), and reading that text back gives the same document.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Literal

from omnipostr.sources import text as T

BlockKind = Literal["heading", "paragraph", "item", "quote", "code", "table"]
PROSE: frozenset[str] = frozenset({"heading", "paragraph", "item", "quote"})


@dataclass
class Block:
    kind: BlockKind
    text: str
    """Prose: plain text (no markup). Code and tables: as written."""
    level: int = 0
    """A heading's level (1 = the title level); a list item's depth (0 = top)."""
    ordered: bool = False
    number: int = 0
    """A numbered list item's number."""
    language: str = ""
    """A code block's language, when it says."""
    links: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    """The inline code spans of a prose block, exactly as written (identifiers, commands)."""

    @property
    def is_prose(self) -> bool:
        return self.kind in PROSE


@dataclass(frozen=True)
class Sentence:
    text: str
    block: int
    """Index of its block in ``Document.blocks``."""
    index: int
    """Its place in the block (0 = the block's first sentence)."""
    kind: BlockKind
    section: str
    """The heading it sits under ("" before the first)."""
    has_code: bool = False


@dataclass
class Document:
    title: str
    blocks: list[Block]
    format: str
    """markdown, rst, html, plain, docx or pdf: how it was read."""
    language: str = ""
    warnings: list[str] = field(default_factory=list)
    title_from_source: bool = True
    """False when the title was made up (no heading or title field in the document)."""

    def __post_init__(self) -> None:
        if not self.language:
            self.language = T.detect_language(self.prose_text())

    @property
    def prose(self) -> list[Block]:
        return [b for b in self.blocks if b.is_prose]

    @property
    def links(self) -> list[str]:
        return list(dict.fromkeys(u for b in self.blocks for u in b.links))

    def prose_text(self) -> str:
        """The words of the document without its code and tables: one block a paragraph."""
        return "\n\n".join(b.text for b in self.blocks if b.is_prose and b.text)

    @functools.cached_property
    def sentences(self) -> list[Sentence]:
        out: list[Sentence] = []
        section = ""
        for i, b in enumerate(self.blocks):
            if b.kind == "heading":
                section = b.text
            if not b.is_prose or not b.text:
                continue
            pieces = [b.text] if b.kind == "heading" else T.sentences(b.text, self.language)
            for j, s in enumerate(pieces):
                out.append(Sentence(s, i, j, b.kind, section, has_code=any(c in s for c in b.code)))
        return out

    def markdown(self) -> str:
        """The canonical text of the document (Markdown), title first."""
        out: list[str] = []
        if self.title and not (self.blocks and self.blocks[0].kind == "heading" and self.blocks[0].text == self.title):
            out.append(f"# {self.title}")
        prev: Block | None = None
        for b in self.blocks:
            if b.kind == "heading":
                piece = "#" * min(max(b.level, 1), 6) + " " + b.text
            elif b.kind == "item":
                marker = f"{b.number or 1}. " if b.ordered else "- "
                piece = "  " * b.level + marker + _with_code(b)
            elif b.kind == "quote":
                piece = "\n".join("> " + ln for ln in b.text.split("\n"))
            elif b.kind == "code":
                fence = "~~~~" if "```" in b.text else "```"
                piece = f"{fence}{b.language}\n{b.text}\n{fence}"
            elif b.kind == "table":
                piece = b.text
            else:
                piece = _with_code(b)
            if prev is not None and prev.kind == "item" and b.kind == "item":
                out[-1] += "\n" + piece
            else:
                out.append(piece)
            prev = b
        return "\n\n".join(out)


def _with_code(b: Block) -> str:
    """A prose block's text with its inline code in backticks again."""
    if not b.code:
        return b.text
    out, rest = "", b.text
    for span in b.code:
        i = rest.find(span)
        if i < 0:
            continue
        tick = "``" if "`" in span else "`"
        out += rest[:i] + f"{tick}{span}{tick}"
        rest = rest[i + len(span) :]
    return out + rest


# an HTML tag written into text that is not HTML ("Hello <b>world</b>", a README's <h1 align=…>)
HTML_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>")


def inline(text: str) -> str:
    """Whitespace of an inline run as a reader sees it: one space between words."""
    return " ".join(text.split())
