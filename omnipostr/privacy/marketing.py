"""Marketing email: only to people who chose it, each message with a one-click unsubscribe
link that works signed out (RFC 8058). COM-2, RGT-4, MKT-1.

- ``send_campaign`` queues one message (subject and text) to every user who opted in to
  product news, has a confirmed address and is not being deleted, and to nobody else. Each
  message carries the person's own unsubscribe link, in its footer and in the
  ``List-Unsubscribe`` / ``List-Unsubscribe-Post`` headers (``notify.smtp``). A campaign has a
  name, and each person gets it at most once: who got it is recorded with the message, in the
  same transaction, so a rerun (after a crash, or by mistake) mails only those not mailed
  yet. Two runs of one campaign at once are refused (a database lease).
- ``unsubscribe_token`` / ``read_token``: the signed token in that link (see
  ``unsubscribe_token`` for its format and why it does not expire).
- ``subscriber_for`` and ``unsubscribe``: what the unsubscribe page shows, and the one-click
  unsubscribe itself, through ``service.set_marketing`` (which records the choice).

It lives in ``privacy`` because it needs the users (``accounts``), the outbox (``notify``) and
the marketing choice (``privacy.service``): ``accounts`` already imports ``notify``, and
``privacy`` imports both, so here every dependency keeps pointing one way.

Operators send a campaign from the command line::

    python -m omnipostr.privacy.marketing --campaign spring-2027 --subject "What's new" --body-file news.txt

The messages are queued in the outbox; the app's outbox job delivers them.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import hmac
import os
import re
import socket
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from omnipostr.accounts.models import User
from omnipostr.crypto import new_token
from omnipostr.jobs import service as leases
from omnipostr.notify import service as mail
from omnipostr.notify.render import mask_email
from omnipostr.privacy import service
from omnipostr.settings import get_settings
from omnipostr.usage.models import UsageEvent
from omnipostr.usage.service import record

PURPOSE = "marketing"
"""The one kind of email these links unsubscribe from today."""
SENT_EVENT = "privacy.marketing_sent"
"""Recorded per person and campaign (``detail.campaign``) with each message. A ``privacy.*``
event, so it is kept like the other records of marketing consent, even for someone who
objected to usage analytics: it is what stops a campaign from reaching anyone twice."""
UNSUBSCRIBE_PATH = "/unsubscribe/"
SETTINGS_PATH = "/settings/privacy"
LEASE_SECONDS = 600
BATCH = 200

_KEY_LABEL = b"omnipostr:unsubscribe-link:v1"
_PURPOSE_RE = re.compile(r"[a-z][a-z_]{0,31}")
_CAMPAIGN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,47}")
_TOKEN_RE = re.compile(r"([a-z][a-z_]{0,31})\.([1-9][0-9]{0,18})\.([A-Za-z0-9_-]{8})\.([A-Za-z0-9_-]{43})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_SUBJECT = 200
MAX_BODY = 50_000


# --- the unsubscribe token -------------------------------------------------------------------


def _key() -> bytes:
    """A key of its own for unsubscribe links, derived from the app's secret key: a signature
    made for these links is useless anywhere else (token hashes, blind indexes)."""
    return hmac.new(get_settings().signing_key(), _KEY_LABEL, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _mac(message: str) -> bytes:
    return hmac.new(_key(), message.encode("ascii"), hashlib.sha256).digest()


def _account_stamp(user_id: int, created_at: datetime) -> str:
    """Ties a token to one account, not just to an id: a database may give a deleted
    account's id to a new one (SQLite does), and an old link must not reach it."""
    created = created_at.replace(tzinfo=UTC) if created_at.tzinfo is None else created_at.astimezone(UTC)
    micros = (created - _EPOCH) // timedelta(microseconds=1)
    return _b64(_mac(f"account:{user_id}:{micros}")[:6])


def unsubscribe_token(user: User, purpose: str = PURPOSE) -> str:
    """The token of ``user``'s one-click unsubscribe link for ``purpose`` (marketing email).

    Format: ``<purpose>.<user id>.<account stamp>.<signature>``, for example
    ``marketing.42.Zk3vQ1xA.<43 characters>``. The signature is HMAC-SHA256 (URL-safe base64)
    of the first three parts, with a key derived from the app's secret key for these links
    only. So the token names the person and what they unsubscribe from, and anyone can read
    those; only the app can make one, and changing any part (another id, another purpose, a
    changed signature) makes it fail. It is checked by recomputing the signature: no token
    is stored, and nothing but the account itself is looked up.

    It holds nothing that changes with the account's password or sessions, so it keeps working
    after a password change or a sign-out everywhere. It names the account (its id and a
    stamp of its creation time), not the address, so it stays with the person when they
    change their address, and never reaches a different account that is later given the
    same id.

    It does not expire, on purpose: RFC 8058 expects the link in a message to keep working
    as long as the message may be read, and mail is read months later. An expired link
    would leave "report spam" as the only way out. The token can do one thing, stop
    marketing email to one account (which the person can turn back on), and the page it opens
    shows only a masked address, so a forwarded or leaked link costs little. Changing the
    app's secret key retires every link at once.
    """
    if not _PURPOSE_RE.fullmatch(purpose):
        raise ValueError("an unsubscribe purpose is a short lowercase word")
    if user.id is None:
        raise ValueError("the user has no id yet")
    payload = f"{purpose}.{user.id}.{_account_stamp(user.id, user.created_at)}"
    return f"{payload}.{_b64(_mac(payload))}"


@dataclasses.dataclass(frozen=True)
class TokenClaim:
    user_id: int
    stamp: str


def read_token(token: str, purpose: str = PURPOSE) -> TokenClaim | None:
    """What a token says, if the app made it for ``purpose``; None for anything else (forged,
    altered, cut short, made for another purpose). Needs no database."""
    m = _TOKEN_RE.fullmatch(token or "")
    if m is None or m.group(1) != purpose:
        return None
    payload = token.rsplit(".", 1)[0]
    if not hmac.compare_digest(_b64(_mac(payload)), m.group(4)):
        return None
    return TokenClaim(user_id=int(m.group(2)), stamp=m.group(3))


def unsubscribe_url(user: User) -> str:
    """The absolute address of the user's unsubscribe page (GET) and one-click target (POST).
    On the back end's origin, which is the public ``base_url`` except under ``make dev``."""
    return f"{get_settings().api_url}{UNSUBSCRIBE_PATH}{unsubscribe_token(user)}"


def _user_for(s: Session, token: str) -> User | None:
    claim = read_token(token)
    if claim is None:
        return None
    user = s.get(User, claim.user_id)
    if user is None or not hmac.compare_digest(_account_stamp(user.id, user.created_at), claim.stamp):
        return None
    return user


@dataclasses.dataclass(frozen=True)
class Subscriber:
    """What the unsubscribe page may show: whose link it is (masked) and the choice."""

    address: str
    subscribed: bool


def subscriber_for(s: Session, token: str) -> Subscriber | None:
    """Whose link ``token`` is, for the page that asks to confirm; None when it is not valid.
    Changes nothing."""
    user = _user_for(s, token)
    if user is None:
        return None
    return Subscriber(address=mask_email(user.email), subscribed=user.marketing_opt_in)


def unsubscribe(s: Session, token: str) -> Subscriber | None:
    """Stop marketing email to the account ``token`` names (the privacy choice, recorded with
    its time, and any marketing mail still queued for it); None, and nothing changed, when the
    token is not valid. Doing it again changes nothing more. Commits."""
    user = _user_for(s, token)
    if user is None:
        return None
    if user.marketing_opt_in:
        service.set_marketing(s, user.id, False)
    return Subscriber(address=mask_email(user.email), subscribed=False)


# --- campaigns ---------------------------------------------------------------------------------


class CampaignError(ValueError):
    """A campaign that cannot be sent as asked (a bad name, subject or body, or already
    being sent by another process)."""


@dataclasses.dataclass
class CampaignReport:
    campaign: str
    queued: int = 0
    already_sent: int = 0
    """Opted in, but got this campaign before."""
    skipped: int = 0
    """Opted in, but the stored address cannot be mailed."""


def check_campaign(name: str) -> str:
    name = (name or "").strip()
    if not _CAMPAIGN_RE.fullmatch(name):
        raise CampaignError("A campaign name is 1 to 48 letters, digits, dots, dashes or underscores.")
    return name


def _message(subject: str, body: str) -> tuple[str, list[str]]:
    subject = " ".join((subject or "").split())
    if not subject:
        raise CampaignError("The subject is empty.")
    if len(subject) > MAX_SUBJECT:
        raise CampaignError(f"The subject is longer than {MAX_SUBJECT} characters.")
    if len(body or "") > MAX_BODY:
        raise CampaignError(f"The text is longer than {MAX_BODY:,} characters.")
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if not paragraphs:
        raise CampaignError("The text is empty.")
    return subject, paragraphs


def _recipients():
    """Who may get marketing email: opted in, address confirmed, not being deleted."""
    return (
        col(User.marketing_opt_in).is_(True),
        col(User.email_verified_at).is_not(None),
        col(User.deletion_requested_at).is_(None),
    )


def _already_sent(s: Session, campaign: str, user_ids: Sequence[int]) -> set[int]:
    if not user_ids:
        return set()
    q = select(UsageEvent.user_id).where(
        UsageEvent.kind == SENT_EVENT,
        col(UsageEvent.user_id).in_(user_ids),
        col(UsageEvent.detail)["campaign"].as_string() == campaign,
    )
    return {i for i in s.exec(q) if i is not None}


def _batches(s: Session, size: int):
    last = 0
    while True:
        users = list(s.exec(select(User).where(*_recipients(), col(User.id) > last).order_by(col(User.id)).limit(size)))
        if not users:
            return
        last = users[-1].id
        yield users


def preview_campaign(s: Session, campaign: str) -> CampaignReport:
    """How many people ``send_campaign`` would mail now (``queued``), and how many had it
    already. Changes nothing."""
    report = CampaignReport(check_campaign(campaign))
    for users in _batches(s, BATCH):
        done = _already_sent(s, report.campaign, [u.id for u in users])
        report.already_sent += len(done)
        report.queued += len(users) - len(done)
    return report


def send_campaign(s: Session, campaign: str, subject: str, body: str, *, batch: int = BATCH) -> CampaignReport:
    """Queue marketing message ``campaign`` (``subject``, plain ``body`` whose blank lines
    separate paragraphs) to every user who may get marketing email and has not had this
    campaign yet. Each batch of messages is committed with the record of who got them, so a
    run that dies halfway is finished by running it again. Raises ``CampaignError`` for bad
    input or when another run of the same campaign is under way. Commits."""
    campaign = check_campaign(campaign)
    subject, paragraphs = _message(subject, body)
    cfg = get_settings()
    settings_link = cfg.base_url + SETTINGS_PATH
    lease = f"marketing:{campaign}"
    holder = f"{socket.gethostname()}:{os.getpid()}:{new_token(6)}"
    if leases.acquire_lease(s, holder, LEASE_SECONDS, name=lease) is None:
        raise CampaignError(f"Campaign {campaign!r} is being sent by another process right now.")
    report = CampaignReport(campaign)
    try:
        for users in _batches(s, batch):
            done = _already_sent(s, campaign, [u.id for u in users])
            for user in users:
                if user.id in done:
                    report.already_sent += 1
                    continue
                try:
                    mail.normalize_address(user.email)
                except ValueError:
                    report.skipped += 1
                    continue
                context = {
                    "subject": subject,
                    "paragraphs": paragraphs,
                    "name": user.name,
                    "unsubscribe_link": unsubscribe_url(user),
                    "settings_link": settings_link,
                }
                mail.enqueue(s, "marketing", user.email, context, user_id=user.id, marketing=True)
                record(s, SENT_EVENT, workspace_id=None, user_id=user.id, campaign=campaign)
                report.queued += 1
            s.commit()
            if leases.acquire_lease(s, holder, LEASE_SECONDS, name=lease) is None:
                raise CampaignError(f"Campaign {campaign!r} was taken over by another process; run it again.")
    finally:
        s.rollback()
        leases.release_lease(s, holder, name=lease)
    return report


# --- command line ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m omnipostr.privacy.marketing",
        description="Send one marketing email to every user who opted in to product news (once per campaign).",
    )
    parser.add_argument("--campaign", required=True, help="a name for this mailing; a rerun skips whoever got it")
    parser.add_argument("--subject", required=False, default="", help="the subject line")
    parser.add_argument("--body-file", required=False, help="plain text; a blank line separates paragraphs ('-': stdin)")
    parser.add_argument("--dry-run", action="store_true", help="only say how many people would get it")
    args = parser.parse_args(argv)

    from omnipostr import db
    from omnipostr import tables as _tables  # noqa: F401 - every table, for the foreign keys

    try:
        if args.dry_run:
            report = db.in_session(preview_campaign, args.campaign)
            print(f"{report.campaign}: {report.queued} would get it now, {report.already_sent} already did.")
            return 0
        if not args.body_file:
            parser.error("--body-file is required (or --dry-run)")
        if args.body_file == "-":
            body = sys.stdin.read()
        else:
            with open(args.body_file, encoding="utf-8") as f:
                body = f.read()
        report = db.in_session(send_campaign, args.campaign, args.subject, body)
    except (CampaignError, OSError, UnicodeDecodeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(
        f"{report.campaign}: {report.queued} queued, {report.already_sent} had it already"
        + (f", {report.skipped} skipped (address cannot be mailed)" if report.skipped else "")
        + ". The app's outbox job delivers them."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
