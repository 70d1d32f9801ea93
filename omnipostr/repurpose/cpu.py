"""The CPU work of a generation, in processes of its own.

Parsing the source, the offline writer, validation and repair, and the faithfulness check
burn CPU; run in the process that serves pages, they would slow every other user's clicks
(Python runs one thread at a time). ``run`` sends them to a pool of worker processes when one
is configured (``configure``: the embedded default starts one process per core), else to a
thread (a dedicated generation worker process, which serves no page).

The functions below run in the pool. Each process remembers the last few sources it saw
(parsed, with their analysis and the facts the faithfulness check needs), so the platforms
of one generation share that work. Every call answers with the process id it ran in, which
``run`` adds to ``PIDS`` (set by the run): a generation records where its CPU work ran.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger("omnipostr.repurpose")

T = TypeVar("T")

PIDS: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar("omnipostr_cpu_pids", default=None)
"""Where the CPU work of the current run went (``run`` adds each call's process id)."""

_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_lock = threading.Lock()


def configure(processes: int) -> None:
    """Use ``processes`` worker processes from now on (0: threads of this process)."""
    global _pool, _pool_size
    with _lock:
        if _pool is not None and _pool_size == processes:
            return
        old, _pool, _pool_size = _pool, None, 0
        if processes > 0:
            _pool = _new_pool(processes)
            _pool_size = processes
    if old is not None:
        old.shutdown(wait=False, cancel_futures=True)


def _new_pool(processes: int) -> ProcessPoolExecutor:
    # spawned, not forked: this process runs threads and an event loop; each new process
    # primes itself before it takes work
    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"), initializer=_primed)


def shutdown() -> None:
    configure(0)


def _restart(broken: ProcessPoolExecutor) -> None:
    """Replace a pool one of whose processes died (unless another call already did)."""
    global _pool
    with _lock:
        if _pool is broken:
            _pool = _new_pool(_pool_size)
    broken.shutdown(wait=False, cancel_futures=True)


async def warm() -> None:
    """Start every pool process now (each primes itself as it starts), or prime this process
    when the work runs in its threads, so the first generation after a start waits for
    neither (about a second here: the parsers, the writer and the checks load on first use)."""
    if _pool is None:
        await asyncio.to_thread(_primed)
        return
    # Calls that each hold their process a moment, until every process has answered one: a
    # process answers only once it has primed, and one that is up takes no second call of a
    # round while another is still starting.
    seen: set[int] = set()
    deadline = time.monotonic() + 60
    while len(seen) < _pool_size and time.monotonic() < deadline:
        seen.update(await asyncio.gather(*(run(_pid_after, 0.05) for _ in range(_pool_size))))


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _call(fn: Callable[..., T], args: tuple) -> tuple[int, T]:
    return os.getpid(), fn(*args)


async def run(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in the pool (or a thread); its process id goes into ``PIDS``."""
    loop = asyncio.get_running_loop()
    pool = _pool
    if pool is None:
        pid, result = await asyncio.to_thread(_call, fn, args)
    else:
        try:
            pid, result = await loop.run_in_executor(pool, functools.partial(_call, fn, args))
        except BrokenExecutor:  # a process of the pool was killed: a new pool, and once more
            log.warning("a CPU process stopped; starting the pool again")
            _restart(pool)
            pid, result = await loop.run_in_executor(_pool, functools.partial(_call, fn, args))
    if (pids := PIDS.get()) is not None:
        pids.add(pid)
    return result


def processes_for(setting: int) -> int:
    """The pool size a setting asks for: -1 one per core, 0 none (threads)."""
    return max(1, os.cpu_count() or 1) if setting < 0 else setting


# --- run in the pool ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def source(title: str, text: str):
    """The engine's source for (title, text), parsed once per process."""
    from omnipostr.repurpose.engines.base import Source

    src = Source(title=title, text=text)
    _ = src.document
    return src


@functools.lru_cache(maxsize=8)
def facts(text: str):
    from omnipostr.repurpose import faithfulness

    return faithfulness.analyze_source(text)


PRIMER = """# Priming the work

A short text with a heading, a [link](https://example.com), 42 numbers and a list:

- one point, said plainly;
- another point, said in 2026.
"""


def prime() -> None:
    """Run each step once on a short text, so that what it needs is loaded before anyone
    waits on it."""
    from omnipostr.repurpose.engines.base import Options

    describe_request(PRIMER, len(PRIMER))
    finish_post("linkedin", offline_variant("Priming", PRIMER, "linkedin", Options()), {}, PRIMER, {})
    for fn in (source, facts):  # the sample must not take the place of a real source
        fn.cache_clear()


def _primed() -> None:
    try:
        prime()
    except Exception:  # a process that could not prime still works, only slower at first
        log.exception("could not prime a CPU process")


def describe_request(text: str, max_chars: int) -> tuple[str, int] | None:
    """A pasted text's own title (or its first sentence) and its word count, as the text
    will be stored; None when the text is refused (the caller says why)."""
    from omnipostr import sources
    from omnipostr.repurpose import service

    try:
        clean = sources.validate_text(text, max_chars=max_chars)
    except sources.ExtractError:
        return None
    return service.default_title(clean), sources.count_words(clean)


def parse(title: str, text: str):
    """The parsed document (for the Claude engine's prompt, built where the request is sent)."""
    return source(title, text).document


def offline_variant(title: str, text: str, platform: str, options):
    from omnipostr.repurpose.engines.offline import build_variant

    return build_variant(source(title, text), platform, options)


def validate(platform: str, post, settings: dict):
    from omnipostr.repurpose import platforms

    return platforms.validate(platform, post, settings)


def finish_post(platform: str, post, settings: dict, text: str, options: dict):
    """Validate, repair, check and advise: (ok, the post, tips, faithfulness flags, repaired)."""
    from omnipostr.repurpose import platforms, service

    repaired = False
    post = dataclasses.replace(post, posts=platforms.bare(platform, post.posts))  # numbers are drawn
    if platforms.validate(platform, post, settings):
        post = platforms.repair(platform, post, settings)
        repaired = True
    remaining, flags = service.check_post(post, facts(text), options)
    advice = platforms.advise(platform, post, settings)
    if remaining:  # repair must always produce a valid variant; report rather than show it broken
        log.error("repair left problems on %s: %s", platform, [p.code for p in remaining])
        return False, None, service.problems_as_dicts(advice, "tip"), flags, repaired
    return True, post, service.problems_as_dicts(advice, "tip"), flags, repaired
