"""Rate limits on what a visitor can make the app do for free (mail to an address), with the
``limits`` library: counters in memory for one process, in Redis for several."""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerHour, RateLimitItemPerMinute, storage, strategies

from omnipostr.settings import get_settings


@functools.cache
def _limiter() -> strategies.RateLimiter:
    url = get_settings().redis_url
    store = storage.storage_from_string(url) if url else storage.MemoryStorage()
    return strategies.MovingWindowRateLimiter(store)


def allow(scope: str, key: str, per_hour: int) -> bool:
    """Count one more ``scope`` action for ``key``; False when that is over ``per_hour``."""
    return _limiter().hit(RateLimitItemPerHour(per_hour), "omnipostr", scope, key)


@dataclass(frozen=True)
class Window:
    """One counted request against a per-minute limit: whether it is allowed, and what the
    ``RateLimit`` headers tell the caller."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until a request is allowed again (the oldest in the window expires)


def take(scope: str, key: str, per_minute: int) -> Window:
    """Count one request of ``scope`` for ``key`` against ``per_minute`` (a moving window): a
    refused request is not counted."""
    item = RateLimitItemPerMinute(max(1, per_minute))
    allowed = per_minute > 0 and _limiter().hit(item, "omnipostr", scope, key)
    reset_at, remaining = _limiter().get_window_stats(item, "omnipostr", scope, key)
    return Window(allowed, per_minute, max(0, remaining), max(1, math.ceil(reset_at - time.time())))


def reset() -> None:
    """Forget every counter (tests; a settings change)."""
    _limiter().storage.reset()
    _limiter.cache_clear()
