"""Which jobs exist. Each capability registers its own job functions, in its ``tasks.py``::

    from omnipostr.jobs import job

    @job("retention.purge_sources", cron="15 3 * * *")
    def purge_sources() -> int:          # returns how many items it handled (optional)
        with db.session() as s:
            return retention.purge(s)

A job function takes no argument, or a ``session_factory`` argument (a callable returning a
session context manager, ``db.session`` in production; tests hand in their own). It returns
an ``int`` (items handled), an object with an ``items`` attribute, or ``None``; it raises
:class:`Skip` to record a skipped run, any other exception to record a failure. Jobs must be
idempotent: the lease makes one process run them, but an admin's "run now" may overlap.

``discover()`` imports ``omnipostr.<capability>.tasks`` for every capability that has one.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import logging
import pkgutil
import threading
from collections.abc import Callable
from datetime import UTC
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

logger = logging.getLogger("omnipostr.jobs")


class Skip(Exception):  # noqa: N818 - reads as ``raise Skip("reason")``
    """Raised by a job that decided not to run this time; recorded as ``skipped``."""


TriggerSpec = BaseTrigger | Callable[[], BaseTrigger]


@dataclasses.dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[..., Any]
    trigger: TriggerSpec
    quiet: bool = False
    """Consecutive runs that handled nothing share one run record (for jobs that run every
    few seconds, such as the outbox sender), so the history stays readable."""

    def make_trigger(self) -> BaseTrigger:
        t = self.trigger
        return t if isinstance(t, BaseTrigger) else t()

    @property
    def wants_session_factory(self) -> bool:
        try:
            return "session_factory" in inspect.signature(self.func).parameters
        except (TypeError, ValueError):
            return False


_jobs: dict[str, JobSpec] = {}
_lock = threading.Lock()


def _trigger(seconds: float | Callable[[], float] | None, cron: str | None) -> TriggerSpec:
    if (seconds is None) == (cron is None):
        raise ValueError("give exactly one of seconds= or cron=")
    if cron is not None:
        CronTrigger.from_crontab(cron, timezone=UTC)  # fails now on a bad expression
        return lambda: CronTrigger.from_crontab(cron, timezone=UTC)
    if callable(seconds):
        return lambda: IntervalTrigger(seconds=float(seconds()), timezone=UTC)
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    return lambda: IntervalTrigger(seconds=float(seconds), timezone=UTC)


def register(
    name: str,
    func: Callable[..., Any],
    trigger: TriggerSpec | None = None,
    *,
    seconds: float | Callable[[], float] | None = None,
    cron: str | None = None,
    quiet: bool = False,
) -> JobSpec:
    """Register (or replace) job ``name``. ``trigger`` is an APScheduler trigger or a callable
    making one; or give ``seconds=`` (a number or a callable read at start) or ``cron=``
    (crontab syntax, UTC)."""
    if not name or len(name) > 100:
        raise ValueError("a job needs a name of 1-100 characters")
    if trigger is None:
        trigger = _trigger(seconds, cron)
    elif seconds is not None or cron is not None:
        raise ValueError("give a trigger or seconds=/cron=, not both")
    spec = JobSpec(name=name, func=func, trigger=trigger, quiet=quiet)
    with _lock:
        _jobs[name] = spec
    return spec


def job(
    name: str,
    *,
    seconds: float | Callable[[], float] | None = None,
    cron: str | None = None,
    quiet: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator form of :func:`register`."""
    trigger = _trigger(seconds, cron)

    def deco(func: Callable[..., Any]) -> Callable[..., Any]:
        register(name, func, trigger, quiet=quiet)
        return func

    return deco


def unregister(name: str) -> None:
    with _lock:
        _jobs.pop(name, None)


def get(name: str) -> JobSpec:
    try:
        return _jobs[name]
    except KeyError:
        raise KeyError(f"no job named {name!r}") from None


def all_jobs() -> list[JobSpec]:
    with _lock:
        return sorted(_jobs.values(), key=lambda s: s.name)


def discover(package: str = "omnipostr") -> list[str]:
    """Import ``<package>.<capability>.tasks`` modules so their jobs register. Returns the
    modules imported; one that fails to import is logged and left out."""
    root = importlib.import_module(package)
    found = []
    for info in pkgutil.iter_modules(root.__path__):
        if not info.ispkg:
            continue
        modname = f"{package}.{info.name}.tasks"
        try:
            if importlib.util.find_spec(modname) is None:
                continue
            importlib.import_module(modname)
            found.append(modname)
        except Exception:
            logger.exception("could not load the jobs of %s", modname)
    return found
