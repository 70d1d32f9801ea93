"""The email outbox: every message the product sends, from enqueue to delivery."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from omnipostr import clock
from omnipostr.crypto import ContentText

STATUSES = ("queued", "sending", "sent", "failed")


class OutboxMessage(SQLModel, table=True):
    """One email. Rendered when enqueued; its address, subject and bodies are encrypted at rest
    (they hold personal data and one-time links)."""

    __tablename__ = "outbox_messages"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64, index=True)
    to_address: str = Field(sa_column=Column(ContentText, nullable=False))
    to_index: str = Field(default="", max_length=64, index=True)
    """The blind index of ``to_address`` (``accounts.models.email_index``)."""
    subject: str = Field(sa_column=Column(ContentText, nullable=False))
    text_body: str = Field(sa_column=Column(ContentText, nullable=False))
    html_body: str = Field(sa_column=Column(ContentText, nullable=False))
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL", index=True)
    status: str = Field(default="queued", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=clock.now, index=True)
    """When it may be (re)tried. While ``sending``: when a stalled send may be taken over."""
    last_error: str | None = Field(default=None, max_length=500)
    """Why the last attempt failed (SMTP code and text, redacted); never a secret."""
    created_at: datetime = Field(default_factory=clock.now, index=True)
    sent_at: datetime | None = None
    marketing: bool = False
    message_id: str = Field(max_length=200)
    """The RFC 5322 Message-ID, fixed at enqueue so a retried send keeps it."""
    unsubscribe_url: str | None = Field(default=None, max_length=1000)
    """One-click unsubscribe link (marketing mail only): footer link and List-Unsubscribe."""
