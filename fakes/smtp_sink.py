"""An SMTP server on loopback that keeps every message it receives (aiosmtpd).

    with SmtpSink() as sink:                  # listens on 127.0.0.1, a free port
        ...send to sink.host, sink.port...
        msg = sink.wait_for(lambda m: m["To"] == "ann@example.com")
        msg.get_body(("plain",)).get_content()

``messages`` holds parsed ``email.message.EmailMessage`` objects (``envelopes`` the matching
SMTP envelopes). Outage knobs: ``refuse_connections()`` stops listening (clients get
"connection refused") until ``accept_connections()``; ``fail_next(n, code=451)`` answers the
next ``n`` messages with a temporary (or, with a 5xx code, permanent) error. With
``auth={"user": "password"}`` it requires SMTP AUTH (PLAIN/LOGIN, allowed without TLS: this
is a test server).

Run it by hand for the development mailbox: ``python -m fakes.smtp_sink --port 8025``.
"""

from __future__ import annotations

import argparse
import dataclasses
import email
import email.policy
import threading
import time
import warnings
from collections.abc import Callable
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclasses.dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    authenticated_as: str | None
    received_at: float


class _Controller(Controller):
    """Listens on the given port, or on a free one when it is 0."""

    def factory(self):
        # AUTH without TLS is what a loopback test server wants; aiosmtpd warns about it.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
            return super().factory()

    def _trigger_server(self):
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        return super()._trigger_server()


class SmtpSink:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        auth: dict[str, str] | None = None,
        on_message: Callable[[EmailMessage, Envelope], None] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.auth = dict(auth) if auth else None
        self.on_message = on_message
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []
        self.rejected = 0
        """Messages answered with an error by ``fail_next``."""
        self._fail_left = 0
        self._fail_reply = ""
        self._cond = threading.Condition()
        self._controller: _Controller | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def _make_controller(self) -> _Controller:
        kwargs: dict = {}
        if self.auth is not None:
            kwargs.update(
                auth_required=True,
                auth_require_tls=False,
                authenticator=self._authenticate,
            )
        return _Controller(self, hostname=self.host, port=self.port, server_hostname="sink.local", **kwargs)

    def start(self) -> SmtpSink:
        if self._controller is None:
            self._controller = self._make_controller()
            self._controller.start()
            self.port = self._controller.port
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def listening(self) -> bool:
        return self._controller is not None

    # --- outage knobs --------------------------------------------------------------------

    def refuse_connections(self) -> None:
        """Stop listening: connections are refused until :meth:`accept_connections`."""
        self.stop()

    def accept_connections(self) -> None:
        """Listen again, on the same port."""
        self.start()

    def fail_next(self, n: int, code: int = 451, text: str | None = None) -> None:
        """Answer the next ``n`` messages (at DATA) with ``code``."""
        default = "4.3.0 Temporary failure, try again later" if code < 500 else "5.7.1 Message rejected"
        with self._cond:
            self._fail_left = n
            self._fail_reply = f"{code} {text or default}"

    # --- reading -------------------------------------------------------------------------

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()
            self.envelopes.clear()
            self.rejected = 0

    def to(self, address: str) -> list[EmailMessage]:
        """Messages whose envelope was addressed to ``address``."""
        a = address.lower()
        with self._cond:
            return [m for m, e in zip(self.messages, self.envelopes, strict=True) if a in (r.lower() for r in e.rcpt_tos)]

    def wait_for(
        self, predicate: Callable[[EmailMessage], bool] | None = None, timeout: float = 5.0
    ) -> EmailMessage:
        """The first message (already received or arriving within ``timeout`` seconds) for
        which ``predicate`` is true; ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m in self.messages:
                    if predicate is None or predicate(m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no matching message within {timeout} s ({len(self.messages)} received)")
                self._cond.wait(left)

    def wait_for_count(self, n: int, timeout: float = 5.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.messages)} of {n} messages within {timeout} s")
                self._cond.wait(left)
            return list(self.messages)

    # --- aiosmtpd handler hooks ----------------------------------------------------------

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and self.auth is not None:
            user = auth_data.login.decode("utf-8", "replace")
            if self.auth.get(user) == auth_data.password.decode("utf-8", "replace"):
                return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd hook
        with self._cond:
            if self._fail_left > 0:
                self._fail_left -= 1
                self.rejected += 1
                return self._fail_reply
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        env = Envelope(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            authenticated_as=session.auth_data if isinstance(session.auth_data, str) else None,
            received_at=time.time(),
        )
        with self._cond:
            self.messages.append(msg)  # type: ignore[arg-type]
            self.envelopes.append(env)
            self._cond.notify_all()
        if self.on_message is not None:
            self.on_message(msg, env)  # type: ignore[arg-type]
        return "250 OK"


def _print_message(msg: EmailMessage, env: Envelope) -> None:
    print(f"--- mail from {env.mail_from} to {', '.join(env.rcpt_tos)}")
    print(f"Subject: {msg['Subject']}")
    body = msg.get_body(("plain",))
    if body is not None:
        print(body.get_content().rstrip())
    print(flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A loopback SMTP sink that prints what it receives.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args(argv)
    sink = SmtpSink(args.host, args.port, on_message=_print_message)
    with sink:
        print(f"SMTP sink listening on {args.host}:{sink.port} (Ctrl-C stops)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
