"""Runs a generation: one task per platform in parallel, streaming, validated, stored.

``run(generation_id)`` is a coroutine the app starts as its own asyncio task (``launch``), so
it lives on when the page that started it reloads or closes. While it runs, its progress is
kept in memory (``progress(generation_id)``): the streamed text of every platform, for the
composer to show as it arrives. What is finished goes to the database at once, so a reload
finds the true state, and a generation whose process died is marked interrupted and can be
retried (``recover_stale``).

For each platform: the engine streams a variant; the platform's validator checks it; a
variant that breaks a rule is asked for again once with the problems (Claude), then repaired
deterministically (split or trimmed at a sentence boundary) — never stored broken; the
faithfulness check flags claims the source does not contain.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlmodel import Session, col, select

from omnipostr import clock, db
from omnipostr.accounts.models import User
from omnipostr.library import service as library
from omnipostr.repurpose import engines, faithfulness, platforms, service
from omnipostr.repurpose.engines.base import Delta, Done, Engine, Failed, Options, Retry, Usage
from omnipostr.repurpose.engines.base import Source as EngineSource
from omnipostr.repurpose.engines.prompting import render
from omnipostr.repurpose.models import Generation, Source, Variant, VariantRevision
from omnipostr.repurpose.variant import Variant as Post
from omnipostr.usage import service as usage

log = logging.getLogger("omnipostr.repurpose")

HEARTBEAT_SECONDS = 5
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
STALE_AFTER = timedelta(seconds=45)
RUNNER_ID = f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class PlatformProgress:
    platform: str
    status: str = "queued"  # queued | streaming | done | failed
    text: str = ""  # raw streamed text of the current attempt
    note: str = ""  # e.g. "Claude is busy; trying again in 2 s"
    error: str = ""
    first_token_ms: int | None = None


@dataclass
class RunProgress:
    generation_id: int
    platforms: dict[str, PlatformProgress]
    started: float = field(default_factory=time.monotonic)
    finished: bool = False
    version: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def touch(self) -> None:
        self.version += 1
        self.changed.set()

    async def wait(self, since_version: int, timeout: float) -> int:
        """Wait until something changed after ``since_version`` (or the timeout)."""
        if self.version != since_version:
            return self.version
        self.changed.clear()
        try:
            await asyncio.wait_for(self.changed.wait(), timeout)
        except TimeoutError:
            pass
        return self.version


_runs: dict[int, RunProgress] = {}
_tasks: set[asyncio.Task] = set()


def progress(generation_id: int) -> RunProgress | None:
    return _runs.get(generation_id)


def is_running_here(generation_id: int) -> bool:
    p = _runs.get(generation_id)
    return p is not None and not p.finished


# --- database steps (run in a thread) ---------------------------------------------------------


@dataclass
class Job:
    generation_id: int
    workspace_id: int
    user_id: int | None
    source: EngineSource
    options: Options
    options_dict: dict
    todo: list[tuple[int, str]]  # (variant id, platform)
    feedback: dict[int, str]
    takes: dict[int, int] = field(default_factory=dict)  # variant id -> Options.variation
    previous: dict[int, str] = field(default_factory=dict)  # variant id -> its post as it is now
    facts: asyncio.Future[faithfulness.SourceFacts] | None = None


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


def _claim(s: Session, generation_id: int, variant_ids: list[int] | None) -> Job | None:
    gen = s.get(Generation, generation_id)
    if gen is None:
        return None
    author = s.get(User, gen.created_by) if gen.created_by else None
    if author is not None and author.restrict_processing:  # AI-4: no AI call for their content
        gen.status = "failed"
        gen.error = "Processing of this content is restricted by its author, so it was not sent to the AI."
        s.add(gen)
        return None
    src = s.get(Source, gen.source_id) if gen.source_id else None
    if src is None or src.text is None:
        gen.status = "failed"
        gen.error = "The original text was deleted, so this generation cannot run."
        s.add(gen)
        return None
    q = select(Variant).where(Variant.generation_id == gen.id)
    if variant_ids:
        q = q.where(col(Variant.id).in_(variant_ids))
    else:
        q = q.where(col(Variant.status).in_(("queued", "failed", "streaming")))
    rows = sorted(s.exec(q).all(), key=lambda v: (_START_ORDER.get(v.platform, 99), v.id))
    now = clock.now()
    for v in rows:
        v.status = "streaming"
        v.error = ""
        s.add(v)
    gen.status = "running"
    gen.error = ""
    gen.started_at = gen.started_at or now
    gen.heartbeat_at = now
    gen.runner = RUNNER_ID
    s.add(gen)
    return Job(
        generation_id=gen.id,
        workspace_id=gen.workspace_id,
        user_id=gen.created_by,
        source=EngineSource(title=src.title, text=src.text),
        options=service.options_from_dict(gen.options),
        options_dict=dict(gen.options),
        todo=[(v.id, v.platform) for v in rows],
        feedback={},
    )


def _parse(source: EngineSource) -> None:
    _ = source.document  # parsed now, in a worker thread, for every platform to share


def _heartbeat(s: Session, generation_id: int) -> None:
    gen = s.get(Generation, generation_id)
    if gen is not None and gen.status == "running":
        gen.heartbeat_at = clock.now()
        s.add(gen)


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


def _store(s: Session, job: Job, out: Outcome, model: str) -> None:
    v = s.get(Variant, out.variant_id)
    gen = s.get(Generation, job.generation_id)
    if v is None or gen is None:  # deleted while it ran
        return
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


def _finish(s: Session, job: Job, crashed: str = "") -> str:
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
    library.reindex(s, gen.id)
    usage.record(
        s, "generation.finished", workspace_id=job.workspace_id, user_id=job.user_id, generation_id=gen.id,
        status=gen.status, platforms=len(rows), failed=len(failed), input_tokens=gen.input_tokens,
        output_tokens=gen.output_tokens,
    )
    if gen.status != "done":
        usage.record(s, "error", workspace_id=job.workspace_id, user_id=job.user_id, generation_id=gen.id, where="generation", status=gen.status)
    return gen.status


def recover_stale(s: Session, workspace_id: int | None = None) -> int:
    """Mark generations whose runner stopped beating as interrupted (their finished posts are
    kept; the rest can be retried)."""
    limit = clock.now() - STALE_AFTER
    q = select(Generation).where(col(Generation.status).in_(("running", "queued")))
    if workspace_id is not None:
        q = q.where(Generation.workspace_id == workspace_id)
    n = 0
    for gen in s.exec(q).all():
        if gen.id in _runs and not _runs[gen.id].finished:
            continue
        beat = gen.heartbeat_at or gen.created_at
        if beat >= limit:
            continue
        for v in s.exec(select(Variant).where(Variant.generation_id == gen.id)).all():
            if v.status in ("queued", "streaming"):
                v.status = "failed"
                v.error = "Interrupted: the server stopped while this was being written. Retry it."
                s.add(v)
        gen.status = "interrupted"
        gen.error = "The server stopped while this generation ran. Finished posts are kept; retry the rest."
        s.add(gen)
        n += 1
    return n


# --- the run --------------------------------------------------------------------------------


def _feedback_text(problems: list) -> str:
    return "Fix these problems of your previous answer:\n" + "\n".join(f"- {p.message}" for p in problems)


async def _platform(engine: Engine, job: Job, variant_id: int, platform: str, prog: RunProgress, kind: str) -> Outcome:
    pp = prog.platforms[platform]
    pp.status = "streaming"
    pp.text = ""
    pp.error = ""
    pp.note = ""
    prog.touch()
    out = Outcome(variant_id=variant_id, platform=platform, ok=False, revision_kind=kind)
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
        problems = await asyncio.to_thread(platforms.validate, platform, post, settings)
        if not problems:
            break
        if attempt < engine_passes:
            feedback = (feedback + "\n\n" if feedback else "") + _feedback_text(problems)
            pp.note = "Fixing: " + problems[0].message
            prog.touch()
    assert post is not None
    facts = await job.facts if job.facts is not None else None
    finished = await asyncio.to_thread(_finish_post, platform, post, settings, job, facts)
    out.ok, out.post, out.problems, out.flags, out.repaired = finished
    if not out.ok:
        out.error = "This post could not be made to fit the platform's rules. Retry it."
    out.total_ms = int((time.monotonic() - t0) * 1000)
    return out


def _finish_post(
    platform: str, post: Post, settings: dict, job: Job, facts: faithfulness.SourceFacts | None
) -> tuple[bool, Post | None, list[dict], list[dict], bool]:
    """Validate, repair, check and advise, in a worker thread (a long source must not stall
    the event loop): (ok, the post, tips, faithfulness flags, repaired)."""
    repaired = False
    if platforms.validate(platform, post, settings):
        post = platforms.repair(platform, post, settings)
        repaired = True
    remaining, flags = service.check_post(post, facts or job.source.text, job.options_dict)
    advice = platforms.advise(platform, post, settings)
    if remaining:  # repair must always produce a valid variant; report rather than show it broken
        log.error("repair left problems on %s: %s", platform, [p.code for p in remaining])
        return False, None, service.problems_as_dicts(advice, "tip"), flags, repaired
    return True, post, service.problems_as_dicts(advice, "tip"), flags, repaired


def _add_usage(total: Usage, more: Usage) -> None:
    total.input_tokens += more.input_tokens
    total.output_tokens += more.output_tokens
    total.cache_creation_input_tokens += more.cache_creation_input_tokens
    total.cache_read_input_tokens += more.cache_read_input_tokens
    total.cost_usd += more.cost_usd


async def run(
    generation_id: int,
    *,
    engine: Engine | None = None,
    variant_ids: list[int] | None = None,
    feedback: dict[int, str] | None = None,
    kind: str = "generated",
) -> str:
    """Generate (or regenerate) the variants of a generation. Returns its final status."""
    job = await db.run(_claim, generation_id, variant_ids)
    if job is None:
        return "failed"
    job.feedback = dict(feedback or {})
    if kind == "regenerate":
        job.takes, job.previous = await db.run(_takes, [vid for vid, _ in job.todo])
    # the document, and what the faithfulness check needs of it: worked out once, off the
    # loop; the facts while the first answers stream (they are needed only at the end)
    await asyncio.to_thread(_parse, job.source)
    job.facts = asyncio.ensure_future(asyncio.to_thread(faithfulness.analyze_source, job.source.text))
    if engine is None:
        try:
            engine = engines.get_engine()
        except ValueError as e:  # e.g. a Claude base URL content may not be sent to (AI-1)
            log.error("no engine: %s", e)
            await db.run(_finish, job, "The AI engine is misconfigured, so nothing was sent. An admin must fix its settings.")
            return "failed"
    prog = _runs.get(generation_id)
    if prog is None or prog.finished:
        prog = RunProgress(generation_id, {})
        _runs[generation_id] = prog
    for _, pid in job.todo:
        prog.platforms[pid] = PlatformProgress(pid)
    prog.finished = False
    prog.touch()

    store_lock = asyncio.Lock()  # _store updates the generation's totals: one at a time

    async def one(variant_id: int, platform: str) -> None:
        out = await _platform(engine, job, variant_id, platform, prog, kind)
        async with store_lock:
            await db.run(_store, job, out, getattr(engine, "model", ""))
        pp = prog.platforms[platform]
        pp.status = "done" if out.ok else "failed"
        pp.error = out.error
        pp.note = ""
        prog.touch()

    async def beat() -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await db.run(_heartbeat, generation_id)

    beater = asyncio.create_task(beat())
    crashed = ""
    try:
        await asyncio.gather(*(one(vid, pid) for vid, pid in job.todo))
    except Exception:
        log.exception("generation %s crashed", generation_id)
        crashed = "Something went wrong while generating. Finished posts are kept; retry the rest."
    finally:
        beater.cancel()
    status = await db.run(_finish, job, crashed)
    prog.finished = True
    prog.touch()
    _forget_later(generation_id)
    return status


def _forget_later(generation_id: int, after: float = 300.0) -> None:
    """Drop a finished run's progress after a while (unless it was started again)."""

    def forget() -> None:
        prog = _runs.get(generation_id)
        if prog is not None and prog.finished:
            del _runs[generation_id]

    asyncio.get_running_loop().call_later(after, forget)


def launch(generation_id: int, **kwargs) -> asyncio.Task:
    """Start ``run`` as an app-level task: it outlives the page (and event) that started it."""
    if is_running_here(generation_id):
        raise service.ComposeError("This generation is already running.")
    # register progress now, so a watcher started right after this sees the run
    _runs[generation_id] = RunProgress(generation_id, {})
    task = asyncio.create_task(run(generation_id, **kwargs), name=f"generation-{generation_id}")
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return task
