"""Repurposing's jobs: mark generations whose process died as interrupted (retryable)."""

from __future__ import annotations

from omnipostr.jobs.registry import job
from omnipostr.repurpose import runner


@job("repurpose.recover_stale", seconds=60, quiet=True)
def recover_stale(session_factory) -> int:
    with session_factory() as s:
        return runner.recover_stale(s)
