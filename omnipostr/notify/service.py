"""The email outbox.

``enqueue`` renders a message and adds it to the caller's session, so the email is stored in
the same transaction as the change it reports (no email for a sign-up that rolled back, no
lost email for one that committed). ``send_due`` — run every few seconds by the job runner —
delivers what is due:

1. it *claims* a batch with one conditional ``UPDATE ... SET status='sending' WHERE id IN
   (...) AND status IN ('queued', 'sending') AND next_attempt_at <= now RETURNING id``
   (on PostgreSQL the candidates are first locked with ``FOR UPDATE SKIP LOCKED``), so two
   processes running it at once never claim the same message;
2. it sends each claimed message through the transport; a message that fails is retried
   after 1, 2, 4 ... minutes (capped at 1 hour, each delay shortened by up to 15% at random
   so retries spread out) until ``settings.outbox_max_attempts``, then marked ``failed``
   with the reason;
3. when the server cannot be reached at all it stops and hands the rest of the batch back
   untouched (they were not tried), to probe again on the next run.

A claimed message carries a deadline (``SENDING_TIMEOUT``): if its process dies mid-send,
another run takes it over after that, so no message is lost.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from omnipostr import clock
from omnipostr.crypto import email_index
from omnipostr.notify.models import OutboxMessage
from omnipostr.notify.render import MARKETING_KINDS, render
from omnipostr.notify.smtp import DeliveryError, get_transport, new_message_id
from omnipostr.observe import metrics

logger = logging.getLogger("omnipostr.notify")

SessionFactory = Callable[[], AbstractContextManager[Session]]

SENDING_TIMEOUT = timedelta(minutes=10)
"""A message stuck in ``sending`` this long (its process died) is claimed again."""
FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 3600
_ADDRESS = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+")


@dataclasses.dataclass
class SendReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    """Claimed but handed back untried because the server could not be reached."""
    depth: int = 0
    """Messages still waiting (queued or sending) after this run."""
    stopped: str | None = None
    """Why the run stopped early, if it did."""

    @property
    def items(self) -> int:
        return self.sent + self.retried + self.failed


def normalize_address(address: str) -> str:
    """A bare ``local@domain`` address, or ``ValueError`` (no display names, no header
    injection)."""
    a = (address or "").strip()
    if len(a) > 320 or "\r" in a or "\n" in a or parseaddr(a)[1] != a or not _ADDRESS.fullmatch(a):
        raise ValueError("not a valid email address")
    return a


def enqueue(
    session: Session,
    kind: str,
    to: str,
    context: dict[str, Any],
    *,
    user_id: int | None = None,
    marketing: bool = False,
) -> OutboxMessage:
    """Render message ``kind`` for ``to`` and queue it in ``session`` (the caller commits).
    Marketing mail needs ``context["unsubscribe_link"]`` (one-click unsubscribe)."""
    from omnipostr.settings import get_settings

    to = normalize_address(to)
    if kind in MARKETING_KINDS and not marketing:
        raise ValueError(f"email {kind!r} is marketing email: queue it with marketing=True")
    unsubscribe = context.get("unsubscribe_link")
    if marketing and not unsubscribe:
        raise ValueError("marketing email needs an unsubscribe_link")
    if not marketing:
        context = {**context, "unsubscribe_link": None}
    rendered = render(kind, context)
    now = clock.now()
    msg = OutboxMessage(
        kind=kind,
        to_address=to,
        to_index=email_index(to),
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        user_id=user_id,
        status="queued",
        next_attempt_at=now,
        created_at=now,
        marketing=marketing,
        message_id=new_message_id(get_settings().mail_from),
        unsubscribe_url=str(unsubscribe) if marketing else None,
    )
    session.add(msg)
    session.flush()
    metrics.count_event("email.queued")
    return msg


def retry_delay(attempts: int) -> timedelta:
    """The wait after failed attempt number ``attempts`` (1-based)."""
    base = min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)
    return timedelta(seconds=base * random.uniform(0.85, 1.0))


def _due(now: datetime):
    return (
        col(OutboxMessage.status).in_(("queued", "sending")),
        col(OutboxMessage.next_attempt_at) <= now,
    )


def _claim(session: Session, now: datetime, batch: int) -> list[int]:
    """Mark up to ``batch`` due messages as ``sending`` for this process. Commits."""
    q = (
        select(OutboxMessage.id)
        .where(*_due(now))
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    ids = list(session.exec(q))
    if not ids:
        session.rollback()
        return []
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), *_due(now))
        .values(
            status="sending",
            attempts=OutboxMessage.attempts + 1,
            next_attempt_at=now + SENDING_TIMEOUT,
        )
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    won = {r[0] for r in result}
    session.commit()
    return [i for i in ids if i in won]  # oldest due first


def _set(session: Session, msg_id: int, **values: Any) -> None:
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == msg_id, col(OutboxMessage.status) == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def queue_depth(session: Session) -> int:
    q = select(func.count()).select_from(OutboxMessage).where(
        col(OutboxMessage.status).in_(("queued", "sending"))
    )
    return int(session.exec(q).one())


def send_due(
    session_factory: SessionFactory | None = None,
    now: datetime | None = None,
    batch: int = 50,
    *,
    transport=None,
    max_attempts: int | None = None,
) -> SendReport:
    """Deliver the messages that are due. Safe to run in several processes at once."""
    from omnipostr.settings import get_settings

    if session_factory is None:
        from omnipostr import db

        session_factory = db.session
    settings = get_settings()
    max_attempts = max_attempts or settings.outbox_max_attempts
    transport = transport if transport is not None else get_transport(settings)
    report = SendReport()

    with session_factory() as s:
        claimed = _claim(s, now or clock.now(), batch)
        report.claimed = len(claimed)
        if claimed:
            with transport:
                for i, msg_id in enumerate(claimed):
                    msg = s.exec(
                        select(OutboxMessage)
                        .where(OutboxMessage.id == msg_id)
                        .execution_options(populate_existing=True)
                    ).one()
                    s.expunge(msg)
                    s.commit()  # end the read: no lock is held while talking to the server
                    try:
                        transport.send(msg)
                    except DeliveryError as e:
                        _failed(s, msg, e, report, now, max_attempts)
                        if e.connection:
                            rest = claimed[i + 1 :]
                            report.released = _release(s, rest)
                            report.stopped = e.reason
                            break
                        continue
                    except Exception as e:  # a bug or bad data: retry later, say what
                        err = DeliveryError(f"could not send ({type(e).__name__})")
                        logger.exception("outbox message %s could not be sent", msg_id)
                        _failed(s, msg, err, report, now, max_attempts)
                        continue
                    _set(s, msg_id, status="sent", sent_at=now or clock.now(), last_error=None)
                    report.sent += 1
                    metrics.count_event("email.sent")
        report.depth = queue_depth(s)
    metrics.set_outbox_depth(report.depth)
    if report.items or report.stopped:
        logger.info(
            "outbox: %d sent, %d to retry, %d failed%s",
            report.sent,
            report.retried,
            report.failed,
            f" (stopped: {report.stopped})" if report.stopped else "",
        )
    return report


def _failed(
    s: Session,
    msg: OutboxMessage,
    err: DeliveryError,
    report: SendReport,
    now: datetime | None,
    max_attempts: int,
) -> None:
    reason = err.reason[:500]
    if err.permanent or msg.attempts >= max_attempts:
        _set(s, msg.id, status="failed", last_error=reason)
        report.failed += 1
        metrics.count_event("email.failed")
        logger.warning("outbox message %s failed for good after %d attempts: %s", msg.id, msg.attempts, reason)
        return
    when = (now or clock.now()) + retry_delay(msg.attempts)
    _set(s, msg.id, status="queued", next_attempt_at=when, last_error=reason)
    report.retried += 1
    metrics.count_event("email.retry")


def _release(s: Session, ids: list[int]) -> int:
    """Hand claimed, untried messages back as they were (due now, attempt not counted)."""
    if not ids:
        return 0
    result = s.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.status) == "sending")
        .values(status="queued", attempts=OutboxMessage.attempts - 1, next_attempt_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    s.commit()
    return result.rowcount or 0


# --- reading and housekeeping ----------------------------------------------------------------


def get(session: Session, message_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, message_id)


def newest(session: Session, limit: int = 100) -> list[OutboxMessage]:
    """The newest messages of the outbox, to anyone (the operator's development mailbox)."""
    q = select(OutboxMessage).order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
    return list(session.exec(q.limit(limit)))


def list_for_address(session: Session, address: str, limit: int = 50) -> list[OutboxMessage]:
    """The newest messages to ``address`` (the development mailbox, the admin view)."""
    q = (
        select(OutboxMessage)
        .where(OutboxMessage.to_index == email_index(address))
        .order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
        .limit(limit)
    )
    return list(session.exec(q))


def requeue(session: Session, message_id: int) -> OutboxMessage | None:
    """Send a failed message again from the start (admin action). The caller commits."""
    msg = session.get(OutboxMessage, message_id)
    if msg is None or msg.status != "failed":
        return msg
    msg.status, msg.attempts, msg.next_attempt_at = "queued", 0, clock.now()
    session.add(msg)
    session.flush()
    return msg


def purge(session: Session, *, sent_before: datetime, failed_before: datetime) -> int:
    """Delete sent messages older than ``sent_before`` and failed ones created before
    ``failed_before`` (their bodies hold personal data and links). The caller commits."""
    result = session.execute(
        delete(OutboxMessage).where(
            or_(
                (col(OutboxMessage.status) == "sent") & (col(OutboxMessage.sent_at) < sent_before),
                (col(OutboxMessage.status) == "failed") & (col(OutboxMessage.created_at) < failed_before),
            )
        )
    )
    return result.rowcount or 0


def drop_queued_marketing(session: Session, user_id: int) -> int:
    """Withdraw the user's marketing mail that is still waiting (not yet being sent), when
    they opt out: a campaign queued a moment ago must not reach them after all. The caller
    commits."""
    result = session.execute(
        delete(OutboxMessage).where(
            col(OutboxMessage.user_id) == user_id,
            col(OutboxMessage.marketing).is_(True),
            col(OutboxMessage.status) == "queued",
        )
    )
    return result.rowcount or 0


def delete_for_user(session: Session, *, user_id: int | None = None, address: str | None = None) -> int:
    """Delete every message of a user (by id and/or address), for account deletion. Enqueue
    the deletion confirmation after calling this. The caller commits."""
    conds = []
    if user_id is not None:
        conds.append(col(OutboxMessage.user_id) == user_id)
    if address:
        conds.append(col(OutboxMessage.to_index) == email_index(address))
    if not conds:
        return 0
    result = session.execute(delete(OutboxMessage).where(or_(*conds)))
    return result.rowcount or 0
