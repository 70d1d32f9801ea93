"""API keys: a workspace's keys, each acting for the member who made it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from omnipostr import clock
from omnipostr.crypto import ContentText


class ApiKey(SQLModel, table=True):
    """A key is shown once, when it is made; the database keeps its visible prefix (to tell
    keys apart) and a keyed hash of the whole key (to recognise it), never the key itself."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    created_by: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    """The member the key acts for: their role and their restriction of processing apply, and
    the key stops working when they leave the workspace or their account goes."""
    name: str = Field(default="", sa_column=Column(ContentText, nullable=False))
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    scopes: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=clock.now)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
