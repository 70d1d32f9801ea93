"""The privacy center's jobs: make the data copies people asked for (every two seconds) and
delete the ones whose time is up (daily)."""

from __future__ import annotations

from omnipostr.jobs.registry import job
from omnipostr.privacy import service


@job("privacy.exports", seconds=2.0, quiet=True)
def build_exports(session_factory) -> int:
    with session_factory() as s:
        return service.build_pending(s)


@job("privacy.purge_exports", cron="23 4 * * *")
def purge_exports(session_factory) -> int:
    with session_factory() as s:
        return service.purge_expired_exports(s)
