"""The audit log: security and privacy events, appended in the caller's transaction and never
changed. Accounts and privacy call ``record`` where the event happens; a person reads their own
entries (``recent_for_user``, the Settings → Security page); a daily job deletes entries older
than ``audit_keep_days`` (``purge``); erasing an account keeps its entries as evidence, without
the link to the person and without their IP address (``forget_person``).

The detail is a few identifiers, counts and flags: never content, never an address, never a
secret (``record`` refuses anything else).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from omnipostr import clock
from omnipostr.audit.models import AuditEvent
from omnipostr.settings import get_settings

KINDS: dict[str, str] = {
    "sign_in": "Signed in",
    "sign_in_failed": "Failed sign-in",
    "password_changed": "Password changed",
    "email_changed": "Email address changed",
    "session_revoked": "Signed out of a session",
    "export_requested": "Asked for a copy of your data",
    "export_downloaded": "Downloaded a copy of your data",
    "erasure_requested": "Asked to delete the account",
    "erasure_done": "Account deleted",
    "restriction_on": "Restricted processing",
    "restriction_off": "Lifted the restriction of processing",
    "consent_changed": "Changed a privacy choice",
    "privacy_request": "Privacy request updated",
    "legal_hold_set": "Legal hold set",
    "legal_hold_released": "Legal hold released",
    "key_rotation": "Encryption key rotated",
    "backup": "Backup made",
    "admin_action": "Admin action",
    "incident_recorded": "Data breach recorded",
    "incident_accounts_selected": "Accounts affected by a data breach chosen",
    "authority_notified": "Supervisory authority told of a data breach",
    "breach_notice_sent": "Data breach notice sent",
    "api_key_created": "API key made",
    "api_key_revoked": "API key revoked",
}
"""Every kind of event, with the words a person reads for it."""

MAX_DETAIL_KEYS = 8
MAX_DETAIL_TEXT = 64
_SECRET_PARTS = ("password", "token", "secret", "email", "address", "content", "body", "note")
_SECRET_NAMES = ("key", "code", "text", "words", "hash")


def _clean_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """The detail as stored, or ``ValueError``: short scalar values only, no key that names a
    secret or content, no email address."""
    if len(detail) > MAX_DETAIL_KEYS:
        raise ValueError(f"an audit detail has at most {MAX_DETAIL_KEYS} entries")
    out: dict[str, Any] = {}
    for k, v in detail.items():
        name = k.lower()
        if any(w in name for w in _SECRET_PARTS) or name in _SECRET_NAMES or name.endswith(_SECRET_NAMES):
            raise ValueError(f"an audit detail never holds {k!r}")
        if isinstance(v, str):
            if len(v) > MAX_DETAIL_TEXT or "@" in v:
                raise ValueError(f"audit detail {k!r}: a short identifier only, never content or an address")
        elif not isinstance(v, bool | int | float | type(None)):
            raise ValueError(f"audit detail {k!r}: a scalar only")
        out[k] = v
    return out


def record(s: Session, kind: str, *, actor_id: int | None, target: str = "", ip: str = "", **detail: Any) -> AuditEvent:
    """Append one event to the caller's transaction (the caller commits, so the entry stands
    or falls with the change it records)."""
    if kind not in KINDS:
        raise ValueError(f"unknown audit event kind {kind!r}")
    row = AuditEvent(
        at=clock.now(), kind=kind, actor_id=actor_id, target=(target or "")[:64], ip=(ip or "")[:64],
        detail=_clean_detail(detail),
    )
    s.add(row)
    return row


@dataclass(frozen=True)
class Entry:
    """One line of a person's security activity."""

    kind: str
    what: str
    at: datetime
    ip: str


def recent_for_user(s: Session, user_id: int, limit: int = 50) -> list[Entry]:
    """The user's own most recent entries (what they did, or what was tried on their account),
    newest first; never anyone else's."""
    rows = s.exec(
        select(AuditEvent).where(AuditEvent.actor_id == user_id)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(max(1, min(limit, 200)))
    ).all()
    return [Entry(r.kind, KINDS.get(r.kind, r.kind), r.at, r.ip) for r in rows]


def of_user(s: Session, user_id: int) -> list[AuditEvent]:
    """Every entry where the user acted, oldest first (their copy of their data)."""
    return list(s.exec(select(AuditEvent).where(AuditEvent.actor_id == user_id).order_by(col(AuditEvent.id))).all())


def purge(s: Session, now: datetime | None = None) -> int:
    """Delete the entries older than ``audit_keep_days`` (the daily job). Commits."""
    cutoff = (now or clock.now()) - timedelta(days=get_settings().audit_keep_days)
    n = s.exec(delete(AuditEvent).where(col(AuditEvent.at) < cutoff)).rowcount  # type: ignore[call-overload]
    s.commit()
    return n or 0


def forget_person(s: Session, user_id: int) -> int:
    """For account erasure: the user's entries stay as the record of what happened, without
    their IP address and without a target that names them; erasure then clears ``actor_id``
    with every other link to the user. The caller commits."""
    n = s.exec(  # type: ignore[call-overload]
        update(AuditEvent).where(col(AuditEvent.actor_id) == user_id).values(ip="")
    ).rowcount
    n += s.exec(  # type: ignore[call-overload]
        update(AuditEvent).where(col(AuditEvent.target) == f"user:{user_id}").values(target="")
    ).rowcount
    return n or 0
