"""Live progress of generations, from the worker writing them to every page following them.

A run's progress (each platform's status and the text streamed so far) is published by the
worker and read by whichever process serves the page. The embedded default keeps it in the
memory of the app process, and its worker process (a child of it) sends progress there over
an authenticated local socket (``ParentLink``/``ChildBus``); several processes share it
through Redis (``OMNIPOSTR_REDIS_URL``): the latest
progress of each run in a key, sealed with the content key (it holds the posts being
written) and expiring, and a notice on a channel at each change, so a page reloaded onto
another process keeps streaming. The same bus wakes generation workers when work is queued.

What is finished is never only here: a stored post is in the database, which stays the
truth; a page that finds no progress (a process restarted) reads the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Protocol

from omnipostr import crypto
from omnipostr.settings import get_settings

log = logging.getLogger("omnipostr.repurpose")

KEEP_SECONDS = 600  # a run's progress is forgotten this long after its last change
WORK_CHANNEL = "omnipostr:work"
_PREFIX = "omnipostr:progress:"


@dataclass
class PlatformProgress:
    platform: str
    status: str = "queued"  # queued | streaming | done | failed
    text: str = ""  # raw streamed text of the current attempt
    note: str = ""  # e.g. "Claude is busy; trying again in 2 s"
    error: str = ""
    first_token_ms: int | None = None


@dataclass
class RunProgress:
    generation_id: int
    platforms: dict[str, PlatformProgress] = field(default_factory=dict)
    finished: bool = False
    note: str = ""  # about the run, e.g. that it resumed after a worker stopped
    version: int = 0

    def touch(self) -> None:
        """Mark a change. Versions grow across workers: one that takes a run over starts
        above what its pages have seen."""
        self.version = max(self.version + 1, time.time_ns() // 1000)

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> RunProgress:
        d = json.loads(data)
        d["platforms"] = {k: PlatformProgress(**v) for k, v in d["platforms"].items()}
        return cls(**d)


async def until(event: asyncio.Event, timeout: float) -> None:
    """Wait for ``event``, at most ``timeout`` seconds."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)


class Bus(Protocol):
    async def publish(self, prog: RunProgress) -> None: ...

    async def get(self, generation_id: int) -> RunProgress | None: ...

    async def wait(self, generation_id: int, since_version: int, timeout: float) -> RunProgress | None:
        """The run's progress once it changed after ``since_version`` (or at the timeout)."""
        ...

    async def notify_work(self) -> None: ...

    async def wait_work(self, timeout: float) -> None: ...


class MemoryBus:
    """One process: the progress objects themselves, and events to wake who waits. Notices
    of work also go to the worker processes linked to it (``forward``)."""

    def __init__(self) -> None:
        self._runs: dict[int, tuple[RunProgress, float]] = {}
        self._changed: dict[int, asyncio.Event] = {}
        self._work = asyncio.Event()
        self.forward: list = []  # callables that pass a notice of work on to a worker process

    def _forget_old(self) -> None:
        limit = time.monotonic() - KEEP_SECONDS
        for gid in [g for g, (_, at) in self._runs.items() if at < limit]:
            del self._runs[gid]

    async def publish(self, prog: RunProgress) -> None:
        self._runs[prog.generation_id] = (prog, time.monotonic())
        if (ev := self._changed.pop(prog.generation_id, None)) is not None:
            ev.set()
        if len(self._runs) > 200:
            self._forget_old()

    async def get(self, generation_id: int) -> RunProgress | None:
        got = self._runs.get(generation_id)
        return got[0] if got else None

    async def wait(self, generation_id: int, since_version: int, timeout: float) -> RunProgress | None:
        prog = await self.get(generation_id)
        if prog is not None and prog.version != since_version:
            return prog
        await until(self._changed.setdefault(generation_id, asyncio.Event()), timeout)
        return await self.get(generation_id)

    async def notify_work(self) -> None:
        self._work.set()
        for send in list(self.forward):
            with contextlib.suppress(Exception):
                send()

    async def wait_work(self, timeout: float) -> None:
        await until(self._work, timeout)
        self._work.clear()


# --- the embedded worker process and its parent ------------------------------------------------

LINK_ADDRESS = "OMNIPOSTR_WORKER_LINK"  # environment of the child: the socket's path
LINK_KEY = "OMNIPOSTR_WORKER_LINK_KEY"  # and the key that authenticates it (hex)


class ParentLink:
    """In the app process: a local socket (in a private temporary folder, 0700, and
    authenticated with a random key) on which its worker process publishes progress into
    this process's ``MemoryBus``, and through which notices of work reach the worker."""

    def __init__(self, bus: MemoryBus) -> None:
        import os
        import secrets
        import tempfile
        from multiprocessing.connection import Listener

        self.bus = bus
        self.loop = asyncio.get_running_loop()
        self.key = secrets.token_bytes(32)
        self.folder = tempfile.mkdtemp(prefix="omnipostr-link-")  # 0700
        self.address = os.path.join(self.folder, "worker.sock")
        self.listener = Listener(self.address, family="AF_UNIX", authkey=self.key)
        self._closed = False
        import threading

        threading.Thread(target=self._accept, name="worker-link", daemon=True).start()

    def env(self) -> dict[str, str]:
        return {LINK_ADDRESS: self.address, LINK_KEY: self.key.hex()}

    def _accept(self) -> None:
        import threading

        while not self._closed:
            try:
                conn = self.listener.accept()
            except Exception:  # a client that failed the key, or the listener closed
                if self._closed:
                    return
                continue
            threading.Thread(target=self._read, args=(conn,), name="worker-link-reader", daemon=True).start()

    def _read(self, conn) -> None:
        import threading

        lock = threading.Lock()

        def send() -> None:
            with lock:
                conn.send(("work",))

        self.bus.forward.append(send)
        try:
            while True:
                msg = conn.recv()
                if msg[0] == "progress":
                    prog = RunProgress.from_bytes(msg[1])
                    asyncio.run_coroutine_threadsafe(self.bus.publish(prog), self.loop)
                elif msg[0] == "work":
                    self.loop.call_soon_threadsafe(self.bus._work.set)
        except (EOFError, OSError):
            pass
        finally:
            with contextlib.suppress(ValueError):
                self.bus.forward.remove(send)
            conn.close()

    def close(self) -> None:
        import shutil

        self._closed = True
        with contextlib.suppress(Exception):
            self.listener.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class ChildBus:
    """In the embedded worker process: progress goes to the app process over the link."""

    def __init__(self, address: str, key: bytes) -> None:
        import threading
        from multiprocessing.connection import Client

        self.conn = Client(address, family="AF_UNIX", authkey=key)
        self.loop = asyncio.get_running_loop()
        self._work = asyncio.Event()
        self._lock = threading.Lock()
        threading.Thread(target=self._read, name="worker-link-reader", daemon=True).start()

    def _read(self) -> None:
        try:
            while True:
                if self.conn.recv()[0] == "work":
                    self.loop.call_soon_threadsafe(self._work.set)
        except (EOFError, OSError):
            self.loop.call_soon_threadsafe(self._work.set)

    def _send(self, msg: tuple) -> None:
        with self._lock:
            self.conn.send(msg)

    async def publish(self, prog: RunProgress) -> None:
        self._send(("progress", prog.to_bytes()))

    async def get(self, generation_id: int) -> RunProgress | None:
        return None  # progress is kept by the app process, which serves the pages

    async def wait(self, generation_id: int, since_version: int, timeout: float) -> RunProgress | None:
        await asyncio.sleep(timeout)  # pages are not followed from a worker process
        return None

    async def notify_work(self) -> None:
        self._send(("work",))

    async def wait_work(self, timeout: float) -> None:
        await until(self._work, timeout)
        self._work.clear()


class RedisBus:
    """Several processes: the sealed progress in a key, a notice on a channel. One listener
    per process hands notices to the runs its pages wait for."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(url)
        self._changed: dict[int, asyncio.Event] = {}
        self._work = asyncio.Event()
        self._listener: asyncio.Task | None = None
        self._listening = asyncio.Event()

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.psubscribe(_PREFIX + "*")
                await pubsub.subscribe(WORK_CHANNEL)
                self._listening.set()
                async for msg in pubsub.listen():
                    if msg["type"] == "message":
                        self._work.set()
                    elif msg["type"] == "pmessage":
                        gid = int(msg["channel"].decode().removeprefix(_PREFIX))
                        if (ev := self._changed.pop(gid, None)) is not None:
                            ev.set()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # Redis restarted: listen again; waiters fall back to timeouts
                log.warning("progress listener lost Redis (%s); reconnecting", type(e).__name__)
                self._listening.clear()
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _ensure_listener(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="omnipostr-progress-listener")
        await until(self._listening, 2.0)

    async def publish(self, prog: RunProgress) -> None:
        key = _PREFIX + str(prog.generation_id)
        async with self._redis.pipeline(transaction=False) as p:
            p.set(key, crypto.seal(prog.to_bytes()), ex=KEEP_SECONDS)
            p.publish(key, str(prog.version))
            await p.execute()

    async def get(self, generation_id: int) -> RunProgress | None:
        data = await self._redis.get(_PREFIX + str(generation_id))
        return RunProgress.from_bytes(crypto.unseal(data)) if data else None

    async def wait(self, generation_id: int, since_version: int, timeout: float) -> RunProgress | None:
        await self._ensure_listener()
        ev = self._changed.setdefault(generation_id, asyncio.Event())
        prog = await self.get(generation_id)  # after subscribing, so no change is missed
        if prog is not None and prog.version != since_version:
            return prog
        await until(ev, timeout)
        return await self.get(generation_id)

    async def notify_work(self) -> None:
        await self._redis.publish(WORK_CHANNEL, b"1")

    async def wait_work(self, timeout: float) -> None:
        await self._ensure_listener()
        await until(self._work, timeout)
        self._work.clear()


_buses: dict[int, Bus] = {}


def bus() -> Bus:
    """This event loop's bus: Redis when configured; in an embedded worker process, the link
    to its app process; else memory."""
    import os

    loop = asyncio.get_running_loop()
    b = _buses.get(id(loop))
    if b is None:
        url = get_settings().redis_url
        if url:
            b = RedisBus(url)
        elif os.environ.get(LINK_ADDRESS):
            b = ChildBus(os.environ[LINK_ADDRESS], bytes.fromhex(os.environ.get(LINK_KEY, "")))
        else:
            b = MemoryBus()
        _buses.clear()  # one loop at a time serves a process; a test's earlier loops are gone
        _buses[id(loop)] = b
    return b
