"""Repurposing's jobs: forget generation tasks that ended a while ago (the generation and its
posts keep everything a person sees; a done task only served its worker)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col

from omnipostr import clock
from omnipostr.jobs.registry import job
from omnipostr.repurpose.models import GenerationTask

KEEP_DONE = timedelta(days=1)


@job("repurpose.prune_tasks", seconds=3600, quiet=True)
def prune_tasks(session_factory) -> int:
    with session_factory() as s:
        res = s.connection().execute(
            delete(GenerationTask).where(
                GenerationTask.status == "done", col(GenerationTask.finished_at) < clock.now() - KEEP_DONE
            )
        )
        return res.rowcount
