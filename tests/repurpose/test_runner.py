"""The generation runner with the offline engine (the embedded default): every platform is
generated in parallel, validated and stored; failures, retries and interruptions."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

import pytest
from sqlmodel import col, select

from omnipostr import clock, db
from omnipostr.billing.models import UsagePeriod
from omnipostr.library import service as library
from omnipostr.repurpose import cpu, platforms, progress, queue, runner, worker
from omnipostr.repurpose.engines.offline import OfflineEngine
from omnipostr.repurpose.models import (
    Generation,
    GenerationTask,
    Source,
    Variant,
    VariantRevision,
)
from omnipostr.usage.models import UsageEvent
from tests.repurpose.helpers import member, request, start

ALL = list(platforms.PLATFORMS)


def variants(gen_id: int) -> list[Variant]:
    with db.session() as s:
        return list(s.exec(select(Variant).where(Variant.generation_id == gen_id)).all())


def generation(gen_id: int) -> Generation:
    with db.session() as s:
        return s.get(Generation, gen_id)


@pytest.mark.promise("AI-2", "AI-3", "SVC-2")
async def test_every_platform_is_generated_valid_and_stored():
    ada = member()
    gen = start(ada, request(platforms=ALL))
    status = await runner.run(gen.id, engine=OfflineEngine())
    assert status == "done"
    view = db.in_session(library.get_generation, ada, gen.id)
    assert [v.platform for v in view.variants] == ALL
    for v in view.variants:
        assert v.status == "done", (v.platform, v.error)
        assert platforms.validate(v.platform, v.post) == [], v.platform
        assert v.flags == [], (v.platform, v.flags)  # the offline engine only uses the source's words
    g = generation(gen.id)
    assert g.finished_at is not None and set(g.timings) == set(ALL)
    with db.session() as s:
        kinds = {r.kind for r in s.exec(select(VariantRevision)).all()}
    assert kinds == {"generated"}


@pytest.mark.promise("USE-1")
async def test_a_finished_generation_records_usage():
    ada = member(analytics=True)
    gen = start(ada)
    await runner.run(gen.id, engine=OfflineEngine())
    with db.session() as s:
        kinds = [e.kind for e in s.exec(select(UsageEvent).where(UsageEvent.user_id == ada.user_id)).all()]
    assert "generation.created" in kinds and "generation.finished" in kinds


async def test_progress_is_published_while_running_and_after():
    ada = member()
    gen = start(ada, request(platforms=["x", "linkedin"]))
    bus = progress.bus()
    seen: list[progress.RunProgress] = []

    async def follow():
        version = -1
        while True:
            prog = await bus.wait(gen.id, version, 1.0)
            if prog is not None and prog.version != version:
                version = prog.version
                seen.append(progress.RunProgress.from_bytes(prog.to_bytes()))
                if prog.finished:
                    return

    follower = asyncio.create_task(follow())
    await runner.run(gen.id, engine=OfflineEngine(delay=0.02, chunk_chars=8))
    await asyncio.wait_for(follower, 5)
    assert not seen[0].finished and seen[-1].finished
    assert any(p.status == "streaming" and p.text for s in seen for p in s.platforms.values())
    assert {p.status for p in seen[-1].platforms.values()} == {"done"}
    assert all(p.text for p in seen[-1].platforms.values())  # the text streamed in


async def test_regenerating_one_platform_keeps_the_others_and_adds_a_revision():
    ada = member()
    gen = start(ada, request(platforms=["x", "linkedin"]))
    await runner.run(gen.id, engine=OfflineEngine())
    x = next(v for v in variants(gen.id) if v.platform == "x")
    li = next(v for v in variants(gen.id) if v.platform == "linkedin")
    await runner.run(gen.id, engine=OfflineEngine(), variant_ids=[x.id], kind="regenerate")
    x2 = next(v for v in variants(gen.id) if v.platform == "x")
    li2 = next(v for v in variants(gen.id) if v.platform == "linkedin")
    assert x2.version == x.version + 1 and li2.version == li.version
    with db.session() as s:
        revs = s.exec(select(VariantRevision).where(VariantRevision.variant_id == x.id)).all()
    assert sorted(r.kind for r in revs) == ["generated", "regenerate"]
    # each regeneration is another take, even from the deterministic offline engine
    await runner.run(gen.id, engine=OfflineEngine(), variant_ids=[x.id], kind="regenerate")
    x3 = next(v for v in variants(gen.id) if v.platform == "x")
    assert len({x.body, x2.body, x3.body}) == 3


async def test_a_deleted_original_cannot_be_generated_again_and_says_so():
    ada = member()
    gen = start(ada)
    await runner.run(gen.id, engine=OfflineEngine())
    db.in_session(library.delete_source_text, ada, gen.id)
    assert await runner.run(gen.id, engine=OfflineEngine()) == "failed"
    assert "deleted" in generation(gen.id).error
    with db.session() as s:
        assert s.exec(select(Source)).one().text is None
    assert all(v.status == "done" for v in variants(gen.id))  # the posts are kept


class HangsOn(OfflineEngine):
    """The offline engine, except that one platform never finishes (its worker will die)."""

    def __init__(self, platform: str) -> None:
        super().__init__()
        self.platform = platform

    async def stream(self, source, platform, options, *, feedback=None):
        if platform == self.platform:
            await asyncio.Event().wait()
        async for ev in super().stream(source, platform, options, feedback=feedback):
            yield ev


def task_of(gen_id: int) -> GenerationTask:
    with db.session() as s:
        return s.exec(select(GenerationTask).where(GenerationTask.generation_id == gen_id)).one()


def revisions(gen_id: int) -> list[VariantRevision]:
    ids = [v.id for v in variants(gen_id)]
    with db.session() as s:
        return list(s.exec(select(VariantRevision).where(col(VariantRevision.variant_id).in_(ids))).all())


async def test_a_task_whose_worker_died_is_taken_over_and_every_platform_is_written_once():
    ada = member(analytics=True)
    gen = start(ada, request(platforms=["x", "bluesky", "linkedin"]))
    lease = 10.0
    with db.session() as s:
        task_id = queue.enqueue(s, gen.id, gen.workspace_id).id
    assert await asyncio.to_thread(queue.claim, db.session, "worker-a", lease) == task_id
    dying = asyncio.create_task(runner.run_task(task_id, "worker-a", engine=HangsOn("bluesky")))
    for _ in range(200):  # until worker A has stored what it could
        await asyncio.sleep(0.05)
        if len(task_of(gen.id).stored) == 2:
            break
    assert len(task_of(gen.id).stored) == 2
    dying.cancel()  # worker A dies: no clean stop, its lease stays until it runs out
    await asyncio.gather(dying, return_exceptions=True)
    assert generation(gen.id).status == "running"
    assert await asyncio.to_thread(queue.claim, db.session, "worker-b", lease) is None  # A's lease holds

    clock.advance(timedelta(seconds=lease + 1))
    assert await asyncio.to_thread(queue.claim, db.session, "worker-b", lease) == task_id
    assert await runner.run_task(task_id, "worker-b", engine=OfflineEngine()) == "done"

    task = task_of(gen.id)
    assert task.status == "done" and task.claims == 2 and sorted(task.stored) == sorted(v.id for v in variants(gen.id))
    assert {v.status for v in variants(gen.id)} == {"done"}
    assert sorted(r.kind for r in revisions(gen.id)) == ["generated"] * 3  # no post written twice
    with db.session() as s:
        assert s.exec(select(UsagePeriod)).one().generations == 1  # counted once
        kinds = [e.kind for e in s.exec(select(UsageEvent).where(UsageEvent.user_id == ada.user_id)).all()]
    assert kinds.count("generation.finished") == 1
    hits = db.in_session(library.list_generations, ada, query=variants(gen.id)[0].title.split()[0])
    assert [g.id for g in hits.items] == [gen.id]  # in search as soon as it is done


async def test_a_worker_that_lost_its_lease_stores_nothing():
    ada = member()
    gen = start(ada, request(platforms=["x"]))
    with db.session() as s:
        task_id = queue.enqueue(s, gen.id, gen.workspace_id).id
    assert await asyncio.to_thread(queue.claim, db.session, "worker-a", 10) == task_id
    job = db.in_session(runner._claim, task_id, "worker-a")
    clock.advance(timedelta(seconds=11))
    assert await asyncio.to_thread(queue.claim, db.session, "worker-b", 10) == task_id
    out = runner.Outcome(variant_id=job.todo[0][0], platform="x", ok=False, error="late")
    assert db.in_session(runner._store, job, out, "") is False
    assert db.in_session(runner._finish, job) is None
    assert not db.in_session(runner._renew, job, 10)
    assert variants(gen.id)[0].error == "" and task_of(gen.id).owner == "worker-b"


async def test_a_task_that_keeps_killing_its_workers_stops_and_says_so():
    ada = member()
    gen = start(ada, request(platforms=["x", "bluesky"]))
    with db.session() as s:
        task = queue.enqueue(s, gen.id, gen.workspace_id)
        task.claims = queue.MAX_CLAIMS
        s.add(task)
        task_id = task.id
    assert await asyncio.to_thread(queue.claim, db.session, "worker-z", 10) == task_id
    assert await runner.run_task(task_id, "worker-z", engine=OfflineEngine()) is None
    g = generation(gen.id)
    assert g.status == "failed" and "stopped its workers" in g.error
    assert task_of(gen.id).status == "done" and {v.status for v in variants(gen.id)} == {"failed"}
    assert await runner.run(gen.id, engine=OfflineEngine()) == "done"  # Retry works


async def test_the_worker_takes_queued_work_and_its_cpu_work_runs_in_other_processes():
    ada = member()
    gen = start(ada, request(platforms=["x", "newsletter", "tiktok"]))
    cpu.configure(1)
    try:
        w = worker.Worker(concurrency=2)
        serving = asyncio.create_task(w.serve())
        with db.session() as s:
            queue.enqueue(s, gen.id, gen.workspace_id)
        await progress.bus().notify_work()
        for _ in range(600):
            await asyncio.sleep(0.05)
            if generation(gen.id).status == "done":
                break
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await w.stop()
    finally:
        cpu.configure(0)
    assert generation(gen.id).status == "done"
    task = task_of(gen.id)
    assert task.owner == w.owner and task.cpu_pids and os.getpid() not in task.cpu_pids
