"""The personal data retention keeps (see ``omnipostr.personal_data``)."""

from __future__ import annotations

from sqlmodel import col, select

from omnipostr.personal_data import Holding, pick
from omnipostr.retention.models import LegalHold, RetentionWarning


def _holds(s, user) -> list[dict]:
    """That the account was held and when; the reason and the admins stay with the company
    (they may concern a legal matter about others)."""
    rows = s.exec(select(LegalHold).where(LegalHold.user_id == user.id).order_by(col(LegalHold.id))).all()
    return [pick(r, "placed_at", "released_at") for r in rows]


def _warnings(s, user) -> list[dict]:
    rows = s.exec(select(RetentionWarning).where(RetentionWarning.user_id == user.id).order_by(col(RetentionWarning.id))).all()
    return [pick(r, "sent_at", "deletes_on") for r in rows]


HOLDINGS = [
    Holding("legal_holds", "account", "Whether and when your account was under a legal hold, which suspends the "
            "deletion of your data.", "Comply with the law and legal processes; protect rights and safety.",
            "legal obligation: preserving data a legal process needs", "hold", _holds, erase="anonymise"),
    Holding("retention_warnings", "communication", "When we warned you that your unused account would be deleted, "
            "and the date we gave.", "Tell you before an unused account is deleted, once.",
            "contract: running the account you opened", "account", _warnings),
]

NOT_PERSONAL: dict[str, str] = {}
