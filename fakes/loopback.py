"""Run an ASGI app as a real HTTP server on loopback, in a background thread, for the fakes."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import Any

import uvicorn


class Drop(Exception):
    """Raised by a fake inside an answer to cut the connection, as a network failure would."""


class QuietDrops(logging.Filter):
    """Keeps the server log free of the connections a fake cuts on purpose (:class:`Drop`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, Drop):
                return False
            exc = exc.__cause__ or exc.__context__
        return True


class LoopbackServer:
    """Base of the fakes: ``start()``/``stop()``, a context manager, ``base_url``. Subclasses
    set ``host``/``port`` and give their app in ``_asgi_app()``; ``_log_filter`` quiets the
    server log for failures a fake causes on purpose."""

    thread_name = "fake-server"
    host: str
    port: int

    def _init_server(self) -> None:
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def _asgi_app(self) -> Any:
        raise NotImplementedError

    _log_filter: logging.Filter | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self):
        if self._thread is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        if self._log_filter is not None:
            logging.getLogger("uvicorn.error").addFilter(self._log_filter)
        config = uvicorn.Config(
            self._asgi_app(),
            log_level="warning",
            access_log=False,
            lifespan="off",
            interface="asgi3",
            loop="asyncio",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), name=self.thread_name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.thread_name} did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(5)
        if thread.is_alive():
            server.force_exit = True
            thread.join(5)
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
