"""The personal data usage keeps (see ``omnipostr.personal_data``)."""

from __future__ import annotations

from sqlmodel import col, func, select

from omnipostr.personal_data import Holding, pick
from omnipostr.usage.models import UsageEvent


def _events(s, user) -> list[dict]:
    rows = s.exec(select(UsageEvent).where(UsageEvent.user_id == user.id).order_by(col(UsageEvent.id))).all()
    return [pick(r, "workspace_id", "kind", "detail", "created_at") for r in rows]


HOLDINGS = [
    Holding("usage_events", "usage", "What you did in the app and when (a generation, a copy, an API call, an error): "
            "identifiers and counts, never content.", "Keep the service reliable; see which features are used.",
            "legitimate interest: running and improving the service", "usage", _events,
            counter=lambda s, user: s.exec(select(func.count()).select_from(UsageEvent).where(UsageEvent.user_id == user.id)).one()),
]

NOT_PERSONAL: dict[str, str] = {}
