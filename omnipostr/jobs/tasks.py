"""The job runner's own housekeeping job."""

from __future__ import annotations

from datetime import timedelta

from omnipostr import clock
from omnipostr.jobs import service
from omnipostr.jobs.registry import job


def keep_days() -> int:
    from omnipostr.settings import get_settings

    return get_settings().job_runs_keep_days


@job("jobs.prune_runs", cron="7 3 * * *")
def prune_runs(session_factory) -> int:
    """Forget run records older than ``job_runs_keep_days`` (default 30)."""
    with session_factory() as s:
        return service.prune_runs(s, clock.now() - timedelta(days=keep_days()))
