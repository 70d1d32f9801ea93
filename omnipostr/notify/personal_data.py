"""The personal data the email outbox keeps (see ``omnipostr.personal_data``)."""

from __future__ import annotations

from sqlmodel import col, func, select

from omnipostr.notify.models import OutboxMessage
from omnipostr.personal_data import Holding, pick


def _mail(s, user) -> list[dict]:
    """Mail sent to this user: its kind, subject and fate (the bodies held one-time links)."""
    rows = s.exec(select(OutboxMessage).where(OutboxMessage.user_id == user.id).order_by(col(OutboxMessage.id))).all()
    return [pick(r, "kind", "to_address", "subject", "status", "created_at", "sent_at", "marketing") for r in rows]


HOLDINGS = [
    Holding("outbox_messages", "communication", "The email we sent you: address, subject, when it went.",
            "Send account, security and (if you agreed) product mail.", "contract: account and security mail",
            "mail", _mail,
            counter=lambda s, user: s.exec(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.user_id == user.id)).one()),
]

NOT_PERSONAL: dict[str, str] = {}
