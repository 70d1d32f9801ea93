"""The outbox's jobs: send what is due every few seconds, forget old mail daily."""

from __future__ import annotations

from datetime import timedelta

from omnipostr import clock
from omnipostr.jobs.registry import job
from omnipostr.notify import service
from omnipostr.settings import get_settings


@job("outbox.send", seconds=lambda: get_settings().outbox_interval_seconds, quiet=True)
def send_outbox(session_factory) -> service.SendReport:
    return service.send_due(session_factory)


@job("outbox.purge", cron="23 3 * * *")
def purge_outbox(session_factory) -> int:
    """Sent mail is kept ``outbox_keep_days`` (default 30) for the mailbox and support;
    failed mail ``outbox_failed_keep_days`` (default 90) for investigation."""
    s = get_settings()
    now = clock.now()
    with session_factory() as session:
        return service.purge(
            session,
            sent_before=now - timedelta(days=s.outbox_keep_days),
            failed_before=now - timedelta(days=s.outbox_failed_keep_days),
        )
