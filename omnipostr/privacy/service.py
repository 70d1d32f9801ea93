"""The privacy center's rules: what we hold about a person, their copy of it, and the choices
they make (restrict processing, marketing email). Plain Python over a session; the page and
the download route call these."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import defer
from sqlmodel import Session, col, delete, select

from omnipostr import clock, crypto
from omnipostr.accounts.models import User
from omnipostr.audit import service as audit
from omnipostr.notify import service as mail
from omnipostr.personal_data import CATEGORIES
from omnipostr.privacy import consent, export, inventory
from omnipostr.privacy.models import DataExport
from omnipostr.settings import get_settings
from omnipostr.usage.service import record

log = logging.getLogger("omnipostr.privacy")

MAX_ATTEMPTS = 3


@dataclass
class Held:
    category: str
    what: str
    count: int
    purpose: str
    basis: str
    retention: str


def what_we_hold(s: Session, user_id: int) -> list[Held]:
    """Every kind of personal data held about the user, with how many items of it."""
    user = s.get(User, user_id)
    if user is None:
        return []
    return [
        Held(CATEGORIES[h.category], h.what, h.count(s, user), h.purpose, h.basis, inventory.retention(h.retention))
        for h in inventory.holdings()
    ]


# --- the copy of one's data ----------------------------------------------------------------


@dataclass
class ExportView:
    id: int
    status: str
    size: int
    created_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None
    error: str


def _view(e: DataExport) -> ExportView:
    return ExportView(e.id, e.status, e.size, e.created_at, e.ready_at, e.expires_at, e.error)


def request_export(s: Session, user_id: int, *, ip: str = "") -> ExportView:
    """Ask for a copy of one's data; a job makes it. One that is already being made is
    returned instead of a second."""
    pending = s.exec(select(DataExport).where(DataExport.user_id == user_id, DataExport.status == "queued")).first()
    if pending is not None:
        return _view(pending)
    e = DataExport(user_id=user_id)
    s.add(e)
    s.flush()
    audit.record(s, "export_requested", actor_id=user_id, target=f"export:{e.id}", ip=ip)
    s.commit()
    s.refresh(e)
    return _view(e)


def exports_of(s: Session, user_id: int) -> list[ExportView]:
    """The user's exports that can still be downloaded or are being made, newest first."""
    rows = s.exec(
        select(DataExport).options(defer(DataExport.archive))  # the list never needs the archives
        .where(DataExport.user_id == user_id)
        .where(col(DataExport.expires_at).is_(None) | (col(DataExport.expires_at) > clock.now()))
        .order_by(col(DataExport.id).desc())
    ).all()
    return [_view(e) for e in rows]


def build_pending(s: Session, limit: int = 5) -> int:
    """Make the copies people asked for; each one ready is announced by email."""
    cfg = get_settings()
    ids = s.exec(select(DataExport.id).where(DataExport.status == "queued").order_by(col(DataExport.id)).limit(limit)).all()
    done = 0
    for export_id in ids:
        e = s.get(DataExport, export_id)
        user = s.get(User, e.user_id) if e else None
        if e is None or user is None or e.status != "queued":
            continue
        try:
            data = export.archive(s, user, cfg.base_url)
        except Exception as exc:  # one person's broken export must not stop the others
            log.exception("data export %s failed", e.id)
            e.attempts += 1
            if e.attempts >= MAX_ATTEMPTS:
                e.status, e.error = "failed", "The copy could not be made. Ask for a new one, or write to us."
            s.add(e)
            s.commit()
            if e.status == "failed":
                raise RuntimeError(f"data export {e.id} failed") from exc
            continue
        now = clock.now()
        e.archive = crypto.seal(data)
        e.size = len(data)
        e.status = "ready"
        e.ready_at = now
        e.expires_at = now + timedelta(days=cfg.export_link_days)
        s.add(e)
        mail.enqueue(
            s,
            "notice",
            user.email,
            {
                "subject": f"Your {cfg.company_name} data is ready to download",
                "name": user.name,
                "paragraphs": [
                    "The copy of your data you asked for is ready: a ZIP with one JSON document and a "
                    "spreadsheet per kind of data.",
                    f"Download it from your privacy settings (signed in) within {cfg.export_link_days} days; "
                    "after that it is deleted.",
                ],
                "link": cfg.base_url.rstrip("/") + "/settings/privacy",
                "link_text": "Open your privacy settings",
            },
            user_id=user.id,
        )
        s.commit()
        done += 1
    return done


def download(s: Session, user_id: int, export_id: int, *, ip: str = "") -> bytes | None:
    """The ZIP of one of the user's own ready, unexpired exports; None otherwise."""
    e = s.get(DataExport, export_id)
    if e is None or e.user_id != user_id or e.status != "ready" or e.archive is None:
        return None
    now = clock.now()
    if e.expires_at is not None and e.expires_at <= now:
        return None
    e.downloaded_at = now
    s.add(e)
    audit.record(s, "export_downloaded", actor_id=user_id, target=f"export:{e.id}", ip=ip)
    s.commit()
    return crypto.unseal(e.archive)


def purge_expired_exports(s: Session) -> int:
    """Delete the copies whose time is up (and failed ones after a day)."""
    now = clock.now()
    n = s.exec(delete(DataExport).where(col(DataExport.expires_at) <= now)).rowcount  # type: ignore[call-overload]
    n += s.exec(  # type: ignore[call-overload]
        delete(DataExport).where(DataExport.status == "failed", col(DataExport.created_at) < now - timedelta(days=1))
    ).rowcount
    s.commit()
    return n


# --- choices -------------------------------------------------------------------------------


def _choose(s: Session, user_id: int, column: str, on: bool, on_kind: str, off_kind: str) -> bool:
    """Set one of the user's privacy choices and record it, with its time (``privacy.*``
    events are kept even for a user who objected to usage analytics)."""
    user = s.get(User, user_id)
    setattr(user, column, bool(on))
    s.add(user)
    record(s, on_kind if on else off_kind, workspace_id=None, user_id=user_id)
    s.commit()
    return getattr(user, column)


def set_restriction(s: Session, user_id: int, on: bool, *, ip: str = "") -> bool:
    """GDPR art. 18: with restriction on, content is kept but never sent to the AI engine."""
    audit.record(s, "restriction_on" if on else "restriction_off", actor_id=user_id, ip=ip)
    return _choose(s, user_id, "restrict_processing", on, "privacy.restriction_on", "privacy.restriction_off")


def set_usage_objection(s: Session, user_id: int, on: bool) -> bool:
    """GDPR art. 21: object to usage analytics; from then on no usage event is recorded about
    the user. The objection itself is recorded, with its time, and logged as a consent choice
    (withdrawing it is consenting to usage analytics)."""
    latest = consent.latest_for_user(s, user_id)
    consent.record(
        s, consent_id=latest.consent_id if latest else None, user_id=user_id, analytics=not on,
        preferences=latest.preferences if latest else False, source="settings",
    )
    return _choose(s, user_id, "object_usage", on, "privacy.usage_objection", "privacy.usage_objection_withdrawn")


def set_marketing(s: Session, user_id: int, on: bool) -> bool:
    """Product and marketing email: only with the user's opt-in, off by default. Turning it
    off also withdraws marketing mail still waiting in the outbox for the user."""
    if not on:
        mail.drop_queued_marketing(s, user_id)
    audit.record(s, "consent_changed", actor_id=user_id, marketing=bool(on))
    return _choose(s, user_id, "marketing_opt_in", on, "privacy.marketing_on", "privacy.marketing_off")
