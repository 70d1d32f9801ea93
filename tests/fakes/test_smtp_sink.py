"""The loopback SMTP sink speaks real SMTP, and its outage knobs behave like a real outage."""

from __future__ import annotations

import smtplib
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from fakes.smtp_sink import SmtpSink

ROOT = Path(__file__).resolve().parents[2]
GOOD_PW, BAD_PW = "s3cret-pass", "wrong"


def _mail(to="ann@example.com", subject="Hello") -> EmailMessage:
    m = EmailMessage()
    m["From"] = "app@example.com"
    m["To"] = to
    m["Subject"] = subject
    m.set_content("plain body")
    m.add_alternative("<p>html body</p>", subtype="html")
    return m


def _send(sink: SmtpSink, msg: EmailMessage, **login) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as c:
        if login:
            c.login(login["user"], login["password"])
        c.send_message(msg)


def test_receives_and_parses_messages():
    with SmtpSink() as sink:
        assert sink.port > 0
        _send(sink, _mail())
        got = sink.wait_for(lambda m: m["Subject"] == "Hello", timeout=2)
        assert got["To"] == "ann@example.com"
        assert got.get_body(("plain",)).get_content().strip() == "plain body"
        assert "html body" in got.get_body(("html",)).get_content()
        assert sink.envelopes[0].rcpt_tos == ("ann@example.com",)
        assert sink.to("ANN@example.com") == [got]


def test_wait_for_times_out_when_nothing_matches():
    with SmtpSink() as sink:
        _send(sink, _mail())
        with pytest.raises(TimeoutError):
            sink.wait_for(lambda m: m["Subject"] == "never", timeout=0.2)


def test_fail_next_answers_451_then_accepts():
    with SmtpSink() as sink:
        sink.fail_next(2)
        for _ in range(2):
            with pytest.raises(smtplib.SMTPDataError) as e:
                _send(sink, _mail())
            assert e.value.smtp_code == 451
        _send(sink, _mail(subject="third"))
        assert [m["Subject"] for m in sink.messages] == ["third"]
        assert sink.rejected == 2


def test_fail_next_with_a_permanent_code():
    with SmtpSink() as sink:
        sink.fail_next(1, code=550)
        with pytest.raises(smtplib.SMTPDataError) as e:
            _send(sink, _mail())
        assert e.value.smtp_code == 550


def test_refused_connections_then_back_on_the_same_port():
    with SmtpSink() as sink:
        port = sink.port
        sink.refuse_connections()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((sink.host, port), timeout=2)
        sink.accept_connections()
        assert sink.port == port
        _send(sink, _mail())
        assert len(sink.wait_for_count(1, timeout=2)) == 1


def test_auth_required_when_configured():
    with SmtpSink(auth={"mailer": GOOD_PW}) as sink:
        with pytest.raises(smtplib.SMTPSenderRefused):
            _send(sink, _mail())  # no login: MAIL FROM refused (530)
        with pytest.raises(smtplib.SMTPAuthenticationError):
            _send(sink, _mail(), user="mailer", password=BAD_PW)
        _send(sink, _mail(), user="mailer", password=GOOD_PW)
        assert sink.envelopes[-1].authenticated_as == "mailer"


def test_command_line_sink_prints_what_it_receives():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "fakes.smtp_sink", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert "listening" in proc.stdout.readline()
        deadline = time.monotonic() + 5
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as c:
                    c.send_message(_mail(subject="From the CLI test"))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        lines = [proc.stdout.readline() for _ in range(3)]
        assert any("Subject: From the CLI test" in line for line in lines)
    finally:
        proc.terminate()
        proc.wait(timeout=5)
