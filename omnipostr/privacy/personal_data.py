"""The personal data the privacy center keeps (see ``omnipostr.personal_data``)."""

from __future__ import annotations

from sqlmodel import col, select

from omnipostr.personal_data import Holding, pick
from omnipostr.privacy.models import DataExport


def _exports(s, user) -> list[dict]:
    rows = s.exec(select(DataExport).where(DataExport.user_id == user.id).order_by(col(DataExport.id))).all()
    return [pick(r, "status", "size", "created_at", "ready_at", "expires_at", "downloaded_at") for r in rows]


HOLDINGS = [
    Holding("data_exports", "privacy", "The copies of your data you asked for, until their link expires.",
            "Give you your data.", "legal obligation: your right of access", "export", _exports),
]

NOT_PERSONAL: dict[str, str] = {}
