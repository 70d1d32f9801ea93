"""A stand-in load balancer on loopback: one address in front of several web processes.

Each TCP connection (a page load, an event WebSocket) is relayed byte for byte to one of the
``targets``: in turn (``round_robin``), or to the one a test chose (``target``). It runs in a
thread of its own, so synchronous tests and benchmarks can use it.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Balancer:
    def __init__(self, targets: list[int], *, round_robin: bool = False) -> None:
        self.port = _free_port()
        self.targets = list(targets)
        self.target = self.targets[0]
        self.round_robin = round_robin
        self._turn = itertools.cycle(self.targets)
        self.connections: dict[int, int] = dict.fromkeys(self.targets, 0)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        threading.Thread(target=self._run, name="balancer", daemon=True).start()
        if not self._ready.wait(10):
            raise RuntimeError("the balancer did not start")

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self._ready.set()
        async with server:
            await server.serve_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = next(self._turn) if self.round_robin else self.target
        self.connections[port] += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
