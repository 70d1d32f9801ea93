from __future__ import annotations

import pytest

from fakes.smtp_sink import SmtpSink
from omnipostr.notify.smtp import SmtpTransport

MAIL_FROM = "OmniPostr <no-reply@omnipostr.test>"


@pytest.fixture
def sink():
    with SmtpSink() as s:
        yield s


@pytest.fixture
def smtp(sink) -> SmtpTransport:
    """The real SMTP transport, pointed at the loopback sink (no TLS there)."""
    return SmtpTransport(sink.host, sink.port, mail_from=MAIL_FROM, starttls=False, timeout=5)
