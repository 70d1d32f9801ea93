"""The breach register: one row per personal data breach, and the accounts each one affected.

Who recorded an incident and who it affected are foreign keys cleared (SET NULL) when that
account is erased: the register is evidence the company must keep (GDPR art. 33(5)), so, like
the record of privacy requests, the row stays without the link to the person. Incidents are
never deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import JSON, Column, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from omnipostr import clock
from omnipostr.crypto import ContentText

AUTHORITY_HOURS = 72
"""GDPR art. 33(1): the supervisory authority is told within 72 hours of the discovery."""


class Incident(SQLModel, table=True):
    """A personal data breach as the register keeps it: what happened, when it happened (if
    known) and when it was discovered, which kinds of data it touched (keys of
    ``personal_data.CATEGORIES``), its likely consequences, the measures taken, what affected
    people should do, whether and when the supervisory authority was told, and the admin who
    recorded it. The words are encrypted at rest."""

    __tablename__ = "incidents"

    id: int | None = Field(default=None, primary_key=True)
    summary: str = Field(sa_column=Column(ContentText, nullable=False))
    occurred_at: datetime | None = None
    discovered_at: datetime
    data_categories: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    consequences: str = Field(default="", sa_column=Column(ContentText, nullable=False))
    measures: str = Field(default="", sa_column=Column(ContentText, nullable=False))
    advice: str = Field(default="", sa_column=Column(ContentText, nullable=False))
    """What an affected person should do (said in the notice)."""
    authority_notified_at: datetime | None = None
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL", index=True)
    created_at: datetime = Field(default_factory=clock.now, index=True)

    @property
    def authority_deadline(self) -> datetime:
        """When the supervisory authority must have been told: discovery + 72 hours."""
        return self.discovered_at + timedelta(hours=AUTHORITY_HOURS)

    @property
    def authority_time_left(self) -> timedelta:
        """Time left to tell the authority; negative: overdue by that much. Once the authority
        was told, fixed at that moment (negative: it was told that late)."""
        return self.authority_deadline - (self.authority_notified_at or clock.now())

    @property
    def authority_late_by(self) -> timedelta:
        """How late the authority notice is, or was; zero when in time."""
        return max(-self.authority_time_left, timedelta(0))


@event.listens_for(Incident, "before_delete")
def _incidents_are_kept(_mapper, _conn, _row: Incident) -> None:
    raise ValueError("the breach register is never deleted from")


class IncidentRecipient(SQLModel, table=True):
    """An account an incident affected: chosen by an admin (``selected_at``) and sent the
    notice once (``notified_at``). When the account is erased the row stays without it, so the
    register still says how many people were affected and told."""

    __tablename__ = "incident_recipients"
    __table_args__ = (UniqueConstraint("incident_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL", index=True)
    selected_at: datetime = Field(default_factory=clock.now)
    notified_at: datetime | None = None
