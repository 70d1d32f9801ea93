"""The generation runner with the offline engine (the embedded default): every platform is
generated in parallel, validated and stored; failures, retries and interruptions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from omnipostr import clock, db
from omnipostr.library import service as library
from omnipostr.repurpose import platforms, runner
from omnipostr.repurpose.engines.offline import OfflineEngine
from omnipostr.repurpose.models import Generation, Source, Variant, VariantRevision
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
    ada = member()
    gen = start(ada)
    await runner.run(gen.id, engine=OfflineEngine())
    with db.session() as s:
        kinds = [e.kind for e in s.exec(select(UsageEvent).where(UsageEvent.user_id == ada.user_id)).all()]
    assert "generation.created" in kinds and "generation.finished" in kinds


async def test_progress_is_visible_while_running_and_after():
    ada = member()
    gen = start(ada, request(platforms=["x", "linkedin"]))
    task = runner.launch(gen.id, engine=OfflineEngine())
    prog = runner.progress(gen.id)
    assert prog is not None and runner.is_running_here(gen.id)
    await task
    assert prog.finished and not runner.is_running_here(gen.id)
    assert {p.status for p in prog.platforms.values()} == {"done"}
    assert all(p.text for p in prog.platforms.values())  # the text streamed in


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


async def test_a_run_whose_process_died_is_marked_interrupted_and_can_be_retried():
    ada = member()
    gen = start(ada, request(platforms=["x", "bluesky"]))
    with db.session() as s:  # as a crashed process leaves it
        g = s.get(Generation, gen.id)
        g.status = "running"
        g.heartbeat_at = clock.now()
        s.add(g)
    clock.advance(runner.STALE_AFTER + timedelta(seconds=1))
    assert db.in_session(runner.recover_stale, None) == 1
    g = generation(gen.id)
    assert g.status == "interrupted" and "retry" in g.error.lower()
    assert {v.status for v in variants(gen.id)} == {"failed"}
    assert await runner.run(gen.id, engine=OfflineEngine()) == "done"


def test_a_fresh_run_is_not_taken_for_a_dead_one():
    ada = member()
    gen = start(ada)
    with db.session() as s:
        g = s.get(Generation, gen.id)
        g.status = "running"
        g.heartbeat_at = clock.now()
        s.add(g)
    assert db.in_session(runner.recover_stale, None) == 0
