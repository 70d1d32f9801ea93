"""Transports that deliver outbox messages.

- :class:`SmtpTransport`: a real SMTP client (``smtplib``), STARTTLS when configured (and
  then never falls back to plain text), login when a username is set, a timeout on every
  socket operation. One connection is reused for a batch (``with transport: ...``).
- :class:`LogTransport`: the embedded default when ``smtp_host`` is empty. It writes
  ``mail to <address>: <subject>`` to the log — never the body, which holds one-time links —
  and the message counts as sent, so the development mailbox shows it.

A failed delivery raises :class:`DeliveryError` with a short reason (SMTP code and text,
redacted) and whether retrying can help.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from typing import Protocol

from omnipostr.notify.models import OutboxMessage
from omnipostr.observe.logs import redact

logger = logging.getLogger("omnipostr.notify")

# 5xx replies that depend on our configuration, not the message: retrying after a fix helps.
_CONFIG_CODES = frozenset({530, 534, 535, 538})


class DeliveryError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False, connection: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.connection = connection
        """The server could not be used at all (unreachable, no STARTTLS, TLS failure): the
        next messages would fail the same way, so the batch stops here."""


class Transport(Protocol):
    def __enter__(self) -> Transport: ...
    def __exit__(self, *exc) -> None: ...
    def send(self, message: OutboxMessage) -> None: ...


def sender_domain(mail_from: str) -> str:
    addrs = getaddresses([mail_from])
    addr = addrs[0][1] if addrs else ""
    return addr.rpartition("@")[2] or "omnipostr.local"


def new_message_id(mail_from: str) -> str:
    return make_msgid(domain=sender_domain(mail_from))


def build_email(message: OutboxMessage, mail_from: str) -> EmailMessage:
    """The MIME message: multipart/alternative with the text and HTML parts."""
    em = EmailMessage()
    em["From"] = mail_from
    em["To"] = message.to_address
    em["Subject"] = message.subject
    em["Date"] = format_datetime(_aware(message.created_at))
    em["Message-ID"] = message.message_id
    if message.marketing:
        if message.unsubscribe_url:
            em["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            em["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    else:
        em["Auto-Submitted"] = "auto-generated"
    em.set_content(message.text_body)
    em.add_alternative(message.html_body, subtype="html")
    return em


def _aware(d: datetime) -> datetime:
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)


def _reply_text(msg: bytes | str) -> str:
    text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
    return redact(" ".join(text.split()))[:200]


def _from_smtp_exception(e: Exception) -> DeliveryError:
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in e.recipients.values()]
        code, text = next(iter(e.recipients.values()))
        return DeliveryError(
            f"recipient refused: SMTP {code} {_reply_text(text)}",
            permanent=all(c >= 500 for c in codes),
        )
    if isinstance(e, smtplib.SMTPAuthenticationError):
        return DeliveryError(f"SMTP login failed: {e.smtp_code} {_reply_text(e.smtp_error)}", connection=True)
    if isinstance(e, smtplib.SMTPResponseException):
        code = e.smtp_code
        return DeliveryError(
            f"SMTP {code} {_reply_text(e.smtp_error)}",
            permanent=500 <= code < 600 and code not in _CONFIG_CODES,
            connection=isinstance(e, smtplib.SMTPConnectError),
        )
    if isinstance(e, smtplib.SMTPNotSupportedError):
        return DeliveryError(f"SMTP server does not support it: {_reply_text(str(e))}", connection=True)
    if isinstance(e, smtplib.SMTPServerDisconnected):
        return DeliveryError("SMTP server closed the connection", connection=True)
    if isinstance(e, ssl.SSLError):
        return DeliveryError(f"TLS error with the SMTP server ({type(e).__name__})", connection=True)
    if isinstance(e, TimeoutError):
        return DeliveryError("SMTP server timed out", connection=True)
    if isinstance(e, OSError):
        return DeliveryError(f"could not reach the SMTP server ({type(e).__name__})", connection=True)
    return DeliveryError(f"SMTP error ({type(e).__name__}: {_reply_text(str(e))})")


class SmtpTransport:
    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        mail_from: str,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.mail_from = mail_from
        self.username = username
        self._password = password
        self.starttls = starttls
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._conn: smtplib.SMTP | None = None

    def __repr__(self) -> str:  # never shows the password
        return f"SmtpTransport({self.host}:{self.port}, starttls={self.starttls}, user={bool(self.username)})"

    def _envelope_from(self) -> str:
        addrs = getaddresses([self.mail_from])
        return addrs[0][1] if addrs else ""

    def _connect(self) -> smtplib.SMTP:
        ctx = self.ssl_context or ssl.create_default_context()
        if self.port == 465:  # implicit TLS (SMTPS)
            conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ctx)
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            conn.ehlo()
            if self.starttls and self.port != 465:
                conn.starttls(context=ctx)  # raises when the server does not offer it
                conn.ehlo()
            if self.username:
                conn.login(self.username, self._password)
        except BaseException:
            _close(conn)
            raise
        return conn

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            _close(conn)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except Exception:
                _close(conn)

    def send(self, message: OutboxMessage) -> None:
        em = build_email(message, self.mail_from)
        try:
            if self._conn is None:
                self._conn = self._connect()
            self._conn.send_message(em, from_addr=self._envelope_from(), to_addrs=[message.to_address])
        except Exception as e:
            err = _from_smtp_exception(e)
            refused = isinstance(e, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused)
            if self._conn is not None and refused and not err.connection:
                # The server refused this message; the session goes on after RSET.
                try:
                    self._conn.rset()
                except Exception:
                    self._drop()
            else:
                self._drop()
            raise err from None


def _close(conn: smtplib.SMTP) -> None:
    try:
        conn.close()
    except Exception:  # noqa: S110 - closing a broken socket
        pass


class LogTransport:
    """No SMTP server: the mail stays in the outbox (the operator's development mailbox
    shows it) and the log says one was kept, by its number and kind: never its address,
    subject or body."""

    def __enter__(self) -> LogTransport:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def send(self, message: OutboxMessage) -> None:
        who = f"user {message.user_id}" if message.user_id else "a visitor"
        logger.info("mail %s (%s, for %s) kept on this machine: no SMTP server is set", message.id, message.kind, who)


def get_transport(settings=None) -> SmtpTransport | LogTransport:
    """The transport the settings ask for: SMTP when ``smtp_host`` is set, else none (the
    mail stays on this machine)."""
    if settings is None:
        from omnipostr.settings import get_settings

        settings = get_settings()
    if not settings.smtp_host:
        return LogTransport()
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
    return SmtpTransport(
        settings.smtp_host,
        settings.smtp_port,
        mail_from=settings.mail_from,
        username=settings.smtp_username,
        password=password,
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout_seconds,
    )


__all__ = [
    "DeliveryError",
    "LogTransport",
    "SmtpTransport",
    "Transport",
    "build_email",
    "get_transport",
    "new_message_id",
]
