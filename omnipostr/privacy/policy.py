"""The published privacy policy, read from ``policy.txt`` beside this file and split into
blocks (headings, paragraphs, bullet lists) for the policy page. The rows of its retention
table (5.2) are written from the settings the retention jobs apply (RET-6): with the default
periods they read exactly as the file does."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from omnipostr.privacy import inventory

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


def blocks() -> tuple[Block, ...]:
    """The policy's blocks, its retention table filled from the settings."""
    rows = inventory.policy_retention()
    out: list[Block] = []
    in_table = False
    for b in _blocks():
        label = next((lab for lab, _ in rows if b.kind == "p" and b.text.startswith(lab + " ")), None)
        if in_table and label is not None:
            out.append(Block("p", f"{label} {dict(rows)[label]}"))
            continue
        in_table = b.text == _TABLE_HEAD or (in_table and label is not None)
        out.append(b)
    return tuple(out)


_TABLE_HEAD = "Data Type Retention"


@functools.cache
def _blocks() -> tuple[Block, ...]:
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
