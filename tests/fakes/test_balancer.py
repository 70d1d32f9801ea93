"""The stand-in load balancer relays bytes and nothing else (so what a test shows through it is
the app's)."""

from __future__ import annotations

import socket
import threading

from fakes.balancer import Balancer


def test_the_balancer_is_a_plain_relay():
    """The stand-in load balancer only relays bytes (so what the test above shows is the app's)."""
    with socket.create_server(("127.0.0.1", 0)) as echo:
        port = echo.getsockname()[1]

        def serve():
            conn, _ = echo.accept()
            with conn:
                conn.sendall(conn.recv(100).upper())

        threading.Thread(target=serve, daemon=True).start()
        balancer = Balancer([port])
        with socket.create_connection(("127.0.0.1", balancer.port), timeout=5) as c:
            c.sendall(b"hello")
            assert c.recv(100) == b"HELLO"
        assert balancer.connections[port] == 1
