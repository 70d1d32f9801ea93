"""A generation's posts handed over as files: Markdown, CSV (a row per post), JSON (the
schema in ``export.schema.json``) and plain text (a ZIP with a file per platform).

Every format keeps each post's text exactly as it goes out, emoji, line breaks and all (on a
platform that numbers its threads, with the "k/n" the app adds): Markdown puts it in a
fenced block longer than any run of backticks it holds, CSV quotes it, JSON escapes it, and
plain text is the text itself (UTF-8).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass

from sqlmodel import Session

from omnipostr.accounts.service import Actor
from omnipostr.library import service as library
from omnipostr.repurpose import platforms
from omnipostr.repurpose.cards import copy_text

FORMATS = ("md", "csv", "json", "zip")
SCHEMA = "https://omnipostr.com/schemas/generation-export/1"  # an identifier, never fetched
SCHEMA_VERSION = 1


@dataclass
class Export:
    filename: str
    media_type: str
    content: bytes


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].strip("-")
    return slug or "posts"


def _posts(view: library.GenerationView) -> list[tuple[library.VariantView, str]]:
    """The generation's finished posts, in its order, with each one's platform name."""
    return [(v, platforms.PLATFORMS[v.platform].name) for v in view.variants if v.post is not None and v.platform in platforms.PLATFORMS]


def _parts(v: library.VariantView) -> list[str]:
    return platforms.outgoing(v.platform, v.post.posts)


def document(view: library.GenerationView) -> dict:
    """The JSON document of a generation's posts."""
    gen = view.generation
    return {
        "$schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "generation": {
            "id": gen.id,
            "title": gen.title,
            "created_at": gen.created_at.isoformat(),
            "status": gen.status,
            "engine": gen.engine,
            "platforms": list(gen.platforms),
        },
        "posts": [
            {
                "platform": v.platform,
                "platform_name": name,
                "status": v.status,
                "edited": v.edited,
                "parts": _parts(v),
                "fields": dict(v.post.fields),
                "text": copy_text(v.post),
                "flags": [
                    {"kind": f.get("kind", ""), "value": f.get("value", ""), "message": f.get("message", "")}
                    for f in v.flags if isinstance(f, dict)
                ],
                "updated_at": v.updated_at.isoformat(),
            }
            for v, name in _posts(view)
        ],
    }


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def markdown(view: library.GenerationView) -> str:
    """A heading per platform, and each post in a fenced block (its text exactly)."""
    out = [f"# {view.generation.title}", ""]
    for v, name in _posts(view):
        out += [f"## {name}", ""]
        spec = platforms.PLATFORMS[v.platform]
        for f in spec.fields:
            if value := v.post.fields.get(f.name):
                out += [f"**{f.label.capitalize()}**", "", *_block(value)]
        parts = _parts(v)
        for i, part in enumerate(parts, 1):
            if len(parts) > 1:
                out += [f"**Post {i} of {len(parts)}**", ""]
            out += _block(part)
    return "\n".join(out)


def _block(text: str) -> list[str]:
    fence = _fence(text)
    return [fence + "text", text, fence, ""]


CSV_COLUMNS = ["generation_id", "title", "platform", "platform_name", "part", "of", "field", "text", "characters", "status", "edited"]


def csv_text(view: library.GenerationView) -> str:
    """A row per post (a thread's posts one per row, a script's fields one per row)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    gen = view.generation
    for v, name in _posts(view):
        common = [gen.id, gen.title, v.platform, name]
        tail = [v.status, "yes" if v.edited else "no"]
        for f in platforms.PLATFORMS[v.platform].fields:
            if value := v.post.fields.get(f.name):
                w.writerow([*common, "", "", f.name, value, len(value), *tail])
        parts = _parts(v)
        for i, part in enumerate(parts, 1):
            w.writerow([*common, i, len(parts), "", part, len(part), *tail])
    return buf.getvalue()


def text_zip(view: library.GenerationView) -> bytes:
    """A ZIP with one UTF-8 text file per platform: what "Copy" gives."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for v, _ in _posts(view):
            z.writestr(f"{v.platform}.txt", copy_text(v.post).encode("utf-8"))
    return buf.getvalue()


def export_generation(s: Session, actor: Actor, generation_id: int, fmt: str) -> Export:
    """One of the actor's generations as a file (NotFound for anyone else's)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format: {fmt}")
    view = library.get_generation(s, actor, generation_id)
    base = f"omnipostr-{generation_id}-{_slug(view.generation.title)}"
    library.record_feature(s, actor, "export", format=fmt)
    if fmt == "md":
        return Export(base + ".md", "text/markdown; charset=utf-8", markdown(view).encode("utf-8"))
    if fmt == "csv":  # with a byte order mark, so spreadsheet programs read it as UTF-8
        return Export(base + ".csv", "text/csv; charset=utf-8", csv_text(view).encode("utf-8-sig"))
    if fmt == "json":
        body = json.dumps(document(view), ensure_ascii=False, indent=2)
        return Export(base + ".json", "application/json", body.encode("utf-8"))
    return Export(base + "-text.zip", "application/zip", text_zip(view))
