"""API keys: made by a workspace's owners and admins, shown once, kept as a keyed hash,
scoped, revocable, with the time each was last used (API-1).

A key looks like ``op_1a2b3c4d_<43 random characters>``: ``op_1a2b3c4d`` is its prefix, shown
in the key list so people can tell keys apart; the database keeps the prefix and
``token_hash`` of the whole key, so a copy of the database holds no usable key. A key acts
for the member who made it, in its workspace: when that member leaves the workspace, or
their account is being deleted, the key stops working; when the workspace's plan has no API
access, every key of it is refused until the plan has it again.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from omnipostr import clock
from omnipostr.accounts.models import Membership, User
from omnipostr.accounts.service import Actor
from omnipostr.accounts.validation import InputError
from omnipostr.api.models import ApiKey
from omnipostr.audit import service as audit
from omnipostr.billing.plans import Plan
from omnipostr.billing.quota import workspace_plan
from omnipostr.crypto import new_token, token_hash

SCOPES: dict[str, str] = {
    "generations:read": "Read generations and their posts",
    "generations:write": "Start generations",
}
"""Every scope a key can have, with the words the key form shows for it."""

MAX_KEYS = 20  # live keys per workspace
NAME_MAX = 80
TOUCH_EVERY = timedelta(seconds=60)  # last_used_at is written at most this often
_SHAPE = re.compile(r"^(op_[0-9a-f]{8})_[A-Za-z0-9_-]{43}$")


class KeyRefused(InputError):
    """Why a key cannot be made or changed, for the person who asked (``field``: the form's
    field it is about, ``form`` for the form as a whole)."""

    def __init__(self, message: str, field: str = "form"):
        super().__init__(message, field)


NO_ACCESS = "The API is not part of this workspace's plan."
NOT_MANAGER = "Only the workspace's owner and admins manage API keys."


@dataclass(frozen=True)
class KeyView:
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    created_by: str  # the member's name


@dataclass(frozen=True)
class Caller:
    """Who calls the API: the key, the member it acts for, and the workspace's plan."""

    key_id: int
    prefix: str
    scopes: frozenset[str]
    actor: Actor
    plan: Plan


def create_key(s: Session, actor: Actor, name: str, scopes: list[str]) -> tuple[KeyView, str]:
    """Make a key; returns it with the whole key, which is never shown again."""
    if not actor.can_manage:
        raise KeyRefused(NOT_MANAGER)
    if not workspace_plan(s, actor.workspace_id).api_access:
        raise KeyRefused(NO_ACCESS)
    name = " ".join((name or "").split())
    if not name:
        raise KeyRefused("Give the key a name, e.g. the system that will use it.", "name")
    if len(name) > NAME_MAX:
        raise KeyRefused(f"A key's name is at most {NAME_MAX} characters.", "name")
    chosen = sorted(set(scopes or []))
    if not chosen:
        raise KeyRefused("Choose what the key may do.", "scopes")
    unknown = [x for x in chosen if x not in SCOPES]
    if unknown:
        raise KeyRefused(f"There is no scope called {unknown[0]!r}.", "scopes")
    live = s.exec(select(func.count()).select_from(ApiKey).where(
        ApiKey.workspace_id == actor.workspace_id, col(ApiKey.revoked_at).is_(None))).one()
    if live >= MAX_KEYS:
        raise KeyRefused(f"A workspace has at most {MAX_KEYS} keys. Revoke one you no longer use first.")
    prefix = "op_" + secrets.token_hex(4)
    whole = f"{prefix}_{new_token(32)}"
    row = ApiKey(workspace_id=actor.workspace_id, created_by=actor.user_id, name=name, prefix=prefix,
                 key_hash=token_hash(whole), scopes=chosen)
    s.add(row)
    s.flush()
    audit.record(s, "api_key_created", actor_id=actor.user_id, target=prefix)
    return _view(s, row), whole


def list_keys(s: Session, actor: Actor) -> list[KeyView]:
    """The workspace's live keys, newest first (owners and admins only)."""
    if not actor.can_manage:
        raise KeyRefused(NOT_MANAGER)
    rows = s.exec(select(ApiKey).where(ApiKey.workspace_id == actor.workspace_id, col(ApiKey.revoked_at).is_(None))
                  .order_by(col(ApiKey.id).desc())).all()
    return [_view(s, r) for r in rows]


def revoke_key(s: Session, actor: Actor, key_id: int) -> bool:
    """Revoke one of the workspace's keys; it is refused from the next request on. False when
    there is no such live key in the actor's workspace."""
    if not actor.can_manage:
        raise KeyRefused(NOT_MANAGER)
    row = s.get(ApiKey, key_id)
    if row is None or row.workspace_id != actor.workspace_id or row.revoked_at is not None:
        return False
    row.revoked_at = clock.now()
    s.add(row)
    audit.record(s, "api_key_revoked", actor_id=actor.user_id, target=row.prefix)
    s.flush()
    return True


def authenticate(s: Session, presented: str | None) -> Caller | None:
    """The caller behind a presented key, or None: unknown, revoked, its member gone from the
    workspace, or their account being deleted. (Whether the plan has API access is the
    caller's to check: the answer differs.)"""
    if not presented or not _SHAPE.match(presented):
        return None
    row = s.exec(select(ApiKey).where(ApiKey.key_hash == token_hash(presented))).first()
    if row is None or row.revoked_at is not None:
        return None
    member = s.exec(select(Membership).where(
        Membership.workspace_id == row.workspace_id, Membership.user_id == row.created_by)).first()
    user = s.get(User, row.created_by)
    if member is None or user is None or user.deletion_requested_at is not None:
        return None
    now = clock.now()
    if row.last_used_at is None or row.last_used_at < now - TOUCH_EVERY:
        row.last_used_at = now
        s.add(row)
    actor = Actor(user_id=user.id, workspace_id=row.workspace_id, role=member.role)
    return Caller(row.id, row.prefix, frozenset(row.scopes or []), actor, workspace_plan(s, row.workspace_id))


def _view(s: Session, row: ApiKey) -> KeyView:
    user = s.get(User, row.created_by)
    return KeyView(row.id, row.name, row.prefix, list(row.scopes or []), row.created_at, row.last_used_at,
                   user.name if user else "")
