"""What a generated post is, for every platform.

A ``Variant`` is the unit the whole product passes around: the engines produce it, the
platform validators check it, the library stores it, the scheduler publishes it.

- ``posts``: the main text. One item for a single post; several for a thread (X, Threads,
  Bluesky, Mastodon), each within the platform's per-post limit. For a TikTok/Shorts
  variant it holds the spoken script as one item; for a newsletter, the body.
- ``fields``: the platform's named parts besides the posts, such as ``title`` and
  ``description`` (YouTube Shorts), ``subject`` and ``preview`` (newsletter), ``hook`` and
  ``caption`` (TikTok). Which names exist is declared by the platform
  (``omnipostr.repurpose.platforms``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Variant:
    platform: str
    posts: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"platform": self.platform, "posts": list(self.posts), "fields": dict(self.fields)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Variant:
        return cls(
            platform=str(data["platform"]),
            posts=[str(p) for p in data.get("posts", [])],
            fields={str(k): str(v) for k, v in (data.get("fields") or {}).items()},
        )

    @property
    def text(self) -> str:
        """All of the variant as one plain text (for search, copy and faithfulness checks)."""
        parts = [f"{k.title()}: {v}" for k, v in self.fields.items() if v]
        parts.extend(self.posts)
        return "\n\n".join(parts)


@dataclass
class Problem:
    """One thing wrong with a variant, said so a user understands it."""

    code: str  # stable id, e.g. "too_long", "too_many_hashtags", "link_not_allowed"
    message: str  # e.g. "Post 2 is 301 characters; X allows 280."
    part: str = "posts"  # "posts" or a field name
    index: int | None = None  # which post, for threads
