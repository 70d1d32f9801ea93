"""The personal data the breach register keeps (see ``omnipostr.personal_data``)."""

from __future__ import annotations

from sqlmodel import col, select

from omnipostr.breach.models import Incident, IncidentRecipient
from omnipostr.personal_data import Holding, pick, plain


def _affected(s, user) -> list[dict]:
    """The incidents that affected the user, and when they were told."""
    rows = s.exec(
        select(IncidentRecipient, Incident).join(Incident, col(Incident.id) == IncidentRecipient.incident_id)
        .where(IncidentRecipient.user_id == user.id).order_by(col(IncidentRecipient.id))
    ).all()
    return [
        pick(i, "summary", "occurred_at", "discovered_at", "data_categories", "measures", "advice")
        | {"incident": i.id, "selected_at": plain(r.selected_at), "notified_at": plain(r.notified_at)}
        for r, i in rows
    ]


def _recorded(s, user) -> list[dict]:
    """Incidents the user recorded as an admin (their name is on the register)."""
    rows = s.exec(select(Incident).where(Incident.created_by_id == user.id).order_by(col(Incident.id))).all()
    return [pick(i, "id", "created_at") for i in rows]


LEGAL = "legal obligation: documenting personal data breaches and telling the people they affect"

HOLDINGS = [
    Holding("incident_recipients", "security", "Security incidents that affected your data, and when we told you.",
            "Tell you of a breach that affects you, and show that we did.", LEGAL, "incident", _affected,
            erase="anonymise"),
    Holding("incidents", "security", "Security incidents you recorded as an admin (the register names who recorded each).",
            "Keep the register of personal data breaches.", LEGAL, "incident", _recorded, erase="anonymise"),
]

NOT_PERSONAL: dict[str, str] = {}
