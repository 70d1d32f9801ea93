"""A generation worker: takes tasks from the queue and runs them, several at once.

Two ways to run one:

- embedded (the default of ``make run``): the app process runs a worker as a lifespan task,
  with a pool of CPU processes (``cpu``) so the writing never slows the pages it serves;
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
import signal

from omnipostr import db
from omnipostr.repurpose import cpu, progress, queue, runner
from omnipostr.settings import get_settings

log = logging.getLogger("omnipostr.repurpose")

POLL_SECONDS = 1.0


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
async def lifespan_task():
    """Reflex lifespan task: the embedded worker, when ``generation_worker`` is ``embedded``."""
    cfg = get_settings()
    if cfg.generation_worker != "embedded":
        yield
        return
    cpu.configure(cpu.processes_for(cfg.cpu_processes))
    worker = Worker()
    serving = asyncio.create_task(_serve_after_warming(worker), name="omnipostr-generation-worker")
    try:
        yield
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        await worker.stop()
        await asyncio.to_thread(cpu.shutdown)


async def _serve_after_warming(worker: Worker) -> None:
    try:
        await cpu.warm()
    except Exception:
        log.exception("the CPU processes did not start; generation work runs in threads")
        cpu.configure(0)
    await worker.serve()


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="An OmniPostr generation worker.")
    parser.add_argument("--concurrency", type=int, default=None, help="generations at once")
    parser.add_argument(
        "--cpu-processes", type=int, default=0,
        help="processes for CPU work (0: threads of this worker, which serves no page)",
    )
    args = parser.parse_args(argv)
    from omnipostr import observe

    observe.configure_logging(get_settings())
    cpu.configure(cpu.processes_for(args.cpu_processes))
    await cpu.warm()
    worker = Worker(concurrency=args.concurrency)
    loop = asyncio.get_running_loop()
    serving = asyncio.create_task(worker.serve())
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, serving.cancel)
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
