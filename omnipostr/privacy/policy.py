"""The published privacy policy, read from ``policy.txt`` beside this file and split into
blocks (headings, paragraphs, bullet lists) for the policy page."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

POLICY_FILE = Path(__file__).with_name("policy.txt")

_HEADING = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+(\S.*)$")
_BULLET = re.compile(r"^\s*[•\-\*]\s+(.*)$")
_UPDATED = re.compile(r"Last updated:\s*([A-Z][a-z]+ \d{1,2}, \d{4})")


@dataclass(frozen=True)
class Block:
    kind: str  # "title" | "h2" | "h3" | "p" | "li"
    text: str


@functools.cache
def policy_text() -> str:
    return POLICY_FILE.read_text(encoding="utf-8")


def last_updated() -> str:
    m = _UPDATED.search(policy_text())
    return m.group(1) if m else ""


@functools.cache
def blocks() -> tuple[Block, ...]:
    out: list[Block] = []
    lines = policy_text().splitlines()
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        if i == 0:
            out.append(Block("title", line))
            continue
        if m := _BULLET.match(raw):
            out.append(Block("li", m.group(1).strip()))
            continue
        m = _HEADING.match(line)
        if m and len(line) < 90 and not line.endswith("."):
            out.append(Block("h3" if "." in m.group(1) else "h2", line))
            continue
        out.append(Block("p", line))
    return tuple(out)
