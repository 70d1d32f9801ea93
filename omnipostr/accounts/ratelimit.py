"""Rate limits on what a visitor can make the app do for free (mail to an address), with the
``limits`` library: counters in memory for one process, in Redis for several."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from limits import RateLimitItemPerHour, RateLimitItemPerMinute, storage, strategies

from omnipostr.settings import get_settings

_made: strategies.RateLimiter | None = None
_making = threading.Lock()


def _limiter() -> strategies.RateLimiter:
    """One limiter for the process, made once even when the first requests come in together
    (two would each count only their own requests)."""
    global _made
    if _made is None:
        with _making:
            if _made is None:
                url = get_settings().redis_url
                store = storage.storage_from_string(url) if url else storage.MemoryStorage()
                _made = strategies.MovingWindowRateLimiter(store)
    return _made


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
    global _made
    with _making:
        if _made is not None:
            _made.storage.reset()
        _made = None
