"""The outbox: enqueue → the real SMTP transport → the loopback sink; outages delay and
retry with backoff (by moving the clock) and lose nothing; concurrent senders never send a
message twice."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from omnipostr import clock, db
from omnipostr.notify import service
from omnipostr.notify.models import OutboxMessage
from omnipostr.notify.smtp import LogTransport, SmtpTransport
from tests.notify.conftest import MAIL_FROM
from tests.notify.helpers import factory_for, postgres_available, scratch_postgres

LINK = "https://app.omnipostr.test/verify?token=Zq8xY2vB7nPa4Lk9"


def queue(n: int = 1, to: str = "ada@example.com", **kw) -> list[int]:
    ids = []
    with db.session() as s:
        for i in range(n):
            msg = service.enqueue(s, "verify_email", to, {"name": f"Ada {i}", "link": LINK}, **kw)
            ids.append(msg.id)
    return ids


def rows() -> list[OutboxMessage]:
    with db.session() as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def message_ids(sink) -> list[str]:
    return [m["Message-ID"] for m in sink.messages]


@pytest.mark.promise("COM-1")
def test_enqueued_message_reaches_the_sink_through_smtp(sink, smtp):
    [mid] = queue()
    report = service.send_due(db.session, transport=smtp)
    assert (report.claimed, report.sent, report.retried, report.failed, report.depth) == (1, 1, 0, 0, 0)

    got = sink.wait_for(timeout=2)
    [row] = rows()
    assert row.id == mid and row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    assert got["To"] == "ada@example.com"
    assert got["From"] == MAIL_FROM
    assert got["Subject"] == row.subject == "Confirm your email address for OmniPostr"
    assert got["Message-ID"] == row.message_id and got["Date"]
    assert got["Auto-Submitted"] == "auto-generated"
    assert got.get_content_type() == "multipart/alternative"
    assert LINK in got.get_body(("plain",)).get_content()
    assert LINK.replace("&", "&amp;") in got.get_body(("html",)).get_content()
    assert sink.envelopes[0].mail_from == "no-reply@omnipostr.test"

    # nothing is sent twice
    assert service.send_due(db.session, transport=smtp).claimed == 0
    assert len(sink.messages) == 1


@pytest.mark.promise("COM-1")
def test_bodies_address_and_subject_are_encrypted_at_rest():
    queue()
    with db.engine().connect() as c:
        raw_text, raw_html, subject, to = c.execute(
            text("SELECT text_body, html_body, subject, to_address FROM outbox_messages")
        ).one()
    assert "Zq8xY2vB7nPa4Lk9" not in raw_text and "Ada" not in raw_text
    assert "Zq8xY2vB7nPa4Lk9" not in raw_html
    assert "Confirm" not in subject and "@" not in to
    msg = rows()[0]  # and the model reads them back in clear
    assert LINK in msg.text_body and msg.subject == "Confirm your email address for OmniPostr"
    assert "@" in msg.to_address


@pytest.mark.promise("COM-1")
def test_smtp_outage_delays_with_backoff_and_loses_nothing(sink, smtp):
    ids = queue(3)
    sink.refuse_connections()

    r = service.send_due(db.session, transport=smtp)
    # the first message was tried; the batch stopped and handed the others back untried
    assert (r.claimed, r.sent, r.retried, r.released) == (3, 0, 1, 2)
    assert r.stopped and "could not reach the SMTP server" in r.stopped
    first, *others = rows()
    assert first.status == "queued" and first.attempts == 1
    assert "ConnectionRefusedError" in first.last_error
    wait = first.next_attempt_at - clock.now()
    assert timedelta(seconds=50) < wait <= timedelta(seconds=60)
    assert all(o.status == "queued" and o.attempts == 0 for o in others)

    # the outage goes on for hours: every run probes once more; delays keep growing
    for _ in range(6):
        clock.advance(timedelta(minutes=61))
        service.send_due(db.session, transport=smtp)
    assert all(m.status == "queued" for m in rows())
    assert sink.messages == []
    attempts = sorted(m.attempts for m in rows())
    assert sum(attempts) == 7 and max(attempts) <= 7 - 1

    sink.accept_connections()
    clock.advance(timedelta(minutes=61))
    r = service.send_due(db.session, transport=smtp)
    assert r.sent == 3 and r.depth == 0
    assert sorted(m.id for m in rows() if m.status == "sent") == ids
    assert len(sink.messages) == 3 and len(set(message_ids(sink))) == 3
    assert all(m.last_error is None for m in rows())


@pytest.mark.promise("COM-1")
def test_temporary_451_is_retried_after_a_minute(sink, smtp):
    queue(3)
    sink.fail_next(2)
    r = service.send_due(db.session, transport=smtp)
    assert (r.sent, r.retried, r.failed) == (1, 2, 0)
    retrying = [m for m in rows() if m.status == "queued"]
    assert len(retrying) == 2 and all("SMTP 451" in m.last_error for m in retrying)

    clock.advance(timedelta(seconds=45))  # before the first retry is due (>= 51 s)
    assert service.send_due(db.session, transport=smtp).claimed == 0

    clock.advance(timedelta(seconds=16))  # 61 s: both due
    r = service.send_due(db.session, transport=smtp)
    assert (r.claimed, r.sent) == (2, 2)
    assert len(sink.messages) == 3 and len(set(message_ids(sink))) == 3
    assert {m.attempts for m in rows() if m.last_error is None} >= {1, 2}


def test_backoff_doubles_then_gives_up_with_the_reason(sink, smtp):
    [mid] = queue()
    sink.fail_next(100)
    waits = []
    for _ in range(4):
        clock.advance(timedelta(hours=2))
        service.send_due(db.session, transport=smtp, max_attempts=4)
        m = rows()[0]
        if m.status == "queued":
            waits.append((m.next_attempt_at - clock.now()).total_seconds())
    assert [round(w) >= lo and w <= hi for w, (lo, hi) in zip(waits, [(51, 60), (102, 120), (204, 240)], strict=True)] == [True] * 3
    m = rows()[0]
    assert m.id == mid and m.status == "failed" and m.attempts == 4 and "451" in m.last_error
    assert sink.messages == []
    # capped at one hour
    assert all(3060 <= service.retry_delay(n).total_seconds() <= 3600 for n in (7, 8, 20))


def test_permanent_rejection_fails_at_once(sink, smtp):
    queue()
    sink.fail_next(1, code=550)
    r = service.send_due(db.session, transport=smtp)
    assert (r.failed, r.retried) == (1, 0)
    m = rows()[0]
    assert m.status == "failed" and m.attempts == 1 and m.last_error.startswith("SMTP 550")


def test_a_send_abandoned_by_a_dead_process_is_taken_over(sink, smtp):
    [mid] = queue()
    with db.session() as s:  # a process claimed it, then died before sending
        s.execute(
            text("UPDATE outbox_messages SET status='sending', attempts=1, next_attempt_at=:t WHERE id=:id"),
            {"t": clock.now() + service.SENDING_TIMEOUT, "id": mid},
        )
    assert service.send_due(db.session, transport=smtp).claimed == 0
    clock.advance(service.SENDING_TIMEOUT + timedelta(seconds=1))
    r = service.send_due(db.session, transport=smtp)
    assert r.sent == 1 and rows()[0].attempts == 2
    assert len(sink.messages) == 1


def _race(session_factory, smtp_factory, n_workers: int = 2) -> list[service.SendReport]:
    barrier = threading.Barrier(n_workers)
    reports: list[service.SendReport] = []
    errors: list[BaseException] = []

    def worker():
        try:
            transport = smtp_factory()
            barrier.wait()
            while True:
                r = service.send_due(session_factory, batch=5, transport=transport)
                reports.append(r)
                if r.claimed == 0:
                    break
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    return reports


@pytest.mark.promise("COM-1")
def test_concurrent_senders_never_send_a_message_twice(sink):
    """Three threads, each with its own sessions and SMTP connection, on the test database
    (a SQLite file, or PostgreSQL when the suite runs there)."""
    queue(60)

    def transport():
        return SmtpTransport(sink.host, sink.port, mail_from=MAIL_FROM, starttls=False, timeout=5)

    reports = _race(db.session, transport, n_workers=3)
    assert sum(r.sent for r in reports) == 60
    assert len(sink.messages) == 60
    assert len(set(message_ids(sink))) == 60
    assert all(m.status == "sent" and m.attempts == 1 for m in rows())
    busy = [r for r in reports if r.claimed]
    assert len(busy) >= 2  # both took part


@pytest.mark.promise("COM-1")
@pytest.mark.skipif(not postgres_available(), reason="no PostgreSQL at 127.0.0.1:5432")
def test_concurrent_senders_on_postgresql_skip_locked(sink):
    with scratch_postgres() as engine:
        factory = factory_for(engine)
        with factory() as s:
            for i in range(30):
                service.enqueue(s, "verify_email", f"u{i}@example.com", {"name": "U", "link": LINK})

        def transport():
            return SmtpTransport(sink.host, sink.port, mail_from=MAIL_FROM, starttls=False, timeout=5)

        reports = _race(factory, transport, n_workers=3)
        assert sum(r.sent for r in reports) == 30
        assert len(sink.messages) == 30 and len(set(message_ids(sink))) == 30
        with factory() as s:
            assert {m.status for m in s.exec(select(OutboxMessage))} == {"sent"}


def test_without_smtp_mail_is_kept_and_the_log_names_no_address_subject_or_body(caplog):
    queue(to="Dev@Example.com")
    with caplog.at_level(logging.INFO, logger="omnipostr.notify"):
        r = service.send_due(db.session, transport=LogTransport())
    assert r.sent == 1
    assert "(verify_email, for a visitor) kept on this machine" in caplog.text
    for private in ("Dev@Example.com", "dev@example.com", "Confirm your email", "Zq8xY2vB7nPa4Lk9", "Ada"):
        assert private not in caplog.text
    with db.session() as s:  # the development mailbox
        [m] = service.list_for_address(s, "dev@example.com")
        assert m.status == "sent" and LINK in m.text_body
        assert service.get(s, m.id).id == m.id


def test_default_transport_without_smtp_host_is_the_log():
    queue()
    assert service.send_due().sent == 1  # db.session and the settings' transport


def test_mailbox_lists_newest_first_with_a_limit():
    queue(3, to="ann@example.com")
    queue(1, to="bob@example.com")
    with db.session() as s:
        got = service.list_for_address(s, "ANN@example.com", limit=2)
    assert [m.text_body.split(",")[0] for m in got] == ["Hi Ada 2", "Hi Ada 1"]


@pytest.mark.parametrize("bad", ["", "no-at-sign", "Ann <ann@example.com>", "a@b.c\r\nBcc: x@y.z", "two@@example.com"])
def test_enqueue_refuses_bad_addresses(bad):
    with db.session() as s, pytest.raises(ValueError):
        service.enqueue(s, "verify_email", bad, {"name": "A", "link": LINK})


def test_enqueue_joins_the_callers_transaction():
    with pytest.raises(RuntimeError), db.session() as s:
        service.enqueue(s, "verify_email", "ada@example.com", {"name": "A", "link": LINK})
        raise RuntimeError("the sign-up failed")
    assert rows() == []


def test_marketing_mail_needs_and_carries_one_click_unsubscribe(sink, smtp):
    with db.session() as s, pytest.raises(ValueError, match="unsubscribe"):
        service.enqueue(s, "notice", "ada@example.com", {"subject": "News", "paragraphs": ["x"]}, marketing=True)
    unsub = "https://app.omnipostr.test/unsubscribe?token=u1"
    with db.session() as s:
        service.enqueue(
            s, "notice", "ada@example.com",
            {"subject": "News", "paragraphs": ["x"], "unsubscribe_link": unsub}, marketing=True,
        )
    service.send_due(db.session, transport=smtp)
    got = sink.wait_for(timeout=2)
    assert got["List-Unsubscribe"] == f"<{unsub}>"
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got["Auto-Submitted"] is None
    assert unsub in got.get_body(("plain",)).get_content()


def test_requeue_purge_and_delete_for_user(sink, smtp):
    [a, b] = queue(2)
    sink.fail_next(1, code=550)
    service.send_due(db.session, transport=smtp)
    with db.session() as s:
        failed = service.requeue(s, a)
        assert failed.status == "queued" and failed.attempts == 0
    service.send_due(db.session, transport=smtp)
    assert {m.status for m in rows()} == {"sent"}

    clock.advance(timedelta(days=31))
    with db.session() as s:
        assert service.purge(s, sent_before=clock.now() - timedelta(days=30), failed_before=clock.now()) == 2
    assert rows() == []

    queue(2, to="gone@example.com")
    queue(1, to="kept@example.com")
    with db.session() as s:
        assert service.delete_for_user(s, address="GONE@example.com") == 2
    assert [m.to_address for m in rows()] == ["kept@example.com"]


def test_outbox_job_sends_through_the_job_runner():
    from omnipostr import jobs
    from omnipostr.jobs import registry

    registry.discover()
    spec = registry.get("outbox.send")
    assert spec.quiet and spec.make_trigger().interval.total_seconds() == 5.0
    queue(2)
    run = jobs.run_now("outbox.send")
    assert run.outcome == "ok" and run.items == 2
    assert {m.status for m in rows()} == {"sent"}
