"""The privacy center's jobs: make the data copies people asked for and erase the accounts
whose deletion was asked for (every two seconds); delete the copies whose time is up, and
schedule the deletion of accounts nobody used for the retention period (daily)."""

from __future__ import annotations

from omnipostr.jobs.registry import job
from omnipostr.privacy import erasure, requests, service, versions
from omnipostr.retention import service as retention


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


@job("privacy.inactive_accounts", cron="40 3 * * *")
def expire_inactive_accounts(session_factory) -> retention.Counts:
    """RET-4: delete the accounts nobody used for the retention period, once warned and past
    the date the warning gave (the erasure job above does the deleting)."""
    with session_factory() as s:
        return erasure.expire_inactive(s)


@job("privacy.policy_versions", seconds=60.0, quiet=True)
def publish_policy_versions(session_factory) -> int:
    """Publish a policy version shipped with a new release: a material one is announced by
    email and asked to be acknowledged."""
    with session_factory() as s:
        return versions.sync(s)


@job("privacy.request_alerts", cron="7 8 * * *")
def alert_due_requests(session_factory) -> int:
    """Tell the privacy team, once, of each open privacy request due within a few days or
    overdue."""
    with session_factory() as s:
        return requests.send_due_alerts(s)


@job("privacy.purge_requests", cron="37 4 * * *")
def purge_requests(session_factory) -> int:
    """Delete privacy requests never confirmed; keep closed ones without the person's details
    once their retention period is over."""
    with session_factory() as s:
        return requests.purge(s)
