"""What a Claude request costs, from its token usage.

Prices are Anthropic's list prices in US dollars per million tokens. A prompt-cache write
(5-minute cache) costs 1.25x the input price and a cache read 0.1x, except where a model's
``cache_read_factor`` says otherwise (Sonnet 5.5's cache reads cost 0.05x since 2026-10-07);
output tokens have their own price. A dated model id ("claude-sonnet-4-5-20250929") is priced
as its family ("claude-sonnet-4-5"). A model missing from the table is priced at the default
model's rates (``DEFAULT_MODEL``, the default of ``Settings.claude_model``), and
``price_for`` says so with ``known=False`` (the engine logs it once).

``min_cache_tokens`` is the shortest prefix the model caches: a shorter marked prefix is
neither written nor read, so the engine does not wait for a cache write that cannot happen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from omnipostr.repurpose.engines.base import Usage

log = logging.getLogger(__name__)

CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1


@dataclass(frozen=True)
class Price:
    input: float  # USD per million input tokens
    output: float  # USD per million output tokens
    min_cache_tokens: int = 1024
    cache_read_factor: float = CACHE_READ_FACTOR

    @property
    def cache_write(self) -> float:
        return self.input * CACHE_WRITE_FACTOR

    @property
    def cache_read(self) -> float:
        return self.input * self.cache_read_factor


DEFAULT_MODEL = "claude-sonnet-5-5"

PRICES: dict[str, Price] = {
    "claude-sonnet-5-5": Price(2.0, 10.0, cache_read_factor=0.05),
    "claude-opus-4-5": Price(5.0, 25.0, 4096),
    "claude-opus-4-1": Price(15.0, 75.0),
    "claude-opus-4": Price(15.0, 75.0),
    "claude-sonnet-4-5": Price(3.0, 15.0),
    "claude-sonnet-4": Price(3.0, 15.0),
    "claude-3-7-sonnet": Price(3.0, 15.0),
    "claude-3-5-sonnet": Price(3.0, 15.0),
    "claude-haiku-4-5": Price(1.0, 5.0, 4096),
    "claude-3-5-haiku": Price(0.8, 4.0, 2048),
    "claude-3-haiku": Price(0.25, 1.25, 2048),
    "claude-3-opus": Price(15.0, 75.0),
}

_warned: set[str] = set()


def family(model: str) -> str | None:
    """The table's name for ``model`` ("claude-opus-4-1-20250805" is "claude-opus-4-1", not
    "claude-opus-4"), or ``None`` when the table does not know it."""
    name = (model or "").strip().lower()
    if name.endswith("-latest"):
        name = name[: -len("-latest")]
    for known in sorted(PRICES, key=len, reverse=True):
        if name == known or name.startswith(known + "-") or name.startswith(known + "@"):
            return known
    return None


def price_for(model: str) -> tuple[Price, bool]:
    """The price of ``model`` and whether the model is in the table (``False``: the default
    model's rates were used)."""
    known = family(model)
    if known is None:
        return PRICES[DEFAULT_MODEL], False
    return PRICES[known], True


def cost_usd(model: str, usage: Usage) -> float:
    """The cost of ``usage`` on ``model`` in US dollars (unrounded)."""
    price, known = price_for(model)
    if not known and model not in _warned:
        _warned.add(model)
        log.warning("No price known for model %r; costing it at %s rates.", model, DEFAULT_MODEL)
    return (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_creation_input_tokens * price.cache_write
        + usage.cache_read_input_tokens * price.cache_read
    ) / 1_000_000


def with_cost(model: str, usage: Usage) -> Usage:
    """``usage`` with its ``cost_usd`` filled in."""
    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_creation_input_tokens=usage.cache_creation_input_tokens,
        cache_read_input_tokens=usage.cache_read_input_tokens,
        cost_usd=cost_usd(model, usage),
    )
