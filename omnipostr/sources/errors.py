"""What reading a source can go wrong with, and the limits it is read within."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_CHARS = 200_000


class ExtractError(Exception):
    """Input we cannot turn into text. ``message`` is written for the person who sent it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass
class Extracted:
    """A file or a page read into the composer's text."""

    title: str
    text: str
    kind: str
    """"txt", "md", "html", "docx" or "pdf": how the text was read."""
    words: int
    reading_minutes: int
    warnings: list[str] = field(default_factory=list)


def human_size(n: int) -> str:
    mb = 1024 * 1024
    if n >= mb:
        return f"{n / mb:.1f}".removesuffix(".0") + " MB"
    if n >= 1024:
        return f"{n / 1024:.1f}".removesuffix(".0") + " KB"
    return f"{n} bytes"


def size_error(size: int, limit: int, what: str = "This file") -> ExtractError:
    shown, limit_shown = human_size(size), human_size(limit)
    if shown == limit_shown:
        shown = f"over {limit_shown}"
    return ExtractError(f"{what} is {shown}; the limit is {limit_shown}.")


def check_length(text: str, max_chars: int, what: str) -> None:
    if len(text) > max_chars:
        raise ExtractError(f"{what} {len(text):,} characters long; the limit is {max_chars:,} characters.")
