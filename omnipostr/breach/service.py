"""Breach response (BRC-1): record an incident in the register, choose the accounts it
affected, tell the supervisory authority's time, and send the notice to exactly those people.

Every function takes the acting admin's user id (``by``) and refuses anyone who is not an admin
(``NotAllowed``). Each step is kept in the audit log. The notice goes through the outbox, to
each chosen account once: sending again mails only accounts chosen since (a conditional update
claims each one, so two runs at once cannot both mail a person). Each function commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from omnipostr import clock
from omnipostr.accounts.models import Membership, User, Workspace
from omnipostr.audit import service as audit
from omnipostr.breach.models import Incident, IncidentRecipient
from omnipostr.notify import service as mail
from omnipostr.personal_data import CATEGORIES
from omnipostr.settings import get_settings

TEXT_MAX = 5000


class BreachError(ValueError):
    """A step that cannot be done as asked; ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotAllowed(BreachError):
    """The acting account is not an admin."""


def _admin(s: Session, by: int | None) -> User:
    user = s.get(User, by) if by else None
    if user is None or not user.is_admin or user.deletion_requested_at is not None:
        raise NotAllowed("Only an admin can do this.")
    return user


def _text(value: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise BreachError(f"Say {label}.")
    if len(value) > TEXT_MAX:
        raise BreachError(f"Keep {label} under {TEXT_MAX:,} characters.")
    return value


def _get(s: Session, incident_id: int) -> Incident:
    row = s.get(Incident, incident_id) if incident_id else None
    if row is None:
        raise BreachError(f"There is no incident {incident_id}.")
    return row


def record_incident(
    s: Session, *, by: int, summary: str, discovered_at: datetime, data_categories: Iterable[str],
    consequences: str, measures: str, advice: str, occurred_at: datetime | None = None,
    authority_notified_at: datetime | None = None, ip: str = "",
) -> Incident:
    """Add an incident to the register: what happened, when (if known) and when it was
    discovered, the kinds of data it touched, its likely consequences, the measures taken and
    what affected people should do."""
    admin = _admin(s, by)
    now = clock.now()
    cats = list(dict.fromkeys(c.strip() for c in data_categories if c and c.strip()))
    if not cats:
        raise BreachError("Say which kinds of data were affected.")
    if unknown := [c for c in cats if c not in CATEGORIES]:
        raise BreachError(f"Unknown kinds of data: {', '.join(unknown)}. Choose from {', '.join(CATEGORIES)}.")
    if discovered_at > now:
        raise BreachError("The discovery cannot be in the future.")
    if occurred_at is not None and occurred_at > discovered_at:
        raise BreachError("A breach cannot happen after it was discovered.")
    if authority_notified_at is not None and not discovered_at <= authority_notified_at <= now:
        raise BreachError("The authority was told after the discovery, and not in the future.")
    row = Incident(
        summary=_text(summary, "what happened"), occurred_at=occurred_at, discovered_at=discovered_at,
        data_categories=cats, consequences=_text(consequences, "the likely consequences"),
        measures=_text(measures, "what was done about it"), advice=_text(advice, "what affected people should do"),
        authority_notified_at=authority_notified_at, created_by_id=admin.id, created_at=now,
    )
    s.add(row)
    s.flush()
    audit.record(s, "incident_recorded", actor_id=admin.id, target=f"incident:{row.id}", ip=ip)
    s.commit()
    return row


def authority_notified(s: Session, incident_id: int, *, by: int, at: datetime | None = None, ip: str = "") -> Incident:
    """Record when the supervisory authority was told (now, unless ``at`` says when)."""
    admin = _admin(s, by)
    row = _get(s, incident_id)
    at = at or clock.now()
    if not row.discovered_at <= at <= clock.now():
        raise BreachError("The authority was told after the discovery, and not in the future.")
    row.authority_notified_at = at
    s.add(row)
    audit.record(s, "authority_notified", actor_id=admin.id, target=f"incident:{row.id}", ip=ip)
    s.commit()
    return row


def select_affected(
    s: Session, incident_id: int, *, by: int, user_ids: Iterable[int] | None = None,
    workspace_id: int | None = None, everyone: bool = False, ip: str = "",
) -> int:
    """Add accounts to those the incident affected: by id, every member of a workspace, or
    every account. Returns how many were added (an account chosen before counts once)."""
    admin = _admin(s, by)
    row = _get(s, incident_id)
    ids: set[int] = set()
    if user_ids is not None:
        wanted = {int(i) for i in user_ids}
        found = set(s.exec(select(User.id).where(col(User.id).in_(wanted))).all()) if wanted else set()
        if missing := sorted(wanted - found):
            raise BreachError(f"No account has the id {', '.join(map(str, missing))}.")
        ids |= found
    if workspace_id is not None:
        if s.get(Workspace, workspace_id) is None:
            raise BreachError(f"There is no workspace {workspace_id}.")
        ids |= set(s.exec(select(Membership.user_id).where(Membership.workspace_id == workspace_id)).all())
    if everyone:
        ids |= set(s.exec(select(User.id)).all())
    if user_ids is None and workspace_id is None and not everyone:
        raise BreachError("Choose the affected accounts: by id, by workspace, or all.")
    known = set(s.exec(select(IncidentRecipient.user_id).where(IncidentRecipient.incident_id == row.id)).all())
    new = sorted(ids - known)
    now = clock.now()
    for uid in new:
        s.add(IncidentRecipient(incident_id=row.id, user_id=uid, selected_at=now))
    audit.record(s, "incident_accounts_selected", actor_id=admin.id, target=f"incident:{row.id}", ip=ip, added=len(new))
    s.commit()
    return len(new)


@dataclass
class NoticeReport:
    queued: int = 0
    """Notices queued now."""
    already: int = 0
    """Chosen accounts that had the notice before."""
    skipped: int = 0
    """Chosen accounts whose address cannot be mailed (they stay to be sent)."""


def notice_context(row: Incident, user: User) -> dict:
    """What the ``breach_notice`` email says to ``user``."""
    cfg = get_settings()
    return {
        "name": user.name,
        "reference": row.id,
        "what_happened": row.summary,
        "occurred": row.occurred_at,
        "discovered": row.discovered_at,
        "data_affected": [CATEGORIES.get(c, c) for c in row.data_categories],
        "consequences": row.consequences,
        "measures": row.measures,
        "advice": row.advice,
        "privacy_email": cfg.privacy_email,
    }


def send_notice(s: Session, incident_id: int, *, by: int, ip: str = "") -> NoticeReport:
    """Queue the notice for every chosen account that has not had it; each account gets it
    once, however often this runs."""
    admin = _admin(s, by)
    row = _get(s, incident_id)
    report = NoticeReport()
    recipients = s.exec(
        select(IncidentRecipient).where(IncidentRecipient.incident_id == row.id, col(IncidentRecipient.user_id).is_not(None))
        .order_by(col(IncidentRecipient.id))
    ).all()
    for r in recipients:
        if r.notified_at is not None:
            report.already += 1
            continue
        user = s.get(User, r.user_id)
        if user is None:
            continue
        try:
            with s.begin_nested():
                won = s.execute(
                    update(IncidentRecipient)
                    .where(col(IncidentRecipient.id) == r.id, col(IncidentRecipient.notified_at).is_(None))
                    .values(notified_at=clock.now())
                    .execution_options(synchronize_session=False)
                ).rowcount
                if not won:  # another run took this one
                    report.already += 1
                    continue
                mail.enqueue(s, "breach_notice", user.email, notice_context(row, user), user_id=user.id)
        except ValueError:  # an address that cannot be mailed: left to send once it is fixed
            report.skipped += 1
            continue
        report.queued += 1
    audit.record(s, "breach_notice_sent", actor_id=admin.id, target=f"incident:{row.id}", ip=ip, queued=report.queued)
    s.commit()
    return report


@dataclass
class IncidentView:
    incident: Incident
    affected: int
    """Accounts chosen as affected (those erased since included)."""
    notified: int
    """Of those, how many were sent the notice."""

    @property
    def authority_status(self) -> str:
        """The 72-hour clock in words."""
        i = self.incident
        left = i.authority_time_left
        if i.authority_notified_at is not None:
            return (f"authority told {_hours(left)} before the deadline" if left >= timedelta(0)
                    else f"authority told {_hours(-left)} late")
        return f"{_hours(left)} left to tell the authority" if left >= timedelta(0) else f"authority notice overdue by {_hours(-left)}"


def _hours(d: timedelta) -> str:
    h = d.total_seconds() / 3600
    return f"{h:.1f} h"


def _view(s: Session, row: Incident) -> IncidentView:
    def count(*where) -> int:
        return s.exec(select(func.count()).select_from(IncidentRecipient).where(IncidentRecipient.incident_id == row.id, *where)).one()

    return IncidentView(row, count(), count(col(IncidentRecipient.notified_at).is_not(None)))


def get_incident(s: Session, incident_id: int, *, by: int) -> IncidentView:
    _admin(s, by)
    return _view(s, _get(s, incident_id))


def register(s: Session, *, by: int) -> list[IncidentView]:
    """Every incident, newest first."""
    _admin(s, by)
    rows = s.exec(select(Incident).order_by(col(Incident.discovered_at).desc(), col(Incident.id).desc())).all()
    return [_view(s, r) for r in rows]


def notified_users(s: Session, incident_id: int, *, by: int) -> list[int]:
    """The ids of the accounts that were sent the notice (those still open)."""
    _admin(s, by)
    return list(s.exec(
        select(IncidentRecipient.user_id).where(
            IncidentRecipient.incident_id == incident_id, col(IncidentRecipient.notified_at).is_not(None),
            col(IncidentRecipient.user_id).is_not(None),
        ).order_by(col(IncidentRecipient.user_id))
    ).all())
