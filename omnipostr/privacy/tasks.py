"""The privacy center's jobs: make the data copies people asked for and erase the accounts
whose deletion was asked for (every two seconds); delete the copies whose time is up (daily)."""

from __future__ import annotations

from omnipostr.jobs.registry import job
from omnipostr.privacy import erasure, service


@job("privacy.exports", seconds=2.0, quiet=True)
def build_exports(session_factory) -> int:
    with session_factory() as s:
        return service.build_pending(s)


@job("privacy.purge_exports", cron="23 4 * * *")
def purge_exports(session_factory) -> int:
    with session_factory() as s:
        return service.purge_expired_exports(s)


@job("privacy.erasure", seconds=2.0, quiet=True)
def erase_accounts(session_factory) -> int:
    with session_factory() as s:
        return erasure.erase_pending(s)
