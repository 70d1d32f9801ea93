"""Recording and reading usage events."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from omnipostr.accounts.models import User
from omnipostr.observe.metrics import count_event
from omnipostr.usage.models import UsageEvent

_ALLOWED_DETAIL = (str, int, float, bool, type(None))


def record(
    s: Session, kind: str, *, workspace_id: int | None, user_id: int | None, **detail: Any
) -> UsageEvent | None:
    """Add a usage event to the caller's transaction. Detail values must be plain scalars
    (identifiers, counts, names of platforms): content never goes here. Nothing is recorded
    about a user who objected to it, except the record of their privacy choices
    (``privacy.*``); the aggregate metric is still counted."""
    clean = {k: v for k, v in detail.items() if isinstance(v, _ALLOWED_DETAIL) or isinstance(v, list | tuple)}
    for k, v in list(clean.items()):
        if isinstance(v, list | tuple):
            clean[k] = [x for x in v if isinstance(x, _ALLOWED_DETAIL)]
    if user_id is not None and not kind.startswith("privacy."):
        user = s.get(User, user_id)
        if user is not None and user.object_usage:
            count_event(kind)
            return None
    ev = UsageEvent(workspace_id=workspace_id, user_id=user_id, kind=kind[:64], detail=clean)
    s.add(ev)
    count_event(kind)
    return ev


def for_user(s: Session, user_id: int, limit: int = 10_000) -> list[UsageEvent]:
    return list(
        s.exec(select(UsageEvent).where(UsageEvent.user_id == user_id).order_by(col(UsageEvent.id)).limit(limit)).all()
    )
