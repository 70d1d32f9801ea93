"""Runs a generation task: one coroutine per platform in parallel, streaming, validated, stored.

A generation worker (``worker``) takes a task from the queue (``queue``) and calls
``run_task``. While it runs, its progress (the streamed text of every platform) is published
on the progress bus (``progress``) for every page that follows it, in this process or
another. What is finished goes to the database at once, in a transaction that first checks
this worker still holds the task's lease: a worker that took the task over after this one
stopped writes only what is left, and nothing is stored twice.

The CPU work (the offline writer, validation and repair, the faithfulness check, parsing)
runs through ``cpu``, in processes that serve no page; this coroutine only awaits.

For each platform: the engine streams a variant; the platform's validator checks it; a
variant that breaks a rule is asked for again once with the problems (Claude), then repaired
deterministically (split or trimmed at a sentence boundary) — never stored broken; the
faithfulness check flags claims the source does not contain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field, replace

from sqlmodel import Session, col, select

from omnipostr import clock, db
from omnipostr.accounts.models import User
from omnipostr.library import service as library
from omnipostr.repurpose import cpu, engines, progress, queue, service
from omnipostr.repurpose.engines.base import Delta, Done, Engine, Failed, Options, Retry, Usage
from omnipostr.repurpose.engines.base import Source as EngineSource
from omnipostr.repurpose.engines.prompting import render
from omnipostr.repurpose.models import Generation, GenerationTask, Source, Variant, VariantRevision
from omnipostr.repurpose.progress import PlatformProgress, RunProgress
from omnipostr.repurpose.variant import Variant as Post
from omnipostr.settings import get_settings
from omnipostr.usage import service as usage

log = logging.getLogger("omnipostr.repurpose")

# Platforms start longest answer first: the first request of a source primes Claude's prompt
# cache and the others wait until its answer begins, so the longest one should not wait. A
# Shorts answer is three parts (a title, a description and a timed script) and measured the
# longest, then the newsletter and the TikTok script.
_START_ORDER = {
    p: i
    for i, p in enumerate(
        ["youtube_shorts", "newsletter", "tiktok", "linkedin", "x", "threads", "bluesky", "facebook", "instagram", "mastodon"]
    )
}
PUBLISH_EVERY = 0.05  # seconds between two publications of a run's progress
RESUMED = "A worker stopped while writing this; another one is finishing the remaining platforms."
GAVE_UP = "This generation stopped its workers {n} times, so it was stopped. Finished posts are kept; retry the rest."


def worker_id() -> str:
    """A name unique to one worker: host, process id and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


# --- database steps (run in a thread) ---------------------------------------------------------


@dataclass
class Job:
    task_id: int
    owner: str
    generation_id: int
    workspace_id: int
    user_id: int | None
    kind: str
    source: EngineSource
    options: Options
    options_dict: dict
    todo: list[tuple[int, str]]  # (variant id, platform) still to write
    stored: list[tuple[int, str]]  # written by an earlier worker of this task
    feedback: dict[int, str]
    resumed: bool = False
    takes: dict[int, int] = field(default_factory=dict)  # variant id -> Options.variation
    previous: dict[int, str] = field(default_factory=dict)  # variant id -> its post as it is now
    pids: set[int] = field(default_factory=set)  # where the CPU work ran


def _takes(s: Session, variant_ids: list[int]) -> tuple[dict[int, int], dict[int, str]]:
    """For "Regenerate": which take each post is on now (1 after its first regeneration),
    and each post's current text, for the next take to be written against."""
    rows = s.exec(
        select(VariantRevision.variant_id).where(
            col(VariantRevision.variant_id).in_(variant_ids), VariantRevision.kind == "regenerate"
        )
    ).all()
    previous: dict[int, str] = {}
    for v in s.exec(select(Variant).where(col(Variant.id).in_(variant_ids))).all():
        post = service.post_of(v)
        if post is not None:
            previous[v.id] = render(post)
    return {vid: rows.count(vid) + 1 for vid in variant_ids}, previous


def _fail_task(s: Session, task: GenerationTask, gen: Generation | None, error: str) -> None:
    task.status = "done"
    task.finished_at = clock.now()
    s.add(task)
    if gen is not None:
        gen.status = "failed"
        gen.error = error
        gen.finished_at = task.finished_at
        s.add(gen)
        service.refund_failed(s, gen)


def _claim(s: Session, task_id: int, owner: str) -> Job | None:
    """What a task held by ``owner`` has to do; None when there is nothing (or it may not run)."""
    task = queue.held(s, task_id, owner)
    if task is None:
        return None
    gen = s.get(Generation, task.generation_id)
    if gen is None:  # deleted while it waited
        _fail_task(s, task, None, "")
        return None
    q = select(Variant).where(Variant.generation_id == gen.id)
    if task.variant_ids:
        q = q.where(col(Variant.id).in_(task.variant_ids))
    elif task.claims == 1:
        q = q.where(col(Variant.status).in_(("queued", "failed", "streaming")))
    else:  # taken over: what the first worker left (it may have stored some already)
        q = q.where(col(Variant.status).in_(("queued", "failed", "streaming")) | col(Variant.id).in_(task.stored))
    rows = sorted(s.exec(q).all(), key=lambda v: (_START_ORDER.get(v.platform, 99), v.id))
    stored = [(v.id, v.platform) for v in rows if v.id in task.stored]
    rows = [v for v in rows if v.id not in task.stored]
    if task.claims > queue.MAX_CLAIMS:
        log.error("generation %s stopped after %s claims", gen.id, task.claims - 1)
        _give_up(s, task, gen, rows, GAVE_UP.format(n=task.claims - 1))
        return None
    author = s.get(User, gen.created_by) if gen.created_by else None
    if author is not None and author.restrict_processing:  # AI-4: no AI call for their content
        _fail_task(s, task, gen, "Processing of this content is restricted by its author, so it was not sent to the AI.")
        return None
    src = s.get(Source, gen.source_id) if gen.source_id else None
    if src is None or src.text is None:
        _fail_task(s, task, gen, "The original text was deleted, so this generation cannot run.")
        return None
    now = clock.now()
    for v in rows:
        v.status = "streaming"
        v.error = ""
        s.add(v)
    gen.status = "running"
    gen.error = ""
    gen.started_at = gen.started_at or now
    gen.heartbeat_at = now
    gen.runner = owner[:200]
    s.add(gen)
    return Job(
        task_id=task.id,
        owner=owner,
        generation_id=gen.id,
        workspace_id=gen.workspace_id,
        user_id=gen.created_by,
        kind=task.kind,
        source=EngineSource(title=src.title, text=src.text),
        options=service.options_from_dict(gen.options),
        options_dict=dict(gen.options),
        todo=[(v.id, v.platform) for v in rows],
        stored=stored,
        feedback={int(k): v for k, v in (task.feedback or {}).items()},
        resumed=task.claims > 1,
    )


def _give_up(s: Session, task: GenerationTask, gen: Generation, rows: list[Variant], error: str) -> None:
    for v in rows:
        if v.status in ("queued", "streaming"):
            v.status = "done" if v.body else "failed"
            v.error = "" if v.body else error
            s.add(v)
    task.status = "done"
    task.finished_at = clock.now()
    s.add(task)
    done = s.exec(select(Variant).where(Variant.generation_id == gen.id, Variant.status == "done")).first()
    gen.status = "partial" if done else "failed"
    gen.error = error
    gen.finished_at = task.finished_at
    s.add(gen)
    s.flush()
    service.refund_failed(s, gen)
    library.reindex(s, gen.id)


def _renew(s: Session, job: Job, lease_seconds: float) -> bool:
    if not queue.renew(s, job.task_id, job.owner, lease_seconds):
        return False
    gen = s.get(Generation, job.generation_id)
    if gen is not None and gen.status == "running":
        gen.heartbeat_at = clock.now()
        s.add(gen)
    return True


@dataclass
class Outcome:
    variant_id: int
    platform: str
    ok: bool
    post: Post | None = None
    problems: list[dict] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)
    error: str = ""
    usage: Usage = field(default_factory=Usage)
    attempts: int = 0
    repaired: bool = False
    first_token_ms: int | None = None
    total_ms: int = 0
    revision_kind: str = "generated"


def _store(s: Session, job: Job, out: Outcome, model: str) -> bool:
    """Store one platform's outcome, if this worker still holds the task (False if not)."""
    task = queue.held(s, job.task_id, job.owner)
    if task is None:
        return False
    task.stored = [*task.stored, out.variant_id]
    task.cpu_pids = sorted(set(task.cpu_pids) | job.pids)
    s.add(task)
    v = s.get(Variant, out.variant_id)
    gen = s.get(Generation, job.generation_id)
    if v is None or gen is None:  # deleted while it ran
        return True
    v.attempts += out.attempts
    v.input_tokens += out.usage.input_tokens + out.usage.cache_creation_input_tokens + out.usage.cache_read_input_tokens
    v.output_tokens += out.usage.output_tokens
    v.cost_usd += out.usage.cost_usd
    gen.input_tokens += out.usage.input_tokens
    gen.output_tokens += out.usage.output_tokens
    gen.cache_write_tokens += out.usage.cache_creation_input_tokens
    gen.cache_read_tokens += out.usage.cache_read_input_tokens
    gen.cost_usd += out.usage.cost_usd
    timings = dict(gen.timings or {})
    timings[out.platform] = {"first_token_ms": out.first_token_ms, "total_ms": out.total_ms, "attempts": out.attempts}
    gen.timings = timings
    if model:
        gen.model = model
    if out.ok and out.post is not None:
        v.status = "done"
        v.error = ""
        v.problems = out.problems
        v.flags = out.flags
        v.repaired = out.repaired
        v.edited = False
        library.save_body(s, v, out.post, kind=out.revision_kind, author_id=None)
    else:
        # a failed regeneration keeps the post it had
        v.status = "done" if v.body else "failed"
        v.error = out.error
        usage.record(
            s, "platform.failed", workspace_id=job.workspace_id, user_id=job.user_id,
            generation_id=job.generation_id, platform=out.platform,
        )
    s.add(v)
    s.add(gen)
    return True


def _finish(s: Session, job: Job, crashed: str = "") -> str | None:
    """End the task and give the generation its final status (None: the task is no longer
    this worker's)."""
    task = queue.held(s, job.task_id, job.owner)
    if task is None:
        return None
    task.status = "done"
    task.finished_at = clock.now()
    task.cpu_pids = sorted(set(task.cpu_pids) | job.pids)
    s.add(task)
    gen = s.get(Generation, job.generation_id)
    if gen is None:
        return "deleted"
    rows = s.exec(select(Variant).where(Variant.generation_id == gen.id)).all()
    failed = [v for v in rows if v.status == "failed"]
    done = [v for v in rows if v.status == "done"]
    for v in rows:
        if v.status in ("queued", "streaming"):
            v.status = "failed"
            v.error = crashed or "This platform did not finish."
            s.add(v)
            failed.append(v)
    if not failed:
        gen.status = "done"
        gen.error = ""
    elif done:
        gen.status = "partial"
        gen.error = f"{len(failed)} of {len(rows)} platforms failed. Retry them when you are ready."
    else:
        gen.status = "failed"
        gen.error = crashed or (failed[0].error if failed else "Nothing was generated.")
    gen.finished_at = clock.now()
    gen.heartbeat_at = gen.finished_at
    s.add(gen)
    s.flush()
    service.refund_failed(s, gen)  # nothing written: the plan's unit goes back
    library.reindex(s, gen.id)
    usage.record(
        s, "generation.finished", workspace_id=job.workspace_id, user_id=job.user_id, generation_id=gen.id,
        status=gen.status, platforms=len(rows), failed=len(failed), input_tokens=gen.input_tokens,
        output_tokens=gen.output_tokens,
    )
    if gen.status != "done":
        usage.record(s, "error", workspace_id=job.workspace_id, user_id=job.user_id, generation_id=gen.id, where="generation", status=gen.status)
    return gen.status


# --- the run --------------------------------------------------------------------------------


def _feedback_text(problems: list) -> str:
    return "Fix these problems of your previous answer:\n" + "\n".join(f"- {p.message}" for p in problems)


async def _platform(
    engine: Engine, job: Job, variant_id: int, platform: str, prog: RunProgress, hurry: asyncio.Event
) -> Outcome:
    """Write one platform's post. ``hurry`` is set when its first words arrive: the page
    shows them at once rather than at the next regular publication."""
    pp = prog.platforms[platform]
    pp.status = "streaming"
    pp.text = ""
    pp.error = ""
    pp.note = ""
    prog.touch()
    out = Outcome(variant_id=variant_id, platform=platform, ok=False, revision_kind=job.kind)
    t0 = time.monotonic()
    feedback = job.feedback.get(variant_id)
    options = job.options
    if variant_id in job.takes:
        options = replace(options, variation=job.takes[variant_id], previous_take=job.previous.get(variant_id, ""))
    settings = dict(job.options.platform_settings)
    post: Post | None = None
    engine_passes = 2 if engine.name == "claude" else 1
    for attempt in range(1, engine_passes + 1):
        out.attempts += 1
        pp.text = ""
        result: Done | Failed | None = None
        try:
            async for ev in engine.stream(job.source, platform, options, feedback=feedback):
                if isinstance(ev, Delta):
                    if out.first_token_ms is None:
                        out.first_token_ms = int((time.monotonic() - t0) * 1000)
                        pp.first_token_ms = out.first_token_ms
                        hurry.set()
                    pp.text += ev.text
                    pp.note = ""
                    prog.touch()
                elif isinstance(ev, Retry):
                    pp.text = ""  # the answer streams again from its start
                    wait = f"{ev.wait_seconds:.0f} s" if ev.wait_seconds >= 1 else "a moment"
                    pp.note = f"{ev.reason} Trying again in {wait} (attempt {ev.attempt + 1})."
                    prog.touch()
                elif isinstance(ev, Done | Failed):
                    result = ev
        except Exception:  # an engine must not raise; if it does, the platform fails readably
            log.exception("engine error on %s", platform)
            result = Failed("Something went wrong while writing this post. Retry it.")
        if isinstance(result, Failed) or result is None:
            failed = result or Failed("The engine stopped without an answer. Retry it.")
            _add_usage(out.usage, failed.usage)
            if post is not None:  # the second pass failed: repair the first one instead
                break
            out.error = failed.reason
            out.total_ms = int((time.monotonic() - t0) * 1000)
            return out
        _add_usage(out.usage, result.usage)
        post = result.variant
        if attempt == engine_passes:
            break
        problems = await cpu.run(cpu.validate, platform, post, settings)
        if not problems:
            break
        feedback = (feedback + "\n\n" if feedback else "") + _feedback_text(problems)
        pp.note = "Fixing: " + problems[0].message
        prog.touch()
    assert post is not None
    finished = await cpu.run(
        cpu.finish_post, platform, post, settings, job.source.text, job.options_dict
    )
    out.ok, out.post, out.problems, out.flags, out.repaired = finished
    if not out.ok:
        out.error = "This post could not be made to fit the platform's rules. Retry it."
    out.total_ms = int((time.monotonic() - t0) * 1000)
    return out


def _add_usage(total: Usage, more: Usage) -> None:
    total.input_tokens += more.input_tokens
    total.output_tokens += more.output_tokens
    total.cache_creation_input_tokens += more.cache_creation_input_tokens
    total.cache_read_input_tokens += more.cache_read_input_tokens
    total.cost_usd += more.cost_usd


def queued_progress(generation_id: int, platforms: list[str]) -> RunProgress:
    """The progress a run starts from: every platform queued (published when work is queued,
    so a page that follows it never reads an earlier run's end)."""
    prog = RunProgress(generation_id, {p: PlatformProgress(p) for p in platforms})
    prog.touch()
    return prog


class LostLease(Exception):
    """Another worker took the task over (this one was too slow to renew its lease)."""


async def run_task(task_id: int, owner: str, *, engine: Engine | None = None) -> str | None:
    """Do the work of a task ``owner`` has taken. Returns the generation's final status
    (None when there was nothing to do, or the task was taken over)."""
    lease = get_settings().task_lease_seconds
    job = await db.run(_claim, task_id, owner)
    if job is None:
        return None
    cpu.PIDS.set(job.pids)  # every CPU call of this run (in this task's context) is recorded
    bus = progress.bus()
    prog = queued_progress(job.generation_id, [p for _, p in job.stored + job.todo])
    for _, pid in job.stored:
        prog.platforms[pid].status = "done"
    if job.resumed:
        prog.note = RESUMED
    await bus.publish(prog)
    if job.kind == "regenerate":
        job.takes, job.previous = await db.run(_takes, [vid for vid, _ in job.todo])
    if engine is None:
        try:
            engine = engines.get_engine()
        except ValueError as e:  # e.g. a Claude base URL content may not be sent to (AI-1)
            log.error("no engine: %s", e)
            status = await db.run(_finish, job, "The AI engine is misconfigured, so nothing was sent. An admin must fix its settings.")
            prog.finished = True
            prog.touch()
            await bus.publish(prog)
            return status
    if engine.name != "offline":
        # the document, parsed once in a CPU process, for every prompt of this generation
        job.source.__dict__["document"] = await cpu.run(cpu.parse, job.source.title, job.source.text)

    store_lock = asyncio.Lock()  # _store updates the generation's totals: one at a time
    hurry = asyncio.Event()  # a change a person waits for: publish it now

    async def one(variant_id: int, platform: str) -> None:
        out = await _platform(engine, job, variant_id, platform, prog, hurry)
        async with store_lock:
            if not await db.run(_store, job, out, getattr(engine, "model", "")):
                raise LostLease
        pp = prog.platforms[platform]
        pp.status = "done" if out.ok else "failed"
        pp.error = out.error
        pp.note = ""
        prog.touch()
        hurry.set()

    async def keep_lease() -> None:
        while True:
            await asyncio.sleep(lease / 3)
            try:
                held = await db.run(_renew, job, lease)
            except Exception as e:  # the database is away: try again; the lease may still hold
                log.warning("generation %s: could not renew its lease (%s)", job.generation_id, type(e).__name__)
                continue
            if not held:
                raise LostLease

    async def publish() -> None:
        sent = prog.version
        while True:
            await progress.until(hurry, PUBLISH_EVERY)
            hurry.clear()
            if prog.version != sent:
                sent = prog.version
                await bus.publish(prog)

    crashed = ""
    helpers = [asyncio.create_task(keep_lease()), asyncio.create_task(publish())]
    work = asyncio.gather(*(one(vid, pid) for vid, pid in job.todo))
    work.add_done_callback(lambda f: f.cancelled() or f.exception())  # read here or below, never lost
    try:
        done, _ = await asyncio.wait([work, helpers[0]], return_when=asyncio.FIRST_COMPLETED)
        if helpers[0] in done or isinstance(work.exception() if work.done() else None, LostLease):
            raise LostLease
        work.result()
    except LostLease:
        log.warning("generation %s: task %s was taken over; this worker stops writing it", job.generation_id, task_id)
        work.cancel()
        return None
    except Exception:
        log.exception("generation %s crashed", job.generation_id)
        crashed = "Something went wrong while generating. Finished posts are kept; retry the rest."
    finally:  # also when this worker is cancelled (stopping): nothing of the run goes on
        work.cancel()
        for h in helpers:
            h.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.gather(*helpers, return_exceptions=True)
    status = await db.run(_finish, job, crashed)
    if status is None:
        return None
    prog.finished = True
    prog.note = ""
    prog.touch()
    await bus.publish(prog)
    return status


async def run(
    generation_id: int,
    *,
    engine: Engine | None = None,
    variant_ids: list[int] | None = None,
    feedback: dict[int, str] | None = None,
    kind: str = "generated",
) -> str | None:
    """Queue a task for ``generation_id`` and do it here, now, as a worker would (scripts,
    benchmarks and tests; the app queues and lets its workers take it)."""

    def enqueue(s: Session) -> int:
        gen = s.get(Generation, generation_id)
        if gen is None:
            raise service.NotFound("generation")
        task = queue.enqueue(s, gen.id, gen.workspace_id, kind=kind, variant_ids=variant_ids, feedback=feedback)
        service.take_quota_again(s, gen)  # a retry of a generation that failed as a whole
        return task.id

    task_id = await db.run(enqueue)
    owner = worker_id()
    taken = await asyncio.to_thread(
        db.in_session, lambda s: queue.take(s, task_id, owner, get_settings().task_lease_seconds)
    )
    if not taken:
        return None
    # a task of its own, as a worker runs it (its context, where the run records its CPU pids)
    status = await asyncio.create_task(run_task(task_id, owner, engine=engine))
    if status is None:  # nothing ran: the generation says why
        status = await db.run(lambda s: s.get(Generation, generation_id).status)
    return status
