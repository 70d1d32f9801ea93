"""Background jobs: APScheduler in the app process, one process at a time (database lease).

Capabilities register job functions in their own ``tasks.py`` with :func:`job`; the app
registers :func:`lifespan_task` with Reflex. See ``registry`` and ``runner``.
"""

from omnipostr.jobs.registry import Skip, all_jobs, discover, job, register
from omnipostr.jobs.runner import (
    JobScheduler,
    current,
    lifespan_task,
    run_now,
    shutdown,
    start,
)
from omnipostr.jobs.service import LeaseStatus, last_runs, lease_status, recent_runs

__all__ = [
    "JobScheduler",
    "LeaseStatus",
    "Skip",
    "all_jobs",
    "current",
    "discover",
    "job",
    "last_runs",
    "lease_status",
    "lifespan_task",
    "recent_runs",
    "register",
    "run_now",
    "shutdown",
    "start",
]
