"""The one clock the product reads. Tests move it instead of waiting.

Datetimes are timezone-aware UTC everywhere; SQLModel's datetime columns store and return
them as UTC (SQLite keeps no zone, so they are stored as UTC without an offset).
A running app can be moved too, for end-to-end tests of retention and scheduling: when
``OMNIPOSTR_CLOCK_FILE`` names a file, the number of seconds written in it is added to the
time (test environments only).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset + _file_offset()


def _file_offset() -> timedelta:
    path = os.environ.get("OMNIPOSTR_CLOCK_FILE")
    if not path:
        return timedelta(0)
    try:
        with open(path, encoding="utf-8") as f:
            return timedelta(seconds=float(f.read().strip() or 0))
    except (OSError, ValueError):
        return timedelta(0)


def advance(delta: timedelta) -> None:
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)
