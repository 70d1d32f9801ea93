"""The flows of a generation: start one, run parts of it again, follow it while it runs.

Every rule of these flows lives here, not in the pages: which engine writes, whether the
author restricted processing (AI-4), whether the billing period's quota allows it, whether the
generation is the acting member's. Each function takes the acting member; ``follow`` also
asks, before every update it hands out, whether that member may still see the generation,
and ends at once when they may not (signed out, session revoked, removed from the
workspace). The work itself is ``runner``'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from omnipostr import db
from omnipostr.accounts.service import Actor
from omnipostr.library import service as library
from omnipostr.repurpose import cpu, engines, faithfulness, progress, queue, runner, service
from omnipostr.repurpose.models import Generation
from omnipostr.repurpose.service import ComposeError, NotFound
from omnipostr.settings import get_settings

MISCONFIGURED = "The AI engine is misconfigured, so nothing can be sent to it. Ask an admin to check its settings."
RESTRICTED = "Processing is restricted for your account, so nothing is sent to the AI."
PUSH_INTERVAL = 0.2  # at most five updates a second to a page


@dataclass
class Started:
    generation: Generation
    variant_ids: dict[str, int]  # platform -> variant id, in the generation's order


async def start(actor: Actor, req: service.ComposeRequest) -> Started:
    """Store the source and a generation for ``req`` and start writing it."""
    try:
        engine = engines.get_engine()
    except ValueError:
        raise ComposeError(MISCONFIGURED, "form") from None

    # the title and word count come from parsing the text: CPU work, done off this process
    described = await cpu.run(cpu.describe_request, req.text, get_settings().source_max_chars)

    def store(s):
        gen = service.start_generation(s, actor, req, engine=engine.name, model=engine.model, described=described)
        queue.enqueue(s, gen.id, gen.workspace_id)
        views = library.variant_views(s, actor, gen.id)
        return gen, {p: views[p].id for p in gen.platforms if p in views}

    gen, ids = await db.run(store)
    await _announce(gen.id, list(ids))
    return Started(gen, ids)


async def _announce(generation_id: int, platforms: list[str]) -> None:
    """Tell pages the run starts from scratch, and workers that there is work."""
    b = progress.bus()
    await b.publish(runner.queued_progress(generation_id, platforms))
    await b.notify_work()


async def relaunch(
    actor: Actor, generation_id: int, *, variant_ids: list[int] | None = None, kind: str = "generated"
) -> None:
    """Write again: the given posts (``regenerate``, ``rewrite``) or every failed one."""

    def check(s):
        if service.processing_restricted(s, actor):
            raise ComposeError(RESTRICTED, "restricted")
        library.get_generation(s, actor, generation_id)  # NotFound when not the actor's
        feedback: dict[int, str] = {}
        if kind == "rewrite":
            for vid in variant_ids or []:
                view = library.get_variant(s, actor, vid)
                if view.generation_id != generation_id:
                    raise NotFound("variant")
                flags = [faithfulness.Flag(kind=f["kind"], value=f["value"], message=f["message"]) for f in view.flags]
                if flags:
                    feedback[vid] = faithfulness.grounding_feedback(flags)
                library.record_feature(s, actor, "grounded_rewrite", platform=view.platform)
        elif variant_ids:
            for vid in variant_ids:
                if library.get_variant(s, actor, vid).generation_id != generation_id:
                    raise NotFound("variant")
        gen = s.get(Generation, generation_id)
        try:
            queue.enqueue(s, generation_id, gen.workspace_id, kind=kind, variant_ids=variant_ids, feedback=feedback)
        except queue.AlreadyRunning as e:
            raise ComposeError(str(e), "running") from None
        # a generation that failed as a whole gave its unit back: running it again takes one
        # (or is refused at the limit, and nothing is queued)
        service.take_quota_again(s, gen)
        views = library.variant_views(s, actor, generation_id)
        if variant_ids:
            return [v.platform for v in views.values() if v.id in variant_ids]
        return [v.platform for v in views.values() if v.status != "done"]

    platforms = await db.run(check)
    await _announce(generation_id, platforms)


# --- following a run ---------------------------------------------------------------------------


@dataclass
class Update:
    """What changed in a run: its live progress, and the posts that finished since the last
    update (read from the database, as stored)."""

    progress: progress.RunProgress
    finished: dict[str, library.VariantView] = field(default_factory=dict)


@dataclass
class Final:
    status: str
    error: str
    views: list[library.VariantView]


@dataclass
class Ended:
    """The member may no longer see this generation: show nothing more of it."""


WAIT = 2.0  # how long to wait for progress before asking the database whether the run lives


async def follow(
    actor: Actor, generation_id: int, member: Callable[[], Awaitable[Actor | None]]
) -> AsyncIterator[Update | Final | Ended]:
    """Updates of one of ``actor``'s runs until it finishes, then its final state.
    ``member`` answers whether the actor may still see the workspace's generations; it is
    asked before every update. A run whose worker died is followed through its takeover."""
    last = -1
    loaded: set[str] = set()
    try:
        await db.run(library.check_generation, actor, generation_id)
    except NotFound:
        yield Ended()
        return
    bus = progress.bus()
    actor = await member()
    while actor is not None:
        prog = await bus.wait(generation_id, last, WAIT)
        actor = await member()
        if actor is None:
            break
        if prog is None or prog.version == last:
            # nothing new: is the run still queued or running? (the database knows)
            if await db.run(_waiting, generation_id):
                continue
            break
        last = prog.version
        newly = [p for p, pp in prog.platforms.items() if pp.status in ("done", "failed") and p not in loaded]
        finished: dict[str, library.VariantView] = {}
        if newly:
            try:
                finished = await db.run(library.variant_views, actor, generation_id, newly)
            except NotFound:
                actor = None
                break
            loaded.update(newly)
        yield Update(prog, finished)
        if prog.finished:
            break
        await _pace(bus, prog)
    if actor is None:
        yield Ended()
        return

    def final(s):
        view = library.get_generation(s, actor, generation_id)
        return Final(view.generation.status, view.generation.error, view.variants)

    try:
        yield await db.run(final)
    except NotFound:
        yield Ended()


async def _pace(bus: progress.Bus, shown: progress.RunProgress) -> None:
    """At most one update per ``PUSH_INTERVAL``, except a change a person waits for (a post's
    first words, a post finished or failed, the run's end), which goes at once."""
    loop = asyncio.get_running_loop()
    until, seen = loop.time() + PUSH_INTERVAL, shown.version
    while (left := until - loop.time()) > 0:
        prog = await bus.wait(shown.generation_id, seen, left)
        if prog is None or prog.version == seen:
            continue
        if _urgent(shown, prog):
            return
        seen = prog.version


def _urgent(shown: progress.RunProgress, now: progress.RunProgress) -> bool:
    if now.finished:
        return True
    for p, pp in now.platforms.items():
        was = shown.platforms.get(p)
        if was is None or was.status != pp.status or (pp.text and not was.text):
            return True
    return False


def _waiting(s, generation_id: int) -> bool:
    return queue.active(s, generation_id) is not None


async def live(generation_id: int) -> progress.RunProgress | None:
    """The progress of a run that is not finished, if any process publishes one."""
    prog = await progress.bus().get(generation_id)
    return prog if prog is not None and not prog.finished else None
