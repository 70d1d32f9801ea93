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
