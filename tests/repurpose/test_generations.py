"""Following a run from a page: updates are paced, but what a person waits for goes at once."""

from __future__ import annotations

import asyncio

from omnipostr.repurpose import generations, progress
from omnipostr.repurpose.progress import PlatformProgress, RunProgress
from tests.repurpose.helpers import member, request, start


async def test_a_posts_first_words_reach_the_page_at_once_other_changes_wait_their_turn(monkeypatch):
    monkeypatch.setattr(generations, "PUSH_INTERVAL", 5.0)  # a long pace: only an urgent change beats it
    ada = member()
    gen = start(ada, request(platforms=["x", "linkedin"]))
    bus = progress.bus()
    prog = RunProgress(gen.id, {p: PlatformProgress(p, status="streaming") for p in ("x", "linkedin")})

    async def publish() -> None:  # as another process does: a copy each time
        prog.touch()
        await bus.publish(RunProgress.from_bytes(prog.to_bytes()))

    async def still_member():
        return ada

    await publish()
    updates = generations.follow(ada, gen.id, still_member)
    first = await asyncio.wait_for(updates.__anext__(), 2)
    assert first.progress.platforms["x"].text == ""

    nxt = asyncio.ensure_future(updates.__anext__())
    prog.platforms["x"].note = "Claude is busy; trying again in a moment."
    await publish()
    done, _ = await asyncio.wait([nxt], timeout=0.5)
    assert not done  # a note is not worth an update before the pace allows

    prog.platforms["x"].text = "Four days"
    await publish()
    update = await asyncio.wait_for(nxt, 2)
    assert update.progress.platforms["x"].text == "Four days"

    prog.platforms["linkedin"].status = "failed"
    await publish()
    update = await asyncio.wait_for(updates.__anext__(), 2)  # a post's end goes at once too
    assert update.progress.platforms["linkedin"].status == "failed"
    await updates.aclose()
