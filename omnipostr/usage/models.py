"""One row per thing a user did or met: an API call, a generation, a feature used, an error.

The detail is a small JSON of identifiers and counts, never content.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from omnipostr import clock


class UsageEvent(SQLModel, table=True):
    __tablename__ = "usage_events"
    __table_args__ = (Index("ix_usage_events_ws_at", "workspace_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int | None = Field(default=None, foreign_key="workspaces.id", ondelete="CASCADE")
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=64, index=True)
    """e.g. generation.created, generation.finished, platform.failed, feature.copy, api.call, error"""
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=clock.now, index=True)
