"""The audit log's job: delete entries older than ``audit_keep_days`` (daily)."""

from __future__ import annotations

from omnipostr.audit import service
from omnipostr.jobs.registry import job


@job("audit.purge", cron="47 4 * * *")
def purge_audit_log(session_factory) -> int:
    with session_factory() as s:
        return service.purge(s)
