"""Privacy requests (REQ-1) and privacy questions (REQ-2): filed, confirmed, tracked to a due
date, extended at most once, closed, and watched by a daily alert.

1. ``file_request``: a person files one, signed in from the privacy center or as a visitor
   with only an email address; the privacy team logs one that came by email (``logged_by``).
   A signed-in user writing about the account's own confirmed address is identified by the
   session at once. Anyone else gets a 6-digit code at the address, valid ``CODE_MINUTES``
   minutes for ``MAX_TRIES`` tries and kept only as a keyed hash; ``resend_code`` sends a
   fresh one (not within a minute of the last, at most ``MAX_CODES`` for one request, and no
   more codes to one address than other account mail an hour).
2. ``verify``: the right code opens the request and sets its due date from that moment:
   ``privacy_request_days`` calendar days for a rights request, ``privacy_inquiry_business_days``
   business days (Monday to Friday, in UTC) for a question. The requester is sent an
   acknowledgment with the due date. ``MAX_TRIES`` wrong codes lock the request for good: a
   new one must be filed.
3. The privacy team works the queue (``queue``, ``get_request``, ``set_status``, ``extend``
   once with a reason, ``confirm_identity`` for a logged request whose sender they identified
   otherwise, ``close`` as done or rejected with a reason). Each step is an event in the
   request's history (shown to the requester too); the requester is told of the extension and
   of the outcome. These functions take the acting admin's user id (``by``) and refuse anyone
   who is not an admin.
4. Daily, ``send_due_alerts`` emails the privacy address once about each open request due
   within ``privacy_request_alert_days`` days, or overdue; ``purge`` deletes requests never
   confirmed after a day, and removes the address and the words of closed requests once the
   history retention period is over.

A person's requests are evidence that the company answered them, which it must be able to
show for years after (GDPR art. 5(2) and 17(3)(b); the CCPA regulations keep records of
requests for 24 months). So erasing an account (``forget_person``) and the end of retention
keep each confirmed request, without the address, the requester's words and the link to the
account: what was asked, how and when, and how and when it was answered, which identifies
no one. Requests never confirmed are not requests, and are deleted.

Each function takes a session and commits its own work. A mistake a person can fix raises
``RequestError`` with a message to show (``CodeError`` for the code).
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from omnipostr import clock, crypto
from omnipostr.accounts import ratelimit
from omnipostr.accounts.models import User
from omnipostr.audit import service as audit
from omnipostr.crypto import email_index
from omnipostr.notify import service as mail
from omnipostr.privacy.models import PrivacyRequest, PrivacyRequestEvent
from omnipostr.settings import get_settings

KINDS = {
    "access": "Access to my data",
    "deletion": "Deletion of my data",
    "correction": "Correction of my data",
    "portability": "A copy of my data to take elsewhere",
    "restriction": "Restriction of the processing of my data",
    "objection": "Objection to the processing of my data",
    "know": "Right to know what personal information is collected (California)",
    "other": "Another request about my data",
    "inquiry": "A question about privacy",
}
"""What can be asked, in the words the requester sees. All but ``inquiry`` are rights requests."""
INQUIRY = "inquiry"
NEEDS_DETAILS = {
    "correction": "Tell us what to correct, and how.",
    "other": "Tell us what you are asking for.",
    "inquiry": "Write your question.",
}

STATUSES = {
    "unverified": "Waiting for the code",
    "locked": "Locked: too many wrong codes",
    "open": "Open",
    "in_progress": "In progress",
    "done": "Done",
    "rejected": "Rejected",
}
WORKING = ("open", "in_progress")
CLOSED = ("done", "rejected")
UNCONFIRMED = ("unverified", "locked")

CODE_MINUTES = 10
MAX_TRIES = 3
MAX_CODES = 5
RESEND_AFTER = timedelta(minutes=1)
UNCONFIRMED_KEEP = timedelta(days=1)
DETAILS_MAX = 5000
REASON_MAX = 1000

REQUESTER, TEAM, SYSTEM = "requester", "privacy team", "system"


class RequestError(ValueError):
    """A mistake the person can fix; ``message`` is safe to show, ``reason`` names it."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.message = message
        self.reason = reason


class CodeError(RequestError):
    """The code was refused: ``reason`` is ``format``, ``wrong``, ``expired`` or ``locked``."""


class NotAllowed(RequestError):
    """Only an admin may do this."""


@dataclass
class EventView:
    at: datetime
    status: str
    status_name: str
    note: str
    actor: str


@dataclass
class RequestView:
    id: int
    kind: str
    kind_name: str
    channel: str
    email: str
    details: str
    status: str
    status_name: str
    created_at: datetime
    verified_at: datetime | None
    due_at: datetime | None
    extended_at: datetime | None
    extension_reason: str | None
    closed_at: datetime | None
    close_reason: str | None
    overdue: bool
    history: list[EventView] = field(default_factory=list)

    @property
    def needs_code(self) -> bool:
        return self.status == "unverified"


# --- due dates -----------------------------------------------------------------------------


def add_business_days(start: datetime, days: int) -> datetime:
    """``start`` moved on by ``days`` business days (Saturdays and Sundays do not count), at the
    same time of day: Thursday gives the next Thursday for 5, Friday evening or the weekend
    the next Friday."""
    out, left = start, days
    while left > 0:
        out += timedelta(days=1)
        if out.weekday() < 5:
            left -= 1
    return out


def due_date(kind: str, start: datetime) -> datetime:
    """When a request of ``kind`` confirmed at ``start`` must be answered."""
    cfg = get_settings()
    if kind == INQUIRY:
        return add_business_days(start, cfg.privacy_inquiry_business_days)
    return start + timedelta(days=cfg.privacy_request_days)


def _day(when: datetime) -> str:
    return f"{when:%A} {when.day} {when:%B %Y}"


def _promise(kind: str) -> str:
    cfg = get_settings()
    if kind == INQUIRY:
        return f"within {cfg.privacy_inquiry_business_days} business days"
    return f"within {cfg.privacy_request_days} days"


# --- the person's side -----------------------------------------------------------------------


def file_request(
    s: Session, kind: str, email: str, details: str = "", *,
    user_id: int | None = None, logged_by: int | None = None, ip: str = "",
) -> RequestView:
    """File a request of ``kind`` about ``email``. ``user_id``: the signed-in user filing it;
    ``logged_by``: the admin logging a request that came by email. Returns the request: open
    at once when a signed-in user files about the account's own confirmed address, else
    waiting for the code just emailed to the address."""
    kind = (kind or "").strip().lower()
    if kind not in KINDS:
        raise RequestError("Choose what you are asking for.", "kind")
    try:
        email = mail.normalize_address(email)
    except ValueError:
        raise RequestError("Enter a valid email address.", "email") from None
    details = (details or "").strip()
    if len(details) > DETAILS_MAX:
        raise RequestError(f"Keep the details under {DETAILS_MAX:,} characters.", "details")
    if not details and kind in NEEDS_DETAILS:
        raise RequestError(NEEDS_DETAILS[kind], "details")
    admin = _admin(s, logged_by) if logged_by is not None else None
    user = s.get(User, user_id) if user_id is not None else None
    if user_id is not None and (user is None or user.deletion_requested_at is not None):
        raise RequestError("Sign in again to file a request.", "session")
    own = (user is not None and user.email_verified_at is not None
           and email_index(email) == email_index(user.email))
    if not own:
        _limit(email, ip)
    now = clock.now()
    r = PrivacyRequest(kind=kind, channel="email" if admin else "app", user_id=user.id if user else None,
                       email=email, details=details, created_at=now)
    s.add(r)
    s.flush()
    if admin is not None:
        _event(s, r, "unverified", "Received by email and logged by the privacy team.", TEAM, admin.id)
    else:
        where = "in the privacy center" if user is not None else "on the website, without signing in"
        _event(s, r, "unverified", f"Filed {where}.", REQUESTER, user.id if user else None)
    if own:
        _open(s, r, now, "Identity confirmed: filed while signed in, about the account's own confirmed address.",
              REQUESTER, user.id)
    else:
        _send_code(s, r, now)
    s.commit()
    return _views(s, [r])[0]


def resend_code(s: Session, request_id: int, *, ip: str = "") -> RequestView:
    """Email a fresh code for a request still waiting for one (the old code stops working)."""
    r = _get(s, request_id)
    if r.status == "locked":
        raise CodeError(_LOCKED, "locked")
    if r.status != "unverified":
        raise RequestError("This request is confirmed already.", "confirmed")
    now = clock.now()
    if r.code_sent_at is not None and now - r.code_sent_at < RESEND_AFTER:
        raise RequestError("A code was sent less than a minute ago: check your inbox, or ask again in a minute.", "rate")
    if r.codes_sent >= MAX_CODES:
        raise RequestError("No more codes can be sent for this request. Please file a new one.", "rate")
    _limit(r.email, ip)
    _send_code(s, r, now)
    _event(s, r, "unverified", "A new code was sent.", REQUESTER, r.user_id)
    s.commit()
    return _views(s, [r])[0]


_LOCKED = "Too many wrong codes: this request is locked. Please file a new request."


def verify(s: Session, request_id: int, code: str) -> RequestView:
    """Confirm a request with the code emailed for it. Raises ``CodeError``: the code is not 6
    digits (not counted as a try), wrong (a try counted; the last one locks the request),
    expired, or the request is locked."""
    r = _get(s, request_id)
    if r.status == "locked":
        raise CodeError(_LOCKED, "locked")
    if r.status != "unverified":
        raise RequestError("This request is confirmed already.", "confirmed")
    given = re.sub(r"[\s-]", "", code or "")
    if not re.fullmatch(r"\d{6}", given):
        raise CodeError("Enter the 6-digit code from the email.", "format")
    now = clock.now()
    if r.code_hash is None or r.code_expires_at is None or r.code_expires_at <= now:
        raise CodeError(f"That code has expired: codes work for {CODE_MINUTES} minutes. Ask for a new one.", "expired")
    # Count the try before comparing, in one conditional statement: two tries at once cannot
    # both slip under the limit.
    tries = s.execute(
        update(PrivacyRequest)
        .where(col(PrivacyRequest.id) == r.id, col(PrivacyRequest.status) == "unverified",
               col(PrivacyRequest.code_tries) < MAX_TRIES)
        .values(code_tries=PrivacyRequest.code_tries + 1)
        .returning(PrivacyRequest.code_tries)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if tries is None:
        s.rollback()
        raise CodeError(_LOCKED, "locked")
    if hmac.compare_digest(r.code_hash, _code_hash(r.id, given)):
        _open(s, r, now, "Identity confirmed with the code sent to the address.", REQUESTER, r.user_id)
        s.commit()
        return _views(s, [r])[0]
    if tries >= MAX_TRIES:
        r.status, r.code_hash, r.code_expires_at = "locked", None, None
        s.add(r)
        _event(s, r, "locked", f"Locked after {MAX_TRIES} wrong codes.", REQUESTER, r.user_id)
        s.commit()
        raise CodeError("That code is not right, and that was the last try: this request is locked. "
                        "Please file a new request.", "locked")
    s.commit()
    left = MAX_TRIES - tries
    raise CodeError(f"That code is not right. {left} {'try' if left == 1 else 'tries'} left.", "wrong")


def requests_of(s: Session, user_id: int) -> list[RequestView]:
    """The user's own requests with their history, newest first: those filed while signed in,
    and those confirmed with a code at the account's confirmed address. Nothing of anyone
    else's."""
    user = s.get(User, user_id)
    if user is None:
        return []
    rows = s.exec(of_user(user).order_by(col(PrivacyRequest.id).desc())).all()
    return _views(s, rows)


def of_user(user: User):
    """The select of a user's requests (also read by the data inventory)."""
    conds = [col(PrivacyRequest.user_id) == user.id]
    if user.email and user.email_verified_at is not None:
        conds.append((col(PrivacyRequest.email_index) == email_index(user.email))
                     & col(PrivacyRequest.verified_at).is_not(None))
    return select(PrivacyRequest).where(or_(*conds))


# --- the privacy team's side ------------------------------------------------------------------


def queue(s: Session, *, by: int, statuses: tuple[str, ...] = WORKING) -> list[RequestView]:
    """Requests in ``statuses`` (by default the open ones), soonest due first."""
    _admin(s, by)
    unknown = set(statuses) - set(STATUSES)
    if unknown:
        raise RequestError(f"Unknown status: {', '.join(sorted(unknown))}.", "status")
    rows = s.exec(
        select(PrivacyRequest).where(col(PrivacyRequest.status).in_(statuses))
        .order_by(col(PrivacyRequest.due_at).is_(None), col(PrivacyRequest.due_at), col(PrivacyRequest.id))
    ).all()
    return _views(s, rows)


def get_request(s: Session, request_id: int, *, by: int) -> RequestView | None:
    """One request with its history."""
    _admin(s, by)
    r = s.get(PrivacyRequest, request_id)
    return _views(s, [r])[0] if r is not None else None


def confirm_identity(s: Session, request_id: int, note: str, *, by: int) -> RequestView:
    """Open a request waiting for its code (or locked) whose requester the privacy team
    identified another way; ``note`` says how."""
    admin = _admin(s, by)
    r = _get(s, request_id)
    if r.status not in UNCONFIRMED:
        raise RequestError("This request is confirmed already.", "confirmed")
    note = _reason(note, "Say how the requester's identity was confirmed.")
    _open(s, r, clock.now(), f"Identity confirmed by the privacy team: {note}", TEAM, admin.id)
    s.commit()
    return _views(s, [r])[0]


def set_status(s: Session, request_id: int, status: str, *, by: int, note: str = "") -> RequestView:
    """Move an open request to ``open`` or ``in_progress`` (``done`` and ``rejected`` go
    through ``close``)."""
    if status in CLOSED:
        return close(s, request_id, status, by=by, reason=note)
    if status not in WORKING:
        raise RequestError("Choose open or in progress.", "status")
    admin = _admin(s, by)
    r = _working(s, request_id)
    note = (note or "").strip()[:REASON_MAX]
    if r.status != status or note:
        r.status = status
        s.add(r)
        _event(s, r, status, note, TEAM, admin.id)
        s.commit()
    return _views(s, [r])[0]


def extend(s: Session, request_id: int, reason: str, *, by: int) -> RequestView:
    """Move a rights request's due date on by ``privacy_request_extension_days``, once, before
    it is due, for a reason the requester is told by email."""
    cfg = get_settings()
    admin = _admin(s, by)
    r = _working(s, request_id)
    reason = _reason(reason, "Say why more time is needed: the requester is told.")
    if r.kind == INQUIRY:
        raise RequestError(f"A privacy question is answered {_promise(INQUIRY)}: it cannot be extended.", "inquiry")
    if r.extended_at is not None:
        raise RequestError("This request was extended already: a request can be extended only once.", "extended")
    now = clock.now()
    if r.due_at is None or r.due_at <= now:
        raise RequestError("The due date has passed: the request can no longer be extended.", "overdue")
    days = cfg.privacy_request_extension_days
    r.due_at = r.due_at + timedelta(days=days)
    r.extended_at, r.extension_reason = now, reason
    r.alerted_at = None  # the new due date gets its own alert
    s.add(r)
    _event(s, r, r.status, f"Due date extended by {days} days: {reason}", TEAM, admin.id)
    _tell(s, r, f"We need more time for your privacy request (#{r.id})", [
        f"We are working on your request #{r.id} ({KINDS[r.kind]}) and need more time to answer it fully: {reason}",
        f"We will answer by {_day(r.due_at)} at the latest.",
    ])
    s.commit()
    return _views(s, [r])[0]


def close(s: Session, request_id: int, outcome: str, *, by: int, reason: str = "") -> RequestView:
    """Close an open request as ``done`` or ``rejected`` (a reason is required, and sent to
    the requester with where to complain)."""
    cfg = get_settings()
    if outcome not in CLOSED:
        raise RequestError("Close a request as done or rejected.", "status")
    admin = _admin(s, by)
    r = _working(s, request_id)
    if outcome == "rejected":
        reason = _reason(reason, "Say why the request is rejected: the requester is told.")
    else:
        reason = (reason or "").strip()[:REASON_MAX]
    r.status, r.closed_at, r.close_reason = outcome, clock.now(), reason or None
    s.add(r)
    _event(s, r, outcome, reason, TEAM, admin.id)
    what = "question" if r.kind == INQUIRY else "request"
    if outcome == "done":
        _tell(s, r, f"Your privacy {what} is answered (#{r.id})", [
            f"We have answered your {what} #{r.id} ({KINDS[r.kind]}).",
            *([reason] if reason else []),
            f"If anything is missing, write to {cfg.privacy_email} and quote #{r.id}.",
        ])
    else:
        _tell(s, r, f"About your privacy request (#{r.id})", [
            f"We cannot do what your request #{r.id} ({KINDS[r.kind]}) asks: {reason}",
            f"If you disagree, write to {cfg.privacy_email} and quote #{r.id}. You may also complain to a data "
            "protection authority.",
        ])
    s.commit()
    return _views(s, [r])[0]


# --- jobs and erasure ----------------------------------------------------------------------


def send_due_alerts(s: Session) -> int:
    """Email the privacy address about each open request due within
    ``privacy_request_alert_days`` days or overdue, once (``alerted_at``; an extension re-arms
    it). Safe to run in two processes at once: each alert is claimed by a conditional update
    in the transaction that queues its email."""
    cfg = get_settings()
    now = clock.now()
    ids = s.exec(
        select(PrivacyRequest.id).where(
            col(PrivacyRequest.status).in_(WORKING), col(PrivacyRequest.alerted_at).is_(None),
            col(PrivacyRequest.due_at) <= now + timedelta(days=cfg.privacy_request_alert_days),
        ).order_by(col(PrivacyRequest.due_at), col(PrivacyRequest.id))
    ).all()
    sent = 0
    for rid in ids:
        won = s.execute(
            update(PrivacyRequest)
            .where(col(PrivacyRequest.id) == rid, col(PrivacyRequest.alerted_at).is_(None),
                   col(PrivacyRequest.status).in_(WORKING))
            .values(alerted_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            s.rollback()
            continue
        r = s.exec(select(PrivacyRequest).where(PrivacyRequest.id == rid).execution_options(populate_existing=True)).one()
        overdue = r.due_at <= now
        mail.enqueue(s, "notice", cfg.privacy_email, {
            "subject": f"Privacy request #{r.id} is {'overdue' if overdue else 'due ' + _day(r.due_at)}",
            "paragraphs": [
                f"Request #{r.id}: {KINDS[r.kind]}. Status: {STATUSES[r.status]}; confirmed {_day(r.verified_at)}"
                f"{', extended once' if r.extended_at else ''}.",
                f"It was due {_day(r.due_at)}: answer it now." if overdue
                else f"It is due {_day(r.due_at)}: the requester was promised an answer {_promise(r.kind)}.",
                "Open it in the privacy requests queue. This alert is sent once for each due date.",
            ],
        })
        _event(s, r, r.status, "Due-date alert sent to the privacy team.", SYSTEM)
        s.commit()
        sent += 1
    return sent


def purge(s: Session) -> int:
    """Delete requests never confirmed a day after they were filed; remove the address and
    the words of requests closed longer ago than ``retention_history_days``."""
    now = clock.now()
    stale = s.exec(
        select(PrivacyRequest.id).where(col(PrivacyRequest.status).in_(UNCONFIRMED),
                                        col(PrivacyRequest.created_at) < now - UNCONFIRMED_KEEP)
    ).all()
    _delete(s, list(stale))
    old = s.exec(
        select(PrivacyRequest).where(
            col(PrivacyRequest.status).in_(CLOSED), col(PrivacyRequest.anonymised_at).is_(None),
            col(PrivacyRequest.closed_at) < now - timedelta(days=get_settings().retention_history_days),
        )
    ).all()
    for r in old:
        _anonymise(s, r, now, "The address and the words of the request were removed at the end of the retention period.")
    s.commit()
    return len(stale) + len(old)


def forget_person(s: Session, user_id: int, email: str | None = None) -> int:
    """For account erasure: the requests of the user (and, given the account's confirmed
    ``email``, those about that address) lose the address, the words and the link to the
    account; the record of each confirmed request stays (see the module's docstring), one never
    confirmed is deleted. The caller commits."""
    conds = [col(PrivacyRequest.user_id) == user_id]
    if email:
        conds.append(col(PrivacyRequest.email_index) == email_index(email))
    rows = s.exec(select(PrivacyRequest).where(or_(*conds))).all()
    now = clock.now()
    _delete(s, [r.id for r in rows if r.status in UNCONFIRMED])
    for r in rows:
        if r.status not in UNCONFIRMED:
            _anonymise(s, r, now, "The account was deleted: the address and the words of the request were removed, "
                                  "the record of the request is kept.")
    return len(rows)


# --- helpers ---------------------------------------------------------------------------------


def _get(s: Session, request_id: int) -> PrivacyRequest:
    r = s.get(PrivacyRequest, request_id) if request_id else None
    if r is None:
        raise RequestError("There is no such request.", "missing")
    return r


def _working(s: Session, request_id: int) -> PrivacyRequest:
    r = _get(s, request_id)
    if r.status in CLOSED:
        raise RequestError("This request is closed.", "closed")
    if r.status not in WORKING:
        raise RequestError("This request is not confirmed yet.", "unconfirmed")
    return r


def _admin(s: Session, by: int | None) -> User:
    user = s.get(User, by) if by else None
    if user is None or not user.is_admin or user.deletion_requested_at is not None:
        raise NotAllowed("Only an admin can do this.", "admin")
    return user


def _reason(text: str, missing: str) -> str:
    text = (text or "").strip()
    if not text:
        raise RequestError(missing, "reason")
    if len(text) > REASON_MAX:
        raise RequestError(f"Keep it under {REASON_MAX:,} characters.", "reason")
    return text


def _limit(email: str, ip: str) -> None:
    """Codes to an address count with the other mail a visitor can make the app send."""
    cfg = get_settings()
    too_many = RequestError(f"Too many codes were asked for. Try again in an hour, or write to {cfg.privacy_email}.", "rate")
    if ip and not ratelimit.allow("privacy-code-ip", ip, cfg.account_mail_per_ip_per_hour):
        raise too_many
    if not ratelimit.allow("privacy-code-address", email_index(email), cfg.account_mail_per_address_per_hour):
        raise too_many


def _code_hash(request_id: int, code: str) -> str:
    """The keyed hash (HMAC-SHA256 with the app's secret) of a request's code."""
    return crypto.blind_index("privacy-request-code", f"{request_id}:{code}")


def _send_code(s: Session, r: PrivacyRequest, now: datetime) -> None:
    code = f"{secrets.randbelow(10**6):06d}"
    r.code_hash = _code_hash(r.id, code)
    r.code_expires_at = now + timedelta(minutes=CODE_MINUTES)
    r.code_sent_at = now
    r.codes_sent += 1
    r.code_tries = 0
    s.add(r)
    mail.enqueue(s, "privacy_request_code", r.email,
                 {"code": code, "minutes": CODE_MINUTES, "kind_name": KINDS[r.kind], "reference": r.id},
                 user_id=r.user_id)


def _open(s: Session, r: PrivacyRequest, now: datetime, note: str, actor: str, actor_id: int | None) -> None:
    """Confirmed: open, due from now, acknowledged by email. Claimed with a conditional update,
    so a request confirmed twice at once is acknowledged once."""
    s.flush()
    won = s.execute(
        update(PrivacyRequest)
        .where(col(PrivacyRequest.id) == r.id, col(PrivacyRequest.status).in_(UNCONFIRMED))
        .values(status="open", verified_at=now, due_at=due_date(r.kind, now), code_hash=None, code_expires_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    s.refresh(r)
    if not won:
        return
    _event(s, r, "open", note, actor, actor_id)
    what = "question" if r.kind == INQUIRY else "request"
    _tell(s, r, f"We received your privacy {what} (#{r.id})", [
        f"Your {what} #{r.id} is confirmed: {KINDS[r.kind]}.",
        f"We answer {_promise(r.kind)}: by {_day(r.due_at)} at the latest.",
        *([] if r.kind == INQUIRY else
          ["If a request is complex and we need more time, we will tell you why before that date."]),
    ])


def _tell(s: Session, r: PrivacyRequest, subject: str, paragraphs: list[str]) -> None:
    """Email the requester (nothing once the address was removed)."""
    if not r.email:
        return
    ctx: dict = {"subject": subject, "paragraphs": paragraphs}
    user = s.get(User, r.user_id) if r.user_id else None
    if user is not None:
        if email_index(user.email) == r.email_index:
            ctx["name"] = user.name
        ctx["link"] = get_settings().base_url.rstrip("/") + "/settings/privacy"
        ctx["link_text"] = "Open your privacy center"
    mail.enqueue(s, "notice", r.email, ctx, user_id=r.user_id)


def _event(s: Session, r: PrivacyRequest, status: str, note: str = "", actor: str = SYSTEM,
           actor_id: int | None = None) -> None:
    s.add(PrivacyRequestEvent(request_id=r.id, at=clock.now(), status=status, note=note, actor=actor, actor_id=actor_id))
    audit.record(s, "privacy_request", actor_id=actor_id, target=f"request:{r.id}", status=status, by=actor)


def _anonymise(s: Session, r: PrivacyRequest, now: datetime, note: str) -> None:
    r.email, r.details, r.user_id, r.anonymised_at = "", "", None, now
    r.code_hash = r.code_expires_at = None
    s.add(r)
    _event(s, r, r.status, note, SYSTEM)


def _delete(s: Session, ids: list[int]) -> None:
    if ids:
        s.exec(delete(PrivacyRequestEvent).where(col(PrivacyRequestEvent.request_id).in_(ids)))  # type: ignore[call-overload]
        s.exec(delete(PrivacyRequest).where(col(PrivacyRequest.id).in_(ids)))  # type: ignore[call-overload]


def _views(s: Session, rows) -> list[RequestView]:
    rows = list(rows)
    events: dict[int, list[EventView]] = {r.id: [] for r in rows}
    if rows:
        for e in s.exec(
            select(PrivacyRequestEvent).where(col(PrivacyRequestEvent.request_id).in_(list(events)))
            .order_by(col(PrivacyRequestEvent.at), col(PrivacyRequestEvent.id))
        ).all():
            events[e.request_id].append(EventView(e.at, e.status, STATUSES.get(e.status, e.status), e.note, e.actor))
    now = clock.now()
    return [
        RequestView(
            id=r.id, kind=r.kind, kind_name=KINDS.get(r.kind, r.kind), channel=r.channel, email=r.email,
            details=r.details, status=r.status, status_name=STATUSES.get(r.status, r.status),
            created_at=r.created_at, verified_at=r.verified_at, due_at=r.due_at, extended_at=r.extended_at,
            extension_reason=r.extension_reason, closed_at=r.closed_at, close_reason=r.close_reason,
            overdue=r.status in WORKING and r.due_at is not None and r.due_at <= now,
            history=events[r.id],
        )
        for r in rows
    ]
