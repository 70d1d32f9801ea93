"""The SMTP transport against the loopback sink: login, STARTTLS without downgrade, error
classification, and the choice between SMTP and the log."""

from __future__ import annotations

import logging
import socket

import pytest
from pydantic import SecretStr
from sqlmodel import select

from fakes.smtp_sink import SmtpSink
from omnipostr import db
from omnipostr.notify import service
from omnipostr.notify.models import OutboxMessage
from omnipostr.notify.smtp import DeliveryError, LogTransport, SmtpTransport, get_transport
from omnipostr.settings import Settings
from tests.notify.conftest import MAIL_FROM

LINK = "https://app.omnipostr.test/reset?token=Q2w3E4r5T6y7"
GOOD_PW, BAD_PW = "pw-Secret-9", "wrong-Password-77"


def _queue_one() -> OutboxMessage:
    with db.session() as s:
        return service.enqueue(s, "reset_password", "ada@example.com", {"name": "Ada", "link": LINK, "minutes": 60})


def _only() -> OutboxMessage:
    with db.session() as s:
        return s.exec(select(OutboxMessage)).one()


def test_logs_in_when_a_username_is_set():
    with SmtpSink(auth={"mailer": GOOD_PW}) as sink:
        t = SmtpTransport(sink.host, sink.port, mail_from=MAIL_FROM, username="mailer", password=GOOD_PW, starttls=False)
        _queue_one()
        assert service.send_due(db.session, transport=t).sent == 1
        assert sink.envelopes[0].authenticated_as == "mailer"


def test_wrong_password_is_retried_and_never_recorded(caplog):
    with SmtpSink(auth={"mailer": GOOD_PW}) as sink:
        t = SmtpTransport(sink.host, sink.port, mail_from=MAIL_FROM, username="mailer", password=BAD_PW, starttls=False)
        _queue_one()
        with caplog.at_level(logging.DEBUG):
            r = service.send_due(db.session, transport=t)
        assert r.retried == 1
        m = _only()
        assert m.status == "queued" and m.last_error.startswith("SMTP login failed: 535")
        assert BAD_PW not in m.last_error and BAD_PW not in caplog.text
        assert BAD_PW not in repr(t)
        assert sink.messages == []


def test_starttls_required_but_not_offered_never_sends_in_clear(sink):
    t = SmtpTransport(sink.host, sink.port, mail_from=MAIL_FROM, starttls=True, timeout=5)
    _queue_one()
    r = service.send_due(db.session, transport=t)
    assert r.retried == 1 and r.stopped and "STARTTLS" in r.stopped.upper()
    assert sink.messages == []
    assert _only().status == "queued"


def test_unreachable_server_is_a_connection_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    t = SmtpTransport("127.0.0.1", port, mail_from=MAIL_FROM, starttls=False, timeout=2)
    msg = _queue_one()
    with pytest.raises(DeliveryError) as e:
        t.send(msg)
    assert e.value.connection and not e.value.permanent


def test_one_connection_serves_a_batch_and_survives_a_refused_message(sink, smtp):
    for _ in range(3):
        _queue_one()
    sink.fail_next(1, code=451)
    r = service.send_due(db.session, transport=smtp)
    assert (r.sent, r.retried) == (2, 1)
    assert len(sink.messages) == 2


def test_get_transport_follows_the_settings():
    assert isinstance(get_transport(Settings(smtp_host="")), LogTransport)
    t = get_transport(
        Settings(
            smtp_host="mail.example.com", smtp_port=2525, smtp_username="u",
            smtp_password=SecretStr("p-9"), smtp_starttls=False, smtp_timeout_seconds=3.5,
            mail_from="X <x@example.com>",
        )
    )
    assert isinstance(t, SmtpTransport)
    assert (t.host, t.port, t.username, t.starttls, t.timeout, t.mail_from) == (
        "mail.example.com", 2525, "u", False, 3.5, "X <x@example.com>",
    )
    assert "p-9" not in repr(t)
