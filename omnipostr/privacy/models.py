"""What the privacy center keeps: the data exports people asked for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, event
from sqlmodel import Field, SQLModel

from omnipostr import clock
from omnipostr.crypto import ContentText, email_index


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


class ConsentRecord(SQLModel, table=True):
    """One cookie or analytics choice, as it was made (CKI-1): append-only, never updated.
    ``consent_id`` names the browser it was made in (kept in its ``op_consent`` cookie);
    ``user_id`` the account, when someone was signed in. The latest record of a browser or
    an account is its choice."""

    __tablename__ = "consent_records"

    id: int | None = Field(default=None, primary_key=True)
    consent_id: str = Field(max_length=32, index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL", index=True)
    analytics: bool = False
    preferences: bool = False
    gpc: bool = False
    """The browser sent ``Sec-GPC: 1`` (Global Privacy Control): honoured as an objection."""
    source: str = Field(default="banner", max_length=16)  # banner | settings | gpc
    policy_version: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=clock.now, index=True)


class PolicyVersion(SQLModel, table=True):
    """A published version of the privacy policy (POL-1), in force from ``published_at``. A
    material one asks every user who accepted an earlier one to acknowledge it at their next
    visit (logged as a ``PolicyAcceptance``), and a notice is emailed to each (once:
    ``notified_at``)."""

    __tablename__ = "policy_versions"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=16, unique=True)  # the policy's "Last updated" date, ISO
    material: bool = False
    summary: str = Field(default="", max_length=2000)
    published_at: datetime = Field(default_factory=clock.now)
    notified_at: datetime | None = None



class PrivacyRequest(SQLModel, table=True):
    """A privacy rights request or a privacy question (REQ-1, REQ-2), from the privacy center,
    from a visitor without an account, or an emailed one logged by the privacy team.

    The address and the requester's words are encrypted at rest; the address is found by its
    blind index. The one-time code that confirms the address is kept only as a keyed hash.
    ``due_at`` is set when the identity is confirmed; ``alerted_at`` records the one due-date
    alert sent to the privacy team (cleared when an extension moves the due date). When the
    person's account is erased, or the retention period after closing is over, the row is
    kept without the address, the words and the link to the account (``anonymised_at``): the
    record of what was asked and how it was answered."""

    __tablename__ = "privacy_requests"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)
    channel: str = Field(default="app", max_length=16)  # app | email (logged by the privacy team)
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL", index=True)
    email: str = Field(default="", sa_column=Column(ContentText, nullable=False))
    email_index: str = Field(default="", max_length=64, index=True)
    details: str = Field(default="", sa_column=Column(ContentText, nullable=False))
    status: str = Field(default="unverified", max_length=16, index=True)
    code_hash: str | None = Field(default=None, max_length=64)
    code_expires_at: datetime | None = None
    code_sent_at: datetime | None = None
    codes_sent: int = 0
    code_tries: int = 0
    verified_at: datetime | None = None
    due_at: datetime | None = Field(default=None, index=True)
    extended_at: datetime | None = None
    extension_reason: str | None = Field(default=None, sa_column=Column(ContentText, nullable=True))
    closed_at: datetime | None = None
    close_reason: str | None = Field(default=None, sa_column=Column(ContentText, nullable=True))
    alerted_at: datetime | None = None
    anonymised_at: datetime | None = None
    created_at: datetime = Field(default_factory=clock.now, index=True)


@event.listens_for(PrivacyRequest, "before_insert")
@event.listens_for(PrivacyRequest, "before_update")
def _keep_request_email_index(_mapper, _conn, row: PrivacyRequest) -> None:
    row.email_index = email_index(row.email) if row.email else ""


class PrivacyRequestEvent(SQLModel, table=True):
    """One step in the life of a privacy request, appended and never changed: the status it
    reached, when, a note (shown to the requester too) and who acted: ``actor`` is a role
    (requester, privacy team, system), never a name; ``actor_id`` the account that acted,
    if any."""

    __tablename__ = "privacy_request_events"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="privacy_requests.id", ondelete="CASCADE", index=True)
    at: datetime = Field(default_factory=clock.now)
    status: str = Field(max_length=16)
    note: str = Field(default="", sa_column=Column(ContentText, nullable=False))
    actor: str = Field(default="system", max_length=32)
    actor_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL", index=True)


@event.listens_for(PrivacyRequestEvent, "before_update")
def _events_are_append_only(_mapper, _conn, _row: PrivacyRequestEvent) -> None:
    raise ValueError("a privacy request's history is append-only")
