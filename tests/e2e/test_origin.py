"""The event WebSocket answers only the app's own pages: a handshake from another origin is
refused before it is upgraded (a page elsewhere cannot drive a visitor's session)."""

from __future__ import annotations

import base64
import os
import socket
from urllib.parse import urlsplit

import pytest


def handshake(app_url: str, origin: str) -> str:
    """The status line the server answers a WebSocket upgrade of the event endpoint with."""
    u = urlsplit(app_url)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n"
    )
    with socket.create_connection((u.hostname, u.port), timeout=10) as sock:
        sock.sendall(request.encode())
        return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]


@pytest.mark.promise("SEC-1")
def test_a_foreign_origin_cannot_open_the_event_websocket(live_app):
    assert " 101 " in handshake(live_app.url, live_app.url)
    for evil in ("https://evil.example", "http://localhost.evil.example", "null"):
        status = handshake(live_app.url, evil)
        assert " 101 " not in status, (evil, status)
