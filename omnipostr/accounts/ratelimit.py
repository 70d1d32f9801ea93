"""Rate limits on what a visitor can make the app do for free (mail to an address), with the
``limits`` library: counters in memory for one process, in Redis for several."""

from __future__ import annotations

import functools

from limits import RateLimitItemPerHour, storage, strategies

from omnipostr.settings import get_settings


@functools.cache
def _limiter() -> strategies.RateLimiter:
    url = get_settings().redis_url
    store = storage.storage_from_string(url) if url else storage.MemoryStorage()
    return strategies.MovingWindowRateLimiter(store)


def allow(scope: str, key: str, per_hour: int) -> bool:
    """Count one more ``scope`` action for ``key``; False when that is over ``per_hour``."""
    return _limiter().hit(RateLimitItemPerHour(per_hour), "omnipostr", scope, key)


def reset() -> None:
    """Forget every counter (tests; a settings change)."""
    _limiter().storage.reset()
    _limiter.cache_clear()
