"""The audit log: one append-only row per security or privacy event.

Who acted is a foreign key that is cleared (SET NULL) when that account is erased: the log is
evidence the company must be able to show (GDPR art. 5(2)), so, like the record of privacy
requests and of consent choices, the row stays and only the link to the person goes
(``privacy.erasure`` clears such columns; ``audit.service.forget_person`` also blanks the IP
address). A row is never changed once written and is not deleted through the models: it
leaves only by its retention rule (``audit_keep_days``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, event
from sqlmodel import Field, SQLModel

from omnipostr import clock


class AuditEvent(SQLModel, table=True):
    """One security or privacy event: what (``kind``, a key of ``audit.service.KINDS``), when,
    who acted (``actor_id``; none for the system or an unknown address), on what (``target``,
    e.g. ``session:12`` or ``request:7``), from which IP, and a small detail of identifiers and
    counts, never content and never a secret."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_actor_at", "actor_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=clock.now, index=True)
    kind: str = Field(max_length=32, index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    target: str = Field(default="", max_length=64)
    ip: str = Field(default="", max_length=64)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


@event.listens_for(AuditEvent, "before_update")
def _audit_is_append_only(_mapper, _conn, _row: AuditEvent) -> None:
    raise ValueError("the audit log is append-only")


@event.listens_for(AuditEvent, "before_delete")
def _audit_rows_leave_by_retention_only(_mapper, _conn, _row: AuditEvent) -> None:
    raise ValueError("audit rows are deleted only by their retention rule")
