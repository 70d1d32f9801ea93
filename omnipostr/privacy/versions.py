"""Versions of the privacy policy (POL-1): which ones were published, which were material, who
acknowledged them.

The versions ship with the product in ``policy_versions.json`` beside the policy itself, one
entry per "Last updated" date: ``{"version": "YYYY-MM-DD", "material": bool, "summary": …}``.
A job publishes each new entry (``sync``). Publishing a material version that changes the
terms under which existing accounts were opened emails each of them a notice (once), and
each of them is asked to acknowledge it at their next visit; every acknowledgment is logged
beside the acceptance recorded at sign-up (``PolicyAcceptance``). The versions an
installation starts with are its baseline: in force from their own date, nobody notified.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import Session, col, func, select

from omnipostr import clock
from omnipostr.accounts.models import PolicyAcceptance, User
from omnipostr.notify import service as mail
from omnipostr.privacy.models import PolicyVersion
from omnipostr.settings import get_settings

VERSIONS_FILE = Path(__file__).with_name("policy_versions.json")


@functools.cache
def declared() -> tuple[dict, ...]:
    """The versions shipped with the product, oldest first."""
    rows = json.loads(VERSIONS_FILE.read_text(encoding="utf-8"))
    for r in rows:
        date.fromisoformat(r["version"])  # a version is a date: refuse anything else at start
    return tuple(sorted(rows, key=lambda r: r["version"]))


def shipped_version() -> str:
    return declared()[-1]["version"]


def current(s: Session) -> str:
    """The version in force: the newest published (the shipped one before the first sync)."""
    v = s.exec(select(func.max(PolicyVersion.version))).one()
    return v or shipped_version()


def latest_material(s: Session) -> PolicyVersion | None:
    return s.exec(
        select(PolicyVersion).where(col(PolicyVersion.material).is_(True)).order_by(col(PolicyVersion.version).desc()).limit(1)
    ).first()


def publish(s: Session, version: str, *, material: bool, summary: str = "", notify: bool = True) -> PolicyVersion:
    """Record ``version`` as published (once: publishing it again changes nothing). A
    material version is announced by email to every account opened before it and asked to
    be acknowledged. Without ``notify`` (a baseline) it is in force from its own date."""
    day = date.fromisoformat(version)
    row = s.exec(select(PolicyVersion).where(PolicyVersion.version == version)).first()
    if row is not None:
        return row
    now = clock.now()
    since = now if notify else datetime(day.year, day.month, day.day, tzinfo=UTC)
    row = PolicyVersion(version=version, material=material, summary=summary[:2000], published_at=since)
    s.add(row)
    s.flush()
    if material and notify:
        _notify(s, row)
    row.notified_at = now if material else None
    s.commit()
    return row


def _notify(s: Session, row: PolicyVersion) -> None:
    cfg = get_settings()
    users = s.exec(
        select(User).where(
            col(User.deletion_requested_at).is_(None),
            col(User.email_verified_at).is_not(None),
            col(User.created_at) < row.published_at,
        ).order_by(col(User.id))
    ).all()
    when = display(row.version)
    for u in users:
        mail.enqueue(
            s, "notice", u.email,
            {
                "subject": f"We updated the {cfg.company_name} privacy policy",
                "name": u.name,
                "paragraphs": [
                    f"Our privacy policy changed on {when}. What changed: {row.summary}".strip(),
                    "Nothing changes about what you chose in your privacy settings. You will be asked to "
                    "acknowledge the new version when you next open the app.",
                ],
                "link": cfg.base_url.rstrip("/") + "/privacy",
                "link_text": "Read the policy",
            },
            user_id=u.id,
        )


def sync(s: Session) -> int:
    """Publish every shipped version not published yet; how many were new. On an
    installation's first run every shipped version is its baseline (no notices)."""
    known = set(s.exec(select(PolicyVersion.version)).all())
    baseline = not known
    new = [r for r in declared() if r["version"] not in known]
    for r in new:
        publish(s, r["version"], material=bool(r.get("material")), summary=r.get("summary", ""), notify=not baseline)
    return len(new)


def pending(s: Session, user_id: int) -> PolicyVersion | None:
    """The material version this user has still to acknowledge: the newest, unless they
    accepted a policy (at sign-up, or acknowledging) since it came into force."""
    v = latest_material(s)
    if v is None or s.get(User, user_id) is None:
        return None
    done = s.exec(
        select(PolicyAcceptance.id).where(
            PolicyAcceptance.user_id == user_id,
            (PolicyAcceptance.version == v.version) | (col(PolicyAcceptance.accepted_at) >= v.published_at),
        )
    ).first()
    return None if done else v


def acknowledge(s: Session, user_id: int, version: str) -> PolicyAcceptance:
    """Log that the user acknowledged ``version`` (once; again returns the first record)."""
    row = s.exec(
        select(PolicyAcceptance).where(PolicyAcceptance.user_id == user_id, PolicyAcceptance.version == version)
    ).first()
    if row is None:
        if s.exec(select(PolicyVersion.id).where(PolicyVersion.version == version)).first() is None:
            raise ValueError("no such policy version")
        row = PolicyAcceptance(user_id=user_id, version=version, accepted_at=clock.now())
        s.add(row)
        s.commit()
    return row


def display(version: str) -> str:
    """``2025-11-24`` as "November 24, 2025"."""
    d = date.fromisoformat(version)
    return f"{d:%B} {d.day}, {d.year}"
