"""The scheduled backup: ``ops.backup``, daily by default (``backup_cron``, UTC), keeping the
``backup_keep`` newest backups in ``backup_dir``. The job lease makes one process run it."""

from __future__ import annotations

import logging
from datetime import UTC

from apscheduler.triggers.cron import CronTrigger

from omnipostr.jobs.registry import register
from omnipostr.ops import backup
from omnipostr.settings import get_settings

log = logging.getLogger("omnipostr.ops")


def _trigger() -> CronTrigger:
    return CronTrigger.from_crontab(get_settings().backup_cron, timezone=UTC)


def scheduled_backup() -> int:
    """Make a backup, then delete all but the newest ``backup_keep``. Returns 1 (the backup
    made); a failure (no pg_dump, a full disk) fails the run, which the health page shows."""
    made = backup.make_backup()
    gone = backup.prune(get_settings().backup_keep)
    log.info("backup %s made (%d bytes); %d older deleted", made.name, made.stat().st_size, len(gone))
    backup.record("backup", by="schedule", size=made.stat().st_size, pruned=len(gone))
    return 1


register("ops.backup", scheduled_backup, _trigger)
