"""Tables of retention: legal holds (SHR-2) and the warnings sent before an inactive account
is deleted (RET-4)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from omnipostr import clock
from omnipostr.crypto import ContentText


class LegalHold(SQLModel, table=True):
    """A legal hold on an account: while ``released_at`` is empty, no retention job and no
    erasure touches the account or its data. A released hold stays as the record of who held
    the account, when and why, and who released it; a new hold is a new row."""

    __tablename__ = "legal_holds"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL", index=True)
    """The held account. Cleared (the record kept) if the account is erased after release."""
    reason: str = Field(sa_column=Column(ContentText, nullable=False))
    """Why: the matter, the request or the authority (encrypted: it may name people)."""
    placed_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    placed_at: datetime = Field(default_factory=clock.now, index=True)
    released_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    released_at: datetime | None = Field(default=None, index=True)
    release_reason: str = Field(default="", sa_column=Column(ContentText, nullable=False))


class RetentionWarning(SQLModel, table=True):
    """The email telling an account's owner that the account will be deleted for inactivity:
    sent once for each stretch of inactivity (``active_at`` is the last activity it counted
    from; a sign-in after it starts a new stretch)."""

    __tablename__ = "retention_warnings"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    active_at: datetime
    """The account's last activity when the warning was sent."""
    sent_at: datetime = Field(default_factory=clock.now)
    deletes_on: datetime
    """The deletion date the email announced (never earlier than ``retention_warning_days``
    after ``sent_at``)."""
