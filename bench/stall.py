"""How long the event loop stalls while a generation runs: ten platforms from a 12,000-word
source with the offline engine, through the real runner (parsing, the engine, validation,
repair and the faithfulness check) with the CPU processes of the embedded default, while a
probe on the same loop measures how late it wakes up. A stall is time during which no other
user's event could be handled.

    .venv/bin/python bench/stall.py

Figures (the output format is stable, so runs can be compared):
- source size, generation wall time;
- the longest event-loop stall and the 99th percentile of the probe's lateness (target: no
  stall over 50 ms).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
# the repurpose benchmark sets up a scratch data folder and database on import
from repurpose import actor  # noqa: E402

from omnipostr import db, migrate, sources  # noqa: E402
from omnipostr.repurpose import cpu, platforms, runner  # noqa: E402
from omnipostr.repurpose import service as compose  # noqa: E402
from omnipostr.repurpose.engines.offline import OfflineEngine  # noqa: E402
from tests.corpus import documents  # noqa: E402

TICK = 0.002


def long_source(words: int = 12_000) -> str:
    """About ``words`` words of real documents (the corpus, one after another)."""
    out, n = [], 0
    for doc in documents():
        if doc.language != "en":
            continue
        out.append(doc.text)
        n += sources.count_words(doc.text)
        if n >= words:
            break
    return "\n\n".join(out)


async def probe(stop: asyncio.Event, lateness: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(TICK)
        lateness.append(loop.time() - t - TICK)


async def main() -> None:
    migrate.upgrade()
    cpu.configure(cpu.processes_for(-1))  # as the embedded default starts them
    await cpu.warm()
    who = actor()
    text = long_source()
    plats = list(platforms.PLATFORMS)
    gen = db.in_session(
        compose.start_generation, who, compose.ComposeRequest(text=text, platforms=plats),
        engine="offline", model=OfflineEngine.model if hasattr(OfflineEngine, "model") else "",
    )
    stop = asyncio.Event()
    lateness: list[float] = []
    watcher = asyncio.create_task(probe(stop, lateness))
    await asyncio.sleep(0.05)
    t0 = time.perf_counter()
    status = await runner.run(gen.id, engine=OfflineEngine())
    wall = time.perf_counter() - t0
    stop.set()
    await watcher
    worst = max(lateness) * 1000
    p99 = statistics.quantiles(lateness, n=100)[98] * 1000 if len(lateness) >= 100 else worst
    print(f"OmniPostr event-loop stall benchmark (offline engine; {len(plats)} platforms)")
    print(f"source                           {sources.count_words(text):>7,} words")
    print(f"generation wall time             {wall:>7.2f} s   (status {status})")
    print(f"longest event-loop stall         {worst:>7.1f} ms  (target <= 50 ms)")
    print(f"probe lateness, 99th percentile  {p99:>7.1f} ms")
    cpu.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
