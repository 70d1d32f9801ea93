"""Engines turn one source into one platform's variant, as an async stream of events.

``get_engine(settings=None)`` picks the engine the app uses: Claude when an Anthropic API key
is configured (``settings.claude_enabled``), else the offline engine. Engines are kept, one
per configuration, so the Claude concurrency limit holds across generations.
"""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING

from omnipostr.repurpose.engines.base import Engine

if TYPE_CHECKING:
    from omnipostr.settings import Settings

__all__ = ["Engine", "get_engine", "reset_engines"]

_lock = threading.Lock()
_engines: dict[tuple, Engine] = {}


def _fingerprint(settings: Settings) -> tuple:
    secret = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else ""
    return (
        "claude",
        settings.anthropic_base_url,
        settings.claude_model,
        settings.claude_max_tokens,
        settings.claude_concurrency,
        settings.claude_timeout_seconds,
        settings.claude_max_retries,
        settings.allow_loopback_http_ai,
        hashlib.sha256(secret.encode()).hexdigest(),
    )


def get_engine(settings: Settings | None = None) -> Engine:
    """The engine for ``settings`` (the app's settings by default). Raises ``ValueError``
    when Claude is configured with a base URL content may not be sent to (AI-1)."""
    from omnipostr.settings import get_settings

    settings = settings or get_settings()
    if settings.claude_enabled:
        key = _fingerprint(settings)
        with _lock:
            engine = _engines.get(key)
            if engine is None:
                from omnipostr.repurpose.engines.claude import ClaudeEngine

                engine = _engines[key] = ClaudeEngine(settings)
            return engine
    with _lock:
        engine = _engines.get(("offline",))
        if engine is None:
            from omnipostr.repurpose.engines.offline import OfflineEngine

            engine = _engines[("offline",)] = OfflineEngine(delay=settings.offline_stream_delay)
        return engine


def reset_engines() -> None:
    """Forget the kept engines (tests that change settings call this)."""
    with _lock:
        _engines.clear()
