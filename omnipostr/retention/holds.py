"""Legal holds (SHR-2): an admin suspends the deletion of an account and every purge of its
data, for a legal reason, until the hold is released.

An account's data, for a hold, is what its person created (sources, generations, usage,
sessions, one-time links, failed sign-ins at their address) and everything in the
workspaces the account owns. While a hold is in force the retention jobs skip it and
erasure (asked for by the person or due for inactivity) waits; when the last hold on the
account is released they resume on their next run, from where the rules say they are.

The ``legal_holds`` table is the record: who placed each hold, when and why, and who released
it and when (a released hold stays). :func:`events` reads it as a list of events, for the
audit log to take over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from omnipostr import clock
from omnipostr.accounts.models import Membership, User, Workspace
from omnipostr.audit import service as audit
from omnipostr.retention.models import LegalHold

MAX_REASON = 2000


class HoldRefused(PermissionError):
    """A hold that may not be placed or released (not an admin, no such account, no reason)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _admin(s: Session, admin_id: int) -> User:
    admin = s.get(User, admin_id)
    if admin is None or not admin.is_admin or admin.deletion_requested_at is not None:
        raise HoldRefused("Only an admin can place or release a legal hold.")
    return admin


def _reason(text: str, *, required: bool) -> str:
    clean = " ".join((text or "").split())
    if required and not clean:
        raise HoldRefused("Say why the account is held (the matter, the request or the authority).")
    if len(clean) > MAX_REASON:
        raise HoldRefused(f"Keep the reason under {MAX_REASON} characters.")
    return clean


def place(s: Session, admin_id: int, user_id: int, reason: str) -> LegalHold:
    """Hold the account ``user_id`` for ``reason``, acting as admin ``admin_id``. An account
    may carry several holds (one per matter); it stays held until every one is released.
    The caller commits."""
    _admin(s, admin_id)
    why = _reason(reason, required=True)
    if s.get(User, user_id) is None:
        raise HoldRefused("There is no such account.")
    hold = LegalHold(user_id=user_id, reason=why, placed_by=admin_id, placed_at=clock.now())
    s.add(hold)
    s.flush()
    # the admin's entry: the held person's own activity list does not show it
    audit.record(s, "legal_hold_set", actor_id=admin_id, target=f"user:{user_id}", hold=hold.id)
    return hold


def release(s: Session, admin_id: int, hold_id: int, reason: str = "") -> LegalHold:
    """End hold ``hold_id``, acting as admin ``admin_id``; the row stays as the record.
    Releasing a released hold changes nothing. The caller commits."""
    _admin(s, admin_id)
    why = _reason(reason, required=False)
    hold = s.get(LegalHold, hold_id)
    if hold is None:
        raise HoldRefused("There is no such hold.")
    if hold.released_at is None:
        hold.released_at = clock.now()
        hold.released_by = admin_id
        hold.release_reason = why
        s.add(hold)
        s.flush()
        audit.record(s, "legal_hold_released", actor_id=admin_id, target=f"user:{hold.user_id}", hold=hold.id)
    return hold


def listing(s: Session, admin_id: int, user_id: int | None = None) -> list[LegalHold]:
    """Every hold (on one account), oldest first, for admin ``admin_id``."""
    _admin(s, admin_id)
    q = select(LegalHold)
    if user_id is not None:
        q = q.where(LegalHold.user_id == user_id)
    return list(s.exec(q.order_by(col(LegalHold.id))).all())


def in_force(s: Session, user_id: int) -> list[LegalHold]:
    """The holds on the account that are not released, oldest first."""
    return list(
        s.exec(
            select(LegalHold).where(LegalHold.user_id == user_id, col(LegalHold.released_at).is_(None))
            .order_by(col(LegalHold.id))
        ).all()
    )


def is_held(s: Session, user_id: int) -> bool:
    return bool(in_force(s, user_id))


def history(s: Session, user_id: int) -> list[LegalHold]:
    """Every hold the account had, released ones included, oldest first."""
    return list(s.exec(select(LegalHold).where(LegalHold.user_id == user_id).order_by(col(LegalHold.id))).all())


# --- what the retention jobs and erasure leave alone ----------------------------------------


def held_users():
    """A select of the ids of the accounts held now (for ``IN``; never NULL)."""
    return select(LegalHold.user_id).where(col(LegalHold.released_at).is_(None), col(LegalHold.user_id).is_not(None))


def held_workspaces():
    """A select of the ids of the workspaces owned by a held account."""
    return select(Workspace.id).where(col(Workspace.owner_id).in_(held_users()))


def held_rows(*, user=None, workspace=None):
    """A condition true for rows of a held account's data: ``user`` is the row's column
    naming the person (created_by, user_id...), ``workspace`` its workspace column. A NULL
    in either column never matches (so the condition is never NULL)."""
    parts = []
    if user is not None:
        parts.append(and_(col(user).is_not(None), col(user).in_(held_users())))
    if workspace is not None:
        parts.append(and_(col(workspace).is_not(None), col(workspace).in_(held_workspaces())))
    return or_(*parts)


def blocks_erasure(s: Session, user_id: int) -> str | None:
    """Why erasing the account must wait, or None: the account is held, or a workspace it
    owns (which erasure would delete) has a held member, whose data is in it."""
    if is_held(s, user_id):
        return "The account is under a legal hold."
    owned = select(Workspace.id).where(Workspace.owner_id == user_id)
    member = s.exec(
        select(Membership.id).where(col(Membership.workspace_id).in_(owned), col(Membership.user_id).in_(held_users()))
        .limit(1)
    ).first()
    if member is not None:
        return "A workspace of the account holds the data of an account under a legal hold."
    return None


# --- the record, as events ------------------------------------------------------------------


@dataclass(frozen=True)
class HoldEvent:
    at: datetime
    action: str  # placed | released
    hold_id: int
    user_id: int | None  # the held account (None once it was erased after the release)
    actor_id: int | None  # the admin
    reason: str


def events(s: Session, since: datetime | None = None) -> list[HoldEvent]:
    """Every placing and releasing of a hold (since ``since``), oldest first: the record the
    audit log can take over."""
    q = select(LegalHold)
    if since is not None:
        q = q.where(or_(col(LegalHold.placed_at) >= since, col(LegalHold.released_at) >= since))
    out = []
    for h in s.exec(q.order_by(col(LegalHold.id))).all():
        if since is None or h.placed_at >= since:
            out.append(HoldEvent(h.placed_at, "placed", h.id, h.user_id, h.placed_by, h.reason))
        if h.released_at is not None and (since is None or h.released_at >= since):
            out.append(HoldEvent(h.released_at, "released", h.id, h.user_id, h.released_by, h.release_reason))
    return sorted(out, key=lambda e: (e.at, e.hold_id))
