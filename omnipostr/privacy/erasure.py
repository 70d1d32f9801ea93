"""Deleting an account (RGT-3): asked for with the password, done by a job, resumable.

Asking (``request_deletion``) checks the password, hands each workspace the user owns with
other members to the member the user chose (or marks it for deletion), signs the user out
everywhere and refuses further sign-ins. The job (``erase_pending``) then erases, one step at
a time, each step committed and safe to run again, so a process that dies halfway is simply
resumed by the next run:

1. the workspaces the user still owns, with everything in them;
2. the user's privacy requests: the law asks the company to show how it answered them, so each
   confirmed one is kept as that record, without the address, the words and the link to the
   account, which identify no one (``requests.forget_person``); unconfirmed ones are deleted;
3. every row that refers to the user: rows that are the user's are deleted; content the user
   wrote in someone else's workspace stays with that team without the user's name on it;
4. rows found by the user's address (invitations, mail, failed sign-ins, pending requests);
5. the user, in the same transaction as the confirmation email to the old address.

An account nobody used for the retention period (``retention``, RET-4) is deleted the same
way: ``expire_inactive`` (a daily job) asks retention which accounts are due and ``schedule``s
each, handing a shared workspace to the member who should take it. An account under a legal
hold (``retention.holds``, SHR-2) is neither scheduled nor erased until the hold is released;
a deletion already asked for waits, and resumes after the release.

Which tables refer to a user or a workspace is read from the schema itself, so a table added
later is covered; ``tests/privacy/test_erasure.py`` checks every table afterwards.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Table, delete, not_, update
from sqlmodel import Session, SQLModel, col, select

from omnipostr import clock
from omnipostr import tables as _tables  # noqa: F401 - every capability's tables
from omnipostr.accounts import passwords
from omnipostr.accounts import service as accounts
from omnipostr.accounts.models import (
    AuthSession,
    LoginFailure,
    Membership,
    User,
    Workspace,
)
from omnipostr.accounts.personal_data import invites_to, requests_for
from omnipostr.audit import service as audit
from omnipostr.billing import service as billing
from omnipostr.crypto import email_index
from omnipostr.notify import service as mail
from omnipostr.notify.models import OutboxMessage
from omnipostr.privacy import requests
from omnipostr.retention import holds
from omnipostr.retention import service as retention
from omnipostr.settings import get_settings

log = logging.getLogger("omnipostr.privacy")
_RECENT = timedelta(minutes=10)  # a social-only account confirms with a sign-in this recent


class DeletionRefused(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class SharedWorkspace:
    id: int
    name: str
    members: list[tuple[int, str]]  # (user id, name) of the other members


@dataclass
class Plan:
    shared: list[SharedWorkspace] = field(default_factory=list)  # owned, with other members: hand over or delete
    solo: list[str] = field(default_factory=list)  # owned alone: deleted
    has_password: bool = True


GOES = [
    "Your account: name, email address, password, sign-in methods and privacy choices.",
    "Your sessions and devices, your usage history and the copies of your data.",
    "Workspaces you own alone, or choose to delete, with all their sources, posts and brand voices.",
    "Invitations to your address and email we sent you.",
]
STAYS = [
    "Posts and sources you wrote in someone else's workspace stay with that team, without your name.",
    "A workspace you hand over stays with the member you chose.",
    "The confirmation that your account was deleted, until it is sent (then 30 days in the mail log).",
    "Invoices of your paid plans, kept for the tax period as the law asks, with no content; the Stripe customer "
    "and its card are deleted.",
    "A record of the privacy requests you made and how we answered them, without your address or your words.",
]


def plan(s: Session, user_id: int) -> Plan:
    user = s.get(User, user_id)
    out = Plan(has_password=bool(user and user.password_hash))
    for ws in s.exec(select(Workspace).where(Workspace.owner_id == user_id).order_by(col(Workspace.id))).all():
        others = s.exec(
            select(User).join(Membership, col(Membership.user_id) == User.id)
            .where(Membership.workspace_id == ws.id, Membership.user_id != user_id).order_by(col(User.id))
        ).all()
        if others:
            out.shared.append(SharedWorkspace(ws.id, ws.name, [(u.id, u.name) for u in others]))
        else:
            out.solo.append(ws.name)
    return out


def request_deletion(
    s: Session, user_id: int, *, password: str = "", session_id: int | None = None,
    hand_over: dict[int, int | None] | None = None, ip: str = "",
) -> None:
    """Ask to delete the account. ``hand_over`` maps each shared workspace the user owns to the
    member who takes it over, or None to delete it with everything in it."""
    user = s.get(User, user_id)
    if user is None or user.deletion_requested_at is not None:
        return  # asked already: the job is on it
    if user.password_hash:
        if not passwords.verify_password(user.password_hash, (password or "")[:1024]):
            raise DeletionRefused("That password is not right.")
    else:  # signed in with Google or GitHub only: a sign-in of the last few minutes stands in
        row = s.get(AuthSession, session_id) if session_id else None
        if row is None or row.created_at < clock.now() - _RECENT:
            raise DeletionRefused("Sign out and in again, then delete the account within 10 minutes.")
    choices = hand_over or {}
    for shared in plan(s, user_id).shared:
        if shared.id not in choices:
            raise DeletionRefused(f"Choose who takes over {shared.name}, or to delete it.")
        heir = choices[shared.id]
        if heir is None:
            continue
        if heir not in {m for m, _ in shared.members}:
            raise DeletionRefused(f"Choose a member of {shared.name} to take it over.")
        _hand_over(s, shared.id, heir)
    now = clock.now()
    user.deletion_requested_at = now
    s.add(user)
    audit.record(s, "erasure_requested", actor_id=user_id, ip=ip)
    accounts.revoke_other_sessions(s, user_id, keep_session_id=None, ip=ip)  # every session, this one too
    s.commit()


def _hand_over(s: Session, workspace_id: int, heir: int) -> None:
    ws = s.get(Workspace, workspace_id)
    ws.owner_id = heir
    s.add(ws)
    m = s.exec(select(Membership).where(Membership.workspace_id == ws.id, Membership.user_id == heir)).one()
    m.role = "owner"
    s.add(m)


def _heir(s: Session, workspace_id: int, user_id: int) -> int:
    """Who takes over a shared workspace when its owner did not choose: an admin of it, else
    the member who joined first."""
    others = s.exec(
        select(Membership).where(Membership.workspace_id == workspace_id, Membership.user_id != user_id)
        .order_by(col(Membership.id))
    ).all()
    return next((m.user_id for m in others if m.role == "admin"), others[0].user_id)


def schedule(s: Session, user_id: int, reason: str) -> bool:
    """Delete an account its person did not ask to delete (``reason``: ``inactive``, RET-4):
    each workspace it owns with other members goes to the member who should take it
    (``_heir``), every session ends, and the erasure job does the rest. Returns False (and
    changes nothing) when the account is gone, already being deleted, or held. The caller
    commits."""
    user = s.get(User, user_id)
    if user is None or user.deletion_requested_at is not None or holds.blocks_erasure(s, user_id):
        return False
    for shared in plan(s, user_id).shared:
        _hand_over(s, shared.id, _heir(s, shared.id, user_id))
    user.deletion_requested_at = clock.now()
    user.deletion_reason = reason[:32]
    s.add(user)
    accounts.revoke_other_sessions(s, user_id, keep_session_id=None)
    s.flush()
    return True


def expire_inactive(s: Session, *, dry_run: bool = False) -> retention.Counts:
    """Schedule the deletion of every account that retention says is due (unused for the
    retention period, warned, and past the date the warning gave). A dry run counts them."""
    counts = retention.Counts("inactive_accounts", clock.now(), dry_run)
    counts.held = retention.held_accounts_due(s)
    if dry_run:
        counts.count = len(retention.accounts_due_for_erasure(s))
        return counts
    after = 0
    while ids := retention.accounts_due_for_erasure(s, after=after, limit=get_settings().retention_batch_size):
        for uid in ids:
            if schedule(s, uid, "inactive"):
                counts.count += 1
            else:
                counts.held += 1  # a workspace of it holds a held member's data
        s.commit()
        counts.batches += 1
        after = ids[-1]
    return counts


def _referring(target: str) -> list[tuple[Table, object]]:
    """(table, column) for every column with a foreign key to ``target``, children first."""
    out = []
    for t in reversed(SQLModel.metadata.sorted_tables):
        for c in t.columns:
            if any(fk.column.table.name == target for fk in c.foreign_keys):
                out.append((t, c))
    return out


def _unlink(s: Session, t: Table, c, key: int) -> None:
    """Rows of ``t`` whose ``c`` is ``key`` no longer refer to it: the column is cleared where
    its foreign key says SET NULL (the row belongs to someone else), else the row is deleted."""
    if c.nullable and any(fk.ondelete == "SET NULL" for fk in c.foreign_keys):
        s.exec(update(t).where(c == key).values({c.name: None}))  # type: ignore[call-overload]
    else:
        s.exec(delete(t).where(c == key))  # type: ignore[call-overload]


def _erase_workspace(s: Session, workspace_id: int) -> None:
    billing.detach_workspace(s, workspace_id)  # the billing row stays for its invoices, stripped
    for t, c in _referring("workspaces"):
        _unlink(s, t, c, workspace_id)
    s.exec(delete(Workspace).where(col(Workspace.id) == workspace_id))  # type: ignore[call-overload]


def _steps(s: Session, user: User) -> list:
    uid, email, idx = user.id, user.email, email_index(user.email)
    steps = []
    for ws_id in s.exec(select(Workspace.id).where(Workspace.owner_id == uid).order_by(col(Workspace.id))).all():
        steps.append(lambda ws_id=ws_id: _erase_workspace(s, ws_id))
    confirmed = email if user.email_verified_at is not None else None  # an address proven to be the user's
    steps.append(lambda: requests.forget_person(s, uid, confirmed))
    steps.append(lambda: audit.forget_person(s, uid))  # the log stays as evidence, without the IP address
    for t, c in _referring("users"):
        steps.append(lambda t=t, c=c: _unlink(s, t, c, uid))

    def by_address() -> None:
        for row in [*invites_to(s, email), *requests_for(s, email)]:
            s.delete(row)
        s.exec(delete(LoginFailure).where(col(LoginFailure.key) == f"acct:{idx}"))  # type: ignore[call-overload]
        s.exec(delete(OutboxMessage).where(col(OutboxMessage.to_index) == idx))  # type: ignore[call-overload]

    steps.append(by_address)
    return steps


def erase_account(s: Session, user_id: int, *, max_steps: int | None = None) -> bool:
    """Erase one account whose deletion was asked for; True when it is gone. Each step is
    committed on its own; ``max_steps`` stops early (as a process that died would)."""
    user = s.get(User, user_id)
    if user is None:
        return True
    if user.deletion_requested_at is None:
        raise DeletionRefused("This account did not ask to be deleted.")
    if holds.blocks_erasure(s, user_id):
        return False  # a legal hold: erased after its release
    email, name = user.email, user.name
    inactive = user.deletion_reason == "inactive"
    unused_since = retention.last_active(user)
    for i, step in enumerate(_steps(s, user)):
        if max_steps is not None and i >= max_steps:
            return False
        step()
        s.commit()
    cfg = get_settings()
    s.exec(delete(User).where(col(User.id) == user_id))  # type: ignore[call-overload]
    audit.record(s, "erasure_done", actor_id=None)
    mail.enqueue(
        s, "notice", email,
        {
            "subject": f"Your {cfg.company_name} account is deleted",
            "name": name,
            "paragraphs": [
                f"Nobody had signed in to your account since {unused_since:%B} {unused_since.day}, {unused_since.year}. "
                "As we wrote to you before, it is now deleted with the personal data it held, as our privacy policy "
                "says of accounts that are not used.",
                f"If you have a question about it, write to {cfg.privacy_email}.",
            ] if inactive else [
                "As you asked, your account and the personal data it held are deleted, and every "
                "session was signed out.",
                f"If you did not ask for this, write to {cfg.privacy_email} at once.",
            ],
        },
    )
    s.commit()
    return True


def erase_pending(s: Session) -> int:
    """Erase every account whose deletion was asked for (the job); one under a legal hold
    waits. Returns how many were erased."""
    ids = s.exec(
        select(User.id).where(col(User.deletion_requested_at).is_not(None), not_(holds.held_rows(user=User.id)))
        .order_by(col(User.id))
    ).all()
    return sum(1 for uid in ids if erase_account(s, uid))
