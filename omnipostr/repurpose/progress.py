"""Live progress of generations, from the worker writing them to every page following them.

A run's progress (each platform's status and the text streamed so far) is published by the
worker and read by whichever process serves the page. One process (the embedded default)
keeps it in memory; several share it through Redis (``OMNIPOSTR_REDIS_URL``): the latest
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


class Bus(Protocol):
    async def publish(self, prog: RunProgress) -> None: ...

    async def get(self, generation_id: int) -> RunProgress | None: ...

    async def wait(self, generation_id: int, since_version: int, timeout: float) -> RunProgress | None:
        """The run's progress once it changed after ``since_version`` (or at the timeout)."""
        ...

    async def notify_work(self) -> None: ...

    async def wait_work(self, timeout: float) -> None: ...


class MemoryBus:
    """One process: the progress objects themselves, and events to wake who waits."""

    def __init__(self) -> None:
        self._runs: dict[int, tuple[RunProgress, float]] = {}
        self._changed: dict[int, asyncio.Event] = {}
        self._work = asyncio.Event()

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
        ev = self._changed.setdefault(generation_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ev.wait(), timeout)
        return await self.get(generation_id)

    async def notify_work(self) -> None:
        self._work.set()

    async def wait_work(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._work.wait(), timeout)
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
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), 2.0)

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
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ev.wait(), timeout)
        return await self.get(generation_id)

    async def notify_work(self) -> None:
        await self._redis.publish(WORK_CHANNEL, b"1")

    async def wait_work(self, timeout: float) -> None:
        await self._ensure_listener()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._work.wait(), timeout)
        self._work.clear()


_buses: dict[int, Bus] = {}


def bus() -> Bus:
    """This event loop's bus: Redis when configured, else memory."""
    loop = asyncio.get_running_loop()
    b = _buses.get(id(loop))
    if b is None:
        url = get_settings().redis_url
        b = RedisBus(url) if url else MemoryBus()
        _buses.clear()  # one loop at a time serves a process; a test's earlier loops are gone
        _buses[id(loop)] = b
    return b
