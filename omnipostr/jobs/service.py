"""The job lease and the run history, as plain functions over a ``Session``.

The lease is one row per lease name. Taking or renewing it is a single conditional UPDATE
(``... WHERE name = :name AND (holder = :me OR expires_at <= :now)``), and the first
taking is an INSERT that the primary key lets only one process win. Both are atomic on
SQLite (one writer at a time) and on PostgreSQL (the losing UPDATE waits for the row lock,
then re-checks its WHERE against the new row and matches nothing).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from omnipostr import clock
from omnipostr.jobs.models import JobLease, JobRun

DEFAULT_LEASE = "scheduler"


@dataclasses.dataclass(frozen=True)
class LeaseStatus:
    name: str
    holder: str | None
    acquired_at: datetime | None
    expires_at: datetime | None
    active: bool
    """Someone holds it now (its expiry is in the future)."""

    def as_dict(self, me: str | None = None) -> dict:
        return {
            "name": self.name,
            "holder": self.holder,
            "acquired_at": _iso(self.acquired_at),
            "expires_at": _iso(self.expires_at),
            "active": self.active,
            "held_by_this_process": bool(me and self.active and self.holder == me),
        }


def _iso(d: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` (naive values are taken as UTC)."""
    if d is None:
        return None
    d = d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def acquire_lease(
    session: Session,
    holder: str,
    seconds: float,
    *,
    name: str = DEFAULT_LEASE,
    now: datetime | None = None,
) -> datetime | None:
    """Take or renew the lease for ``holder``. Returns its new expiry, or ``None`` when
    another holder has it. Commits."""
    now = now or clock.now()
    expires = now + timedelta(seconds=seconds)
    result = session.execute(
        update(JobLease)
        .where(col(JobLease.name) == name)
        .where(or_(col(JobLease.holder) == holder, col(JobLease.expires_at) <= now))
        .values(
            holder=holder,
            expires_at=expires,
            acquired_at=case((col(JobLease.holder) == holder, col(JobLease.acquired_at)), else_=now),
        )
    )
    session.commit()
    if result.rowcount == 1:
        return expires
    if session.exec(select(JobLease.name).where(JobLease.name == name)).first() is not None:
        session.rollback()
        return None
    try:
        session.add(JobLease(name=name, holder=holder, acquired_at=now, expires_at=expires))
        session.commit()
    except IntegrityError:  # another process inserted it first
        session.rollback()
        return None
    return expires


def release_lease(session: Session, holder: str, *, name: str = DEFAULT_LEASE) -> bool:
    """Give the lease up at once (on shutdown), so another process takes over without
    waiting for it to expire. Commits."""
    result = session.execute(
        update(JobLease)
        .where(col(JobLease.name) == name, col(JobLease.holder) == holder)
        .values(expires_at=clock.now())
    )
    session.commit()
    return result.rowcount == 1


def lease_status(session: Session, *, name: str = DEFAULT_LEASE) -> LeaseStatus:
    row = session.exec(
        select(JobLease).where(JobLease.name == name).execution_options(populate_existing=True)
    ).first()
    if row is None:
        return LeaseStatus(name, None, None, None, False)
    return LeaseStatus(
        name=name,
        holder=row.holder,
        acquired_at=row.acquired_at,
        expires_at=row.expires_at,
        active=row.expires_at > clock.now(),
    )


# --- run history -----------------------------------------------------------------------------


def record_run(
    session: Session,
    *,
    job: str,
    holder: str,
    started_at: datetime,
    ended_at: datetime,
    outcome: str,
    error: str | None = None,
    items: int | None = None,
    quiet: bool = False,
) -> JobRun:
    """Store one run. With ``quiet``, an ``ok`` run that handled nothing updates the job's
    latest run instead when that one also handled nothing. Commits."""
    if quiet and outcome == "ok" and not items:
        last = session.exec(
            select(JobRun).where(JobRun.job == job).order_by(col(JobRun.id).desc()).limit(1)
        ).first()
        if last is not None and last.outcome == "ok" and not last.items:
            last.holder, last.started_at, last.ended_at, last.items = holder, started_at, ended_at, items
            session.add(last)
            session.commit()
            return last
    run = JobRun(
        job=job,
        holder=holder,
        started_at=started_at,
        ended_at=ended_at,
        outcome=outcome,
        error=error[:1000] if error else None,
        items=items,
    )
    session.add(run)
    session.commit()
    return run


def recent_runs(session: Session, limit: int = 50, *, job: str | None = None) -> list[JobRun]:
    """The latest runs, newest first (optionally of one job)."""
    q = select(JobRun)
    if job is not None:
        q = q.where(JobRun.job == job)
    return list(session.exec(q.order_by(col(JobRun.started_at).desc(), col(JobRun.id).desc()).limit(limit)))


def last_runs(session: Session) -> dict[str, JobRun]:
    """The latest run of every job that ever ran."""
    latest = select(func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
    rows = session.exec(select(JobRun).where(col(JobRun.id).in_(select(latest.c.id))))
    return {r.job: r for r in rows}


def failed_runs(session: Session, since: datetime, limit: int = 50) -> list[JobRun]:
    """Failed runs since ``since``, newest first (for the admin view)."""
    q = (
        select(JobRun)
        .where(JobRun.outcome == "failed", col(JobRun.started_at) >= since)
        .order_by(col(JobRun.id).desc())
        .limit(limit)
    )
    return list(session.exec(q))


def prune_runs(session: Session, older_than: datetime) -> int:
    """Delete run records that started before ``older_than``. Commits. Returns how many."""
    result = session.execute(delete(JobRun).where(col(JobRun.started_at) < older_than))
    session.commit()
    return result.rowcount or 0
