"""The contract every engine keeps.

An engine turns one source into one platform's variant. ``stream`` yields events while it
works: ``Delta`` for each piece of streamed text, ``Retry`` when it waits before trying
again, then exactly one of ``Done`` (a parsed variant with usage) or ``Failed`` (a reason a
user can read). It never raises for an outage: outages become ``Failed``.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from omnipostr import sources
from omnipostr.repurpose.variant import Variant


@dataclass
class BrandVoice:
    name: str
    description: str = ""
    samples: list[str] = field(default_factory=list)


@dataclass
class Options:
    tone: str = "conversational"
    audience: str = ""
    language: str = "English"
    brand_voice: BrandVoice | None = None
    hashtags: bool = True
    emoji: Literal["none", "some", "lots"] = "some"
    call_to_action: str = ""
    link: str = ""
    """A link back to the original, included where the platform allows links."""
    platform_settings: dict[str, int] = field(default_factory=dict)
    """Per-platform knobs, e.g. {"mastodon_limit": 500, "instagram_hashtag_cap": 5}."""
    variation: int = 0
    """Which take of a post this is: 0 the first, then 1, 2... for each "Regenerate". Claude
    varies by itself; the deterministic offline engine opens and lays out each take differently."""
    previous_take: str = ""
    """For "Regenerate": the post as it is now (its rendered text), so another take can be
    written against it."""


@dataclass
class Source:
    """What a generation is made from: the stored title and text, and the document they
    parse into (parsed once, on first use, and shared by every platform)."""

    title: str
    text: str

    @functools.cached_property
    def document(self) -> sources.Document:
        return sources.parse(self.text, title_hint=self.title)


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float = 0.0


@dataclass
class Delta:
    text: str


@dataclass
class Retry:
    attempt: int
    wait_seconds: float
    reason: str


@dataclass
class Done:
    variant: Variant
    raw: str
    usage: Usage
    model: str


@dataclass
class Failed:
    reason: str
    retryable: bool = True
    usage: Usage = field(default_factory=Usage)


Event = Delta | Retry | Done | Failed


class Engine(Protocol):
    name: str  # "claude" or "offline"
    model: str

    def stream(
        self,
        source: Source,
        platform: str,
        options: Options,
        *,
        feedback: str | None = None,
    ) -> AsyncIterator[Event]:
        """Generate one platform's variant. ``feedback`` lists problems of an earlier try
        (from the validator or the faithfulness check) for the engine to fix."""
        ...
