"""The queue of generation work, in the database: durable, shared by every process.

A task (``GenerationTask``) is queued when a generation starts or some of its posts are
written again. A generation worker takes it with a lease (one conditional UPDATE, so two
workers never both win), renews the lease while it works, and marks it done at the end. A
worker that dies stops renewing: once the lease runs out another worker takes the task and
writes only the posts it has not stored. A task taken ``MAX_CLAIMS`` times (it keeps killing
its workers) stops there, and its generation says so.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from omnipostr import clock
from omnipostr.repurpose.models import GenerationTask

MAX_CLAIMS = 3
ACTIVE = ("queued", "running")


class AlreadyRunning(Exception):
    pass


def active(s: Session, generation_id: int) -> GenerationTask | None:
    return s.exec(
        select(GenerationTask).where(
            GenerationTask.generation_id == generation_id, col(GenerationTask.status).in_(ACTIVE)
        )
    ).first()


def enqueue(
    s: Session,
    generation_id: int,
    workspace_id: int,
    *,
    kind: str = "generated",
    variant_ids: list[int] | None = None,
    feedback: dict[int, str] | None = None,
) -> GenerationTask:
    if active(s, generation_id) is not None:
        raise AlreadyRunning("This generation is already running.")
    task = GenerationTask(
        generation_id=generation_id, workspace_id=workspace_id, kind=kind,
        variant_ids=list(variant_ids) if variant_ids else None,
        feedback={str(k): v for k, v in (feedback or {}).items()},
    )
    s.add(task)
    s.flush()
    return task


def _takeable(now):
    return or_(
        GenerationTask.status == "queued",
        and_(GenerationTask.status == "running", col(GenerationTask.lease_until) < now),
    )


def claimable(s: Session, limit: int = 5) -> list[int]:
    """Ids of tasks a worker may take now: queued, or running with a lapsed lease."""
    return list(
        s.exec(select(GenerationTask.id).where(_takeable(clock.now())).order_by(GenerationTask.id).limit(limit)).all()
    )


def take(s: Session, task_id: int, owner: str, lease_seconds: float) -> bool:
    """Take one task if it is still takeable. Run it in a transaction of its own that starts
    with this write (SQLite then waits for the write lock instead of failing)."""
    now = clock.now()
    res = s.connection().execute(
        update(GenerationTask)
        .where(GenerationTask.id == task_id, _takeable(now))
        .values(status="running", owner=owner, lease_until=now + timedelta(seconds=lease_seconds),
                claims=GenerationTask.claims + 1)
    )
    return res.rowcount == 1


def claim(s_factory, owner: str, lease_seconds: float) -> int | None:
    """Find and take one task (two short transactions from ``s_factory``): its id, or None."""
    with s_factory() as s:
        ids = claimable(s)
    for tid in ids:
        with s_factory() as s:
            if take(s, tid, owner, lease_seconds):
                return tid
    return None


def renew(s: Session, task_id: int, owner: str, lease_seconds: float) -> bool:
    """Extend the lease; False when the task is no longer this worker's."""
    res = s.connection().execute(
        update(GenerationTask)
        .where(GenerationTask.id == task_id, GenerationTask.owner == owner, GenerationTask.status == "running")
        .values(lease_until=clock.now() + timedelta(seconds=lease_seconds))
    )
    return res.rowcount == 1


def held(s: Session, task_id: int, owner: str) -> GenerationTask | None:
    """The task, if ``owner`` still holds it (checked in the transaction that writes a post,
    so a worker that lost its lease writes nothing)."""
    task = s.get(GenerationTask, task_id)
    if task is None or task.owner != owner or task.status != "running":
        return None
    return task


def release(s: Session, owner: str) -> int:
    """A worker stopping cleanly hands its tasks back at once (no lease to wait out)."""
    res = s.connection().execute(
        update(GenerationTask)
        .where(GenerationTask.owner == owner, GenerationTask.status == "running")
        .values(lease_until=clock.now() - timedelta(seconds=1))
    )
    return res.rowcount
