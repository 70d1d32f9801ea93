"""Runs the registered jobs in a background thread pool, in one process at a time.

Every app process starts a :class:`JobScheduler` (APScheduler's ``BackgroundScheduler``: its
own thread and a thread pool, so no job ever blocks the event loop). Each one tries to take
the database lease at start and every ``lease/3`` seconds; a job fires everywhere but runs
only where the lease is held (and at least a third of its time is left), so with several
workers exactly one runs jobs, and when that one dies another takes over once the lease
expires. A clean shutdown releases the lease at once.

Every run is recorded in ``job_runs`` (job, holder, start, end, outcome, redacted error,
items handled) and counted in the job metrics.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from omnipostr import clock
from omnipostr.jobs import registry, service
from omnipostr.jobs.models import JobRun
from omnipostr.observe import metrics
from omnipostr.observe.logs import redact

logger = logging.getLogger("omnipostr.jobs")

SessionFactory = Callable[[], contextlib.AbstractContextManager]


def _default_session_factory() -> SessionFactory:
    from omnipostr import db

    return db.session


def make_holder(app_name: str = "omnipostr") -> str:
    """A name unique to one scheduler: app, host, process id and a random part."""
    return f"{app_name}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def error_text(exc: BaseException) -> str:
    """What a run record keeps of an exception: its type and redacted message, no trace."""
    message = redact(str(exc))[:800]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _items(result: Any) -> int | None:
    if isinstance(result, bool):
        return None
    if isinstance(result, int):
        return result
    items = getattr(result, "items", None)
    return items if isinstance(items, int) and not isinstance(items, bool) else None


def execute(
    spec: registry.JobSpec, *, holder: str, session_factory: SessionFactory | None = None
) -> JobRun | None:
    """Run one job now in this thread and record the run. Returns the record (``None`` if
    it could not be stored, e.g. while the database is down)."""
    session_factory = session_factory or _default_session_factory()
    started = clock.now()
    t0 = time.perf_counter()
    outcome, error, items = "ok", None, None
    try:
        result = spec.func(session_factory=session_factory) if spec.wants_session_factory else spec.func()
        items = _items(result)
    except registry.Skip as e:
        outcome, error = "skipped", redact(str(e))[:800] or None
    except Exception as e:
        outcome, error = "failed", error_text(e)
        logger.exception("job %s failed", spec.name, extra={"job": spec.name})
    seconds = time.perf_counter() - t0
    ended = clock.now()
    metrics.observe_job(spec.name, outcome, seconds)
    try:
        with session_factory() as s:
            run = service.record_run(
                s,
                job=spec.name,
                holder=holder,
                started_at=started,
                ended_at=ended,
                outcome=outcome,
                error=error,
                items=items,
                quiet=spec.quiet,
            )
            s.expunge(run)
            return run
    except Exception:
        logger.exception("could not record the run of job %s", spec.name, extra={"job": spec.name})
        return None


class JobScheduler:
    """One process's scheduler. Use :func:`start` / :func:`shutdown` for the app's own."""

    def __init__(
        self,
        app_name: str = "omnipostr",
        *,
        session_factory: SessionFactory | None = None,
        lease_seconds: float | None = None,
        lease_name: str = service.DEFAULT_LEASE,
        holder: str | None = None,
        max_workers: int = 4,
        jobs: list[registry.JobSpec] | None = None,
    ) -> None:
        if lease_seconds is None:
            from omnipostr.settings import get_settings

            lease_seconds = float(get_settings().job_lease_seconds)
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self.app_name = app_name
        self.holder = holder or make_holder(app_name)
        self.lease_seconds = lease_seconds
        self.lease_name = lease_name
        self.session_factory = session_factory or _default_session_factory()
        self.max_workers = max_workers
        self._jobs = jobs
        self._lease_until: datetime | None = None
        self._lock = threading.Lock()
        self._scheduler: BackgroundScheduler | None = None

    # --- the lease -------------------------------------------------------------------------

    def renew(self) -> bool:
        """Take or renew the lease now. Returns whether this scheduler holds it."""
        try:
            with self.session_factory() as s:
                until = service.acquire_lease(s, self.holder, self.lease_seconds, name=self.lease_name)
        except Exception as e:
            # Keep what we had: the lease still runs out by itself if the DB stays away.
            logger.warning("could not renew the job lease: %s", error_text(e))
            return self.holds_lease()
        with self._lock:
            had = self._lease_until is not None and self._lease_until > clock.now()
            self._lease_until = until
        if until is not None and not had:
            logger.info("this process now runs the jobs (%s)", self.holder)
        elif until is None and had:
            logger.warning("lost the job lease (%s)", self.holder)
        return until is not None

    def holds_lease(self) -> bool:
        """Held, with at least a third of the lease left (a margin for clock skew and for a
        renewal that comes late)."""
        with self._lock:
            until = self._lease_until
        margin = timedelta(seconds=self.lease_seconds / 3)
        return until is not None and clock.now() < until - margin

    def release(self) -> None:
        with self._lock:
            self._lease_until = None
        try:
            with self.session_factory() as s:
                service.release_lease(s, self.holder, name=self.lease_name)
        except Exception as e:
            logger.warning("could not release the job lease: %s", error_text(e))

    # --- running ---------------------------------------------------------------------------

    def _fire(self, name: str) -> None:
        """What APScheduler calls: run the job only where the lease is held."""
        if not self.holds_lease():
            return
        try:
            spec = registry.get(name)
        except KeyError:
            return
        execute(spec, holder=self.holder, session_factory=self.session_factory)

    def run_now(self, name: str) -> JobRun | None:
        """Run job ``name`` now in this thread, lease or not (admins, tests)."""
        return execute(registry.get(name), holder=self.holder, session_factory=self.session_factory)

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    def start(self) -> JobScheduler:
        if self.running:
            return self
        self.renew()
        sched = BackgroundScheduler(
            timezone=UTC,
            executors={
                "default": ThreadPoolExecutor(self.max_workers),
                "lease": ThreadPoolExecutor(1),
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        sched.add_job(
            self.renew,
            IntervalTrigger(seconds=self.lease_seconds / 3, timezone=UTC),
            id="_lease",
            name="lease renewal",
            executor="lease",
        )
        for spec in self._jobs if self._jobs is not None else registry.all_jobs():
            sched.add_job(self._fire, spec.make_trigger(), args=[spec.name], id=spec.name, name=spec.name)
        sched.start()
        self._scheduler = sched
        logger.info(
            "job scheduler started (%s, holds lease: %s)", self.holder, self.holds_lease()
        )
        return self

    def shutdown(self, *, wait: bool = True, release: bool = True) -> None:
        sched, self._scheduler = self._scheduler, None
        if sched is not None and sched.running:
            sched.shutdown(wait=wait)
        if release:
            self.release()
        logger.info("job scheduler stopped (%s)", self.holder)

    def scheduled(self) -> dict[str, datetime | None]:
        """Next fire time of each job (UTC), for the admin view."""
        if self._scheduler is None:
            return {}
        out = {}
        for j in self._scheduler.get_jobs():
            if j.id.startswith("_"):
                continue
            nxt = j.next_run_time
            out[j.id] = nxt.astimezone(UTC) if nxt else None
        return out


# --- the app's own scheduler ------------------------------------------------------------------

_current: JobScheduler | None = None
_current_lock = threading.Lock()


def current() -> JobScheduler | None:
    """The scheduler this process started, if any."""
    return _current


def start(app_name: str = "omnipostr", **kwargs: Any) -> JobScheduler:
    """Load every capability's jobs and start this process's scheduler (once)."""
    global _current
    with _current_lock:
        if _current is not None and _current.running:
            return _current
        registry.discover()
        _current = JobScheduler(app_name, **kwargs).start()
        return _current


def shutdown(*, wait: bool = True) -> None:
    global _current
    with _current_lock:
        sched, _current = _current, None
    if sched is not None:
        sched.shutdown(wait=wait)


def run_now(name: str, *, session_factory: SessionFactory | None = None) -> JobRun | None:
    """Run job ``name`` at once in the calling thread (an admin's "run now", tests) and record
    the run. Call it from a thread (``asyncio.to_thread``) when in the event loop."""
    registry.discover()
    sched = _current
    holder = sched.holder if sched is not None else f"manual@{socket.gethostname()}:{os.getpid()}"
    factory = session_factory or (sched.session_factory if sched is not None else None)
    return execute(registry.get(name), holder=holder, session_factory=factory)


@contextlib.asynccontextmanager
async def lifespan_task():
    """Reflex lifespan task: ``app.register_lifespan_task(jobs.lifespan_task)``. Starts the
    scheduler when ``settings.jobs_enabled`` and stops it (releasing the lease) on shutdown."""
    import asyncio

    from omnipostr.settings import get_settings

    enabled = get_settings().jobs_enabled
    if enabled:
        await asyncio.to_thread(start)
    try:
        yield
    finally:
        if enabled:
            await asyncio.to_thread(shutdown)
