"""Tables of the job runner: the lease that picks the one process running jobs, and the
record of every run."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from omnipostr import clock

OUTCOMES = ("ok", "failed", "skipped")


class JobLease(SQLModel, table=True):
    """Who runs the jobs. A holder keeps the row by renewing ``expires_at``; once it has
    passed, any process may take it over."""

    __tablename__ = "job_leases"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=200)
    acquired_at: datetime = Field(default_factory=clock.now)
    expires_at: datetime = Field(default_factory=clock.now)


class JobRun(SQLModel, table=True):
    """One run of one job: when, by which process, how it ended."""

    __tablename__ = "job_runs"

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=100, index=True)
    holder: str = Field(max_length=200)
    started_at: datetime = Field(default_factory=clock.now, index=True)
    ended_at: datetime | None = None
    outcome: str = Field(max_length=16, index=True)
    error: str | None = Field(default=None, max_length=1000)
    """Exception type and message, redacted; never a traceback."""
    items: int | None = None
    """How many things the run handled (messages sent, rows purged...), when it says."""
