"""The personal data the API keeps (see ``omnipostr.personal_data``): the keys a person made,
never the keys themselves (only their prefix; the database holds a keyed hash)."""

from __future__ import annotations

from sqlmodel import col, select

from omnipostr.api.models import ApiKey
from omnipostr.personal_data import Holding, pick


def _keys(s, user) -> list[dict]:
    rows = s.exec(select(ApiKey).where(ApiKey.created_by == user.id).order_by(col(ApiKey.id))).all()
    return [pick(r, "workspace_id", "name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at")
            for r in rows]


HOLDINGS = [
    Holding("api_keys", "security", "The API keys you made: name, prefix, scopes, when each was made and last used "
            "(never the key: only a keyed hash of it, which cannot be turned back into the key).",
            "Let your systems use the API for your workspace; tell keys apart.",
            "contract: the service you asked for", "api_key", _keys),
]

NOT_PERSONAL: dict[str, str] = {}
