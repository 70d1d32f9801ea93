"""The corpus of real documents the post-quality tests read: documents written by others,
in the formats people paste (Markdown, reStructuredText, HTML, plain text), in several
languages, plus a few of our own (Japanese, Chinese, emoji-heavy, and the three test
articles). ``tests/fixtures/corpus/manifest.json`` lists them with their licences; the
documents by others are not copied into this repository: they are read, at test time, from
the packages the project installs (a package's description, a documentation page a package
ships, Python's own help topics)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"
ARTICLES = Path(__file__).resolve().parent / "fixtures" / "articles"


@dataclass(frozen=True)
class Doc:
    id: str
    format: str  # the format the text is written in: markdown, rst, html or plain
    language: str
    title: str | None  # the document's own title; None when it has none
    origin: str
    licence: str
    text: str


def _read(origin: dict) -> str:
    kind = origin["kind"]
    if kind == "description":  # a package's long description (its README, as published)
        meta = importlib.metadata.metadata(origin["package"])
        return meta.get_payload() or meta.get("Description") or ""
    if kind == "package-file":
        spec = importlib.util.find_spec(origin["package"])
        assert spec is not None and spec.origin, origin
        return (Path(spec.origin).parent / origin["path"]).read_text(encoding="utf-8")
    if kind == "help-topic":  # Python's own documentation, as ``help()`` shows it
        from pydoc_data.topics import topics

        return topics[origin["topic"]]
    if kind == "own":
        base = ARTICLES if origin["path"].startswith("articles/") else CORPUS / "own"
        return (base / origin["path"].removeprefix("articles/")).read_text(encoding="utf-8")
    raise ValueError(f"unknown origin {kind}")


def _title(entry: dict) -> str | None:
    """The manifest's title; ``{version}`` stands for the installed package's version, for a
    README whose title names its release."""
    title = entry["title"]
    if title and "{version}" in title:
        title = title.replace("{version}", importlib.metadata.version(entry["origin"]["package"]))
    return title


def documents() -> list[Doc]:
    entries = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    return [
        Doc(id=e["id"], format=e["format"], language=e["language"], title=_title(e),
            origin=json.dumps(e["origin"]), licence=e["licence"], text=_read(e["origin"]))
        for e in entries
    ]
