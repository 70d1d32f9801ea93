"""The personal data the audit log keeps (see ``omnipostr.personal_data``)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from omnipostr.audit import service
from omnipostr.audit.models import AuditEvent
from omnipostr.personal_data import Holding, pick


def _events(s, user) -> list[dict]:
    return [pick(e, "at", "kind", "target", "ip", "detail") | {"what": service.KINDS.get(e.kind, e.kind)}
            for e in service.of_user(s, user.id)]


def _count(s, user) -> int:
    return s.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.actor_id == user.id)).one()


HOLDINGS = [
    Holding("audit_events", "security", "A log of security and privacy events of your account: sign-ins (and failed "
            "ones), password and address changes, sessions ended, copies of your data, privacy choices and requests; "
            "when, and from which IP address. Never what you wrote, never a password.",
            "Keep accounts secure, investigate misuse, and show that we handled your data and requests as the law asks.",
            "legitimate interest: keeping accounts secure; legal obligation: accountability", "audit", _events,
            erase="anonymise", counter=_count),
]

NOT_PERSONAL: dict[str, str] = {}
