"""Which format a pasted text is written in: Markdown, reStructuredText, HTML or plain text,
told by the marks each one leaves (headings, links, directives, roles, tags), scored."""

from __future__ import annotations

import re

_HTML_START = re.compile(r"^\s*(?:<!doctype html|<html\b|<\?xml)", re.I)
_HTML_TAG = re.compile(r"</(?:p|div|h[1-6]|li|ul|ol|table|article|section|body|span|a|strong|em)>", re.I)

_RST = [
    (re.compile(r"^\.\.\s+[a-z][\w:-]*::", re.M), 4),  # directives
    (re.compile(r":[a-z][\w:-]*:`[^`]+`"), 3),  # roles
    (re.compile(r"^(?P<t>\S[^\n]*)\n(?P<u>[=\-~^\"'`#*+]{3,})\s*$", re.M), 2),  # underlined titles
    (re.compile(r"\[(?:\d+|#\w*|\*)\]_"), 3),  # footnote references
    (re.compile(r"`[^`<]+<[^>]+>`__?"), 3),  # `text <url>`_
    (re.compile(r"::\s*$", re.M), 1),  # literal blocks
    (re.compile(r"^\.\.\s+_[\w -]+:", re.M), 3),  # targets
    (re.compile(r"``[^`]+``"), 1),
    (re.compile(r"^:[A-Za-z][\w ]*:\s", re.M), 1),  # field lists
]
_MARKDOWN = [
    (re.compile(r"^#{1,6}\s+\S", re.M), 3),  # ATX headings
    (re.compile(r"^(?:```|~~~)", re.M), 3),  # fences
    (re.compile(r"!?\[[^\]\n]+\]\([^)\s]+\)"), 3),  # links and images
    (re.compile(r"^\s*\[[^\]\n]+\]:\s+\S", re.M), 3),  # reference definitions
    (re.compile(r"\[[^\]\n]+\]\[[^\]\n]*\]"), 2),  # reference links
    (re.compile(r"(?<![\w*])\*\*[^*\n]+\*\*(?!\*)"), 1),
    (re.compile(r"(?<!`)`[^`\n]+`(?!`)"), 1),
    (re.compile(r"^\|.+\|\s*$", re.M), 1),
    (re.compile(r"^>\s", re.M), 1),
]


def _score(text: str, rules) -> float:
    return sum(min(len(p.findall(text)), 8) * w for p, w in rules)


def detect_format(text: str) -> str:
    """markdown, rst, html or plain."""
    head = text[:20_000]
    if _HTML_START.match(head) or len(_HTML_TAG.findall(head)) >= max(3, head.count("\n") // 4):
        return "html"
    rst, md = _score(head, _RST), _score(head, _MARKDOWN)
    if max(rst, md) < 3:
        return "plain"
    return "rst" if rst > md else "markdown"
