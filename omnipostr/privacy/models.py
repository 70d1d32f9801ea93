"""What the privacy center keeps: the data exports people asked for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from omnipostr import clock


class DataExport(SQLModel, table=True):
    """A copy of one person's data (RGT-1), built by a job and kept until it expires. The
    archive is sealed with the content key: the database holds no readable copy."""

    __tablename__ = "data_exports"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    status: str = Field(default="queued", max_length=16, index=True)  # queued | ready | failed
    archive: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    size: int = 0
    error: str = Field(default="", max_length=500)
    attempts: int = 0
    created_at: datetime = Field(default_factory=clock.now)
    ready_at: datetime | None = None
    expires_at: datetime | None = None
    downloaded_at: datetime | None = None
