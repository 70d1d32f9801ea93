"""A generation worker: takes tasks from the queue and runs them, several at once.

Two ways to run one:

- embedded (the default of ``make run``): the app process starts a worker process of its own
  (and starts it again if it dies), with a pool of CPU processes (``cpu``), so the writing
  never slows the pages it serves; progress comes back over a local socket (``progress``);
- separate (the production shape): ``python -m omnipostr.repurpose.worker`` in as many
  processes as you like, beside web processes started with
  ``OMNIPOSTR_GENERATION_WORKER=off``; they share the database and Redis.

A worker wakes when work is queued (the progress bus carries the notice) and looks at the
queue every ``POLL_SECONDS`` anyway, which is also how it finds a task whose worker died.
Stopping cleanly hands its running tasks back at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time

from omnipostr import db
from omnipostr.repurpose import cpu, progress, queue, runner
from omnipostr.settings import get_settings

log = logging.getLogger("omnipostr.repurpose")

POLL_SECONDS = 1.0
EMBEDDED_NICE = 10


class Worker:
    def __init__(self, *, concurrency: int | None = None, lease_seconds: float | None = None) -> None:
        cfg = get_settings()
        self.owner = runner.worker_id()
        self.concurrency = max(1, concurrency or cfg.generation_concurrency)
        self.lease_seconds = lease_seconds or cfg.task_lease_seconds
        self.running: set[asyncio.Task] = set()
        self._freed = asyncio.Event()

    async def _claim(self) -> int | None:
        return await asyncio.to_thread(queue.claim, db.session, self.owner, self.lease_seconds)

    def _done(self, task: asyncio.Task) -> None:
        self.running.discard(task)
        self._freed.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("generation task failed", exc_info=task.exception())

    async def serve(self) -> None:
        bus = progress.bus()
        log.info("generation worker %s takes work (%s at once)", self.owner, self.concurrency)
        while True:
            try:
                while len(self.running) < self.concurrency and (task_id := await self._claim()) is not None:
                    t = asyncio.create_task(runner.run_task(task_id, self.owner), name=f"generation-task-{task_id}")
                    self.running.add(t)
                    t.add_done_callback(self._done)
            except Exception as e:  # the database is down: try again at the next look
                log.warning("generation worker could not read the queue (%s)", type(e).__name__)
            self._freed.clear()
            waits = [asyncio.ensure_future(bus.wait_work(POLL_SECONDS)), asyncio.ensure_future(self._freed.wait())]
            try:
                await asyncio.wait(waits, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()

    async def stop(self) -> None:
        for t in list(self.running):
            t.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)
        with contextlib.suppress(Exception):
            n = await db.run(queue.release, self.owner)
            if n:
                log.info("generation worker %s handed back %s task(s)", self.owner, n)


@contextlib.asynccontextmanager
async def web_cpu_lifespan():
    """Reflex lifespan task of every app process: one CPU process for what a page starts
    (reading a pasted text's title and word count), so no parsing runs where pages are served."""
    cpu.configure(1)
    warming = asyncio.create_task(cpu.warm())  # started now, not at the first click on Generate
    try:
        yield
    finally:
        warming.cancel()
        await asyncio.to_thread(cpu.shutdown)


@contextlib.asynccontextmanager
async def lifespan_task():
    """Reflex lifespan task: the embedded worker process, when ``generation_worker`` is
    ``embedded``."""
    cfg = get_settings()
    if cfg.generation_worker != "embedded":
        yield
        return
    bus = progress.bus()
    link = progress.ParentLink(bus) if isinstance(bus, progress.MemoryBus) else None
    env = {**os.environ, **(link.env() if link else {}), "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", "omnipostr.repurpose.worker", "--cpu-processes",
            str(cpu.processes_for(cfg.cpu_processes)), "--parent", str(os.getpid()),
            # beside the pages on the same cores: a click is answered before a post is written
            "--nice", str(EMBEDDED_NICE)]
    supervising = asyncio.create_task(_supervise(args, env), name="omnipostr-generation-worker")
    try:
        yield
    finally:
        supervising.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await supervising
        if link is not None:
            link.close()


async def _supervise(args: list[str], env: dict[str, str]) -> None:
    """Keep one worker process running; stop it (cleanly: it hands its tasks back) at the end."""
    delay = 1.0
    while True:
        proc = await asyncio.create_subprocess_exec(*args, env=env)
        started = time.monotonic()
        try:
            code = await proc.wait()
        except asyncio.CancelledError:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 20)
                except TimeoutError:
                    proc.kill()
            raise
        log.error("the generation worker process stopped (exit %s); starting it again", code)
        delay = 1.0 if time.monotonic() - started > 60 else min(delay * 2, 30.0)
        await asyncio.sleep(delay)


async def _orphaned(parent: int) -> None:
    """Return when the app process that started this worker is gone."""
    while os.getppid() == parent and _alive(parent):
        await asyncio.sleep(1.0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="An OmniPostr generation worker.")
    parser.add_argument("--concurrency", type=int, default=None, help="generations at once")
    parser.add_argument(
        "--cpu-processes", type=int, default=0,
        help="processes for CPU work (0: threads of this worker, which serves no page)",
    )
    parser.add_argument("--parent", type=int, default=0, help="stop when this process is gone (embedded)")
    parser.add_argument("--nice", type=int, default=0, help="lower this worker's CPU priority by this much")
    args = parser.parse_args(argv)
    if args.nice:  # its CPU processes inherit it
        os.nice(args.nice)
    from omnipostr import observe

    observe.configure_logging(get_settings())
    cpu.configure(cpu.processes_for(args.cpu_processes))
    await cpu.warm()
    worker = Worker(concurrency=args.concurrency)
    loop = asyncio.get_running_loop()
    serving = asyncio.create_task(worker.serve())
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, serving.cancel)
    if args.parent:
        asyncio.create_task(_orphaned(args.parent)).add_done_callback(lambda _: serving.cancel())
    print(f"generation worker {worker.owner} ready", flush=True)
    try:
        await serving
    except asyncio.CancelledError:
        pass
    finally:
        await worker.stop()
        cpu.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
