"""The CPU processes of a generation: a process that dies is replaced, and the work goes on."""

from __future__ import annotations

import asyncio
import os
import signal

from omnipostr.repurpose import cpu


async def test_a_killed_cpu_process_is_replaced_and_the_call_runs_again():
    cpu.configure(1)
    try:
        pids: set[int] = set()
        cpu.PIDS.set(pids)
        first = await cpu.run(os.getpid)
        assert first != os.getpid()
        os.kill(first, signal.SIGKILL)
        await asyncio.sleep(0.5)
        second = await cpu.run(os.getpid)
        assert second not in (first, os.getpid())
        assert pids == {first, second}  # the run records where its work went
    finally:
        cpu.configure(0)


def _loaded(_: int) -> tuple[int, bool, int]:
    """In a pool process, after a moment (so that every process takes one call): its id,
    whether the parsers, the writer and the checks are already loaded there, and how many
    sources it remembers."""
    import sys
    import time

    loaded = all(m in sys.modules for m in (
        "omnipostr.sources.markdown", "omnipostr.repurpose.engines.offline", "omnipostr.repurpose.faithfulness",
    ))
    time.sleep(0.3)
    return os.getpid(), loaded, cpu.source.cache_info().currsize + cpu.facts.cache_info().currsize


async def test_every_cpu_process_is_primed_before_it_takes_work_and_remembers_no_sample():
    cpu.configure(2)
    try:
        await cpu.warm()
        answers = await asyncio.gather(*(cpu.run(_loaded, i) for i in range(2)))
        assert len({pid for pid, _, _ in answers}) == 2
        assert all(loaded for _, loaded, _ in answers)  # loaded at the start, not at the first source
        assert [remembered for _, _, remembered in answers] == [0, 0]  # the sample is forgotten
    finally:
        cpu.configure(0)
