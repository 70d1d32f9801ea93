"""Cookie and analytics consent (CKI-1, GDPR-1): what each browser and each account chose,
logged append-only, and honoured.

Categories: *necessary* (the session cookie and this consent cookie: always on), *analytics*
(usage events about what a signed-in person does) and *preferences* (the light or dark theme
remembered on the device). Analytics and preferences are off until chosen. A browser keeps its
choice in the ``op_consent`` cookie as ``<consent id>.<a><p>.<policy version>``; the choice is
asked again when a material version of the policy was published after it. ``Sec-GPC: 1``
(Global Privacy Control) is honoured as a refusal of analytics and an objection, recorded as
such.

For an account, the choice is kept on the user (``User.object_usage``: true until the person
consents to analytics, and again whenever they refuse or object), so ``usage.record`` stays one
lookup.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from omnipostr import clock
from omnipostr.accounts.models import User
from omnipostr.audit import service as audit
from omnipostr.privacy import versions
from omnipostr.privacy.models import ConsentRecord

COOKIE = "op_consent"
COOKIE_DAYS = 180
_VALUE = re.compile(r"^([0-9a-f]{32})\.([01])([01])\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Choice:
    consent_id: str
    analytics: bool
    preferences: bool
    version: str
    gpc: bool = False

    def cookie(self) -> str:
        return f"{self.consent_id}.{int(self.analytics)}{int(self.preferences)}.{self.version}"


def parse(value: str | None) -> Choice | None:
    """The choice a browser's cookie holds; None for no cookie or one that is not ours."""
    m = _VALUE.match((value or "").strip())
    if not m:
        return None
    return Choice(m.group(1), m.group(2) == "1", m.group(3) == "1", m.group(4))


def new_consent_id() -> str:
    return secrets.token_hex(16)


def needs_asking(s: Session, choice: Choice | None) -> bool:
    """No choice yet, or one made before the newest material version of the policy."""
    if choice is None:
        return True
    latest = versions.latest_material(s)
    return latest is not None and choice.version < latest.version


def record(
    s: Session,
    *,
    consent_id: str | None,
    user_id: int | None,
    analytics: bool,
    preferences: bool,
    source: str = "banner",
    gpc: bool = False,
) -> Choice:
    """Log one choice (append-only) and apply it to the account, if someone is signed in.
    With ``gpc`` analytics is refused whatever was asked."""
    if gpc:
        analytics = False
    if not consent_id or not re.fullmatch(r"[0-9a-f]{32}", consent_id):
        consent_id = new_consent_id()
    version = versions.current(s)
    s.add(ConsentRecord(
        consent_id=consent_id, user_id=user_id, analytics=bool(analytics), preferences=bool(preferences),
        gpc=gpc, source=source[:16], policy_version=version, created_at=clock.now(),
    ))
    if user_id is not None:
        user = s.get(User, user_id)
        if user is not None:
            user.object_usage = not analytics
            s.add(user)
            audit.record(s, "consent_changed", actor_id=user_id, analytics=bool(analytics), preferences=bool(preferences), source=source[:16], gpc=gpc)
    s.commit()
    return Choice(consent_id, bool(analytics), bool(preferences), version, gpc)


def latest_for_user(s: Session, user_id: int) -> ConsentRecord | None:
    return s.exec(
        select(ConsentRecord).where(ConsentRecord.user_id == user_id).order_by(col(ConsentRecord.id).desc()).limit(1)
    ).first()


def honour_gpc(s: Session, choice: Choice | None, user_id: int | None) -> Choice | None:
    """A browser sending ``Sec-GPC: 1``: record the refusal once for the browser and for the
    account (an account that consented to analytics elsewhere is refused from now on). Returns
    the new choice when one was recorded."""
    user = s.get(User, user_id) if user_id is not None else None
    browser_done = choice is not None and not choice.analytics and not needs_asking(s, choice)
    account_done = user is None or user.object_usage
    if browser_done and account_done:
        return None
    prefs = choice.preferences if choice is not None else False
    return record(
        s, consent_id=choice.consent_id if choice else None, user_id=user_id,
        analytics=False, preferences=prefs, source="gpc", gpc=True,
    )


def adopt(s: Session, choice: Choice | None, user_id: int) -> bool:
    """An account that never chose takes the choice its browser made (before signing up or
    in): recorded for the account, once. True when it was adopted."""
    if choice is None or needs_asking(s, choice) or latest_for_user(s, user_id) is not None:
        return False
    record(s, consent_id=choice.consent_id, user_id=user_id, analytics=choice.analytics,
           preferences=choice.preferences, source="banner")
    return True
