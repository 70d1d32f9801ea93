"""Who uses OmniPostr: users, their workspaces and memberships, sessions and one-time tokens.

Names and email addresses are encrypted at rest (``ContentText``); an address is found by its
blind index (``email_index``), kept in step with it whenever it is set.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from omnipostr import clock
from omnipostr.crypto import ContentJSON, ContentText, email_index

ROLES = ("owner", "admin", "member")


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(ContentText, nullable=False))
    email: str = Field(sa_column=Column(ContentText, nullable=False))
    email_index: str = Field(default="", max_length=64, unique=True, index=True)
    """``email_index(email)``: how sign-in finds the account without the address in the clear."""
    password_hash: str | None = Field(default=None, max_length=255)
    """argon2id; None for an account that signs in only with Google or GitHub."""
    email_verified_at: datetime | None = None
    age_confirmed_at: datetime | None = None
    created_at: datetime = Field(default_factory=clock.now)
    last_login_at: datetime | None = None
    last_active_at: datetime | None = None
    is_admin: bool = False
    restrict_processing: bool = False
    """GDPR art. 18: content kept, but no AI processing and no jobs other than retention."""
    marketing_opt_in: bool = False
    object_usage: bool = True
    """No usage events are recorded about this user (records of their privacy choices
    excepted): true until they consent to usage analytics (CKI-1), and again when they refuse
    or object to it (GDPR art. 21, Global Privacy Control)."""
    password_changed_at: datetime | None = None
    deletion_requested_at: datetime | None = None
    """The user asked to delete the account: signed out everywhere, refused at sign-in, and
    erased by a job (``privacy.erasure``)."""
    deletion_reason: str = Field(default="", max_length=32)
    """Why the account is being deleted: empty when its person asked; ``inactive`` when nobody
    used it for the retention period (``retention``)."""


class Workspace(SQLModel, table=True):
    __tablename__ = "workspaces"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(ContentText, nullable=False))
    owner_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL", index=True)
    plan: str = Field(default="free", max_length=32)
    data_region: str = Field(default="us", max_length=16)
    created_at: datetime = Field(default_factory=clock.now)


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    role: str = Field(default="member", max_length=16)
    created_at: datetime = Field(default_factory=clock.now)


class Invite(SQLModel, table=True):
    __tablename__ = "invites"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    email: str = Field(sa_column=Column(ContentText, nullable=False))
    role: str = Field(default="member", max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    invited_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=clock.now)
    expires_at: datetime
    accepted_at: datetime | None = None
    revoked_at: datetime | None = None


class AuthSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its hash is kept here."""

    __tablename__ = "sessions"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    workspace_id: int | None = Field(default=None, foreign_key="workspaces.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=clock.now)
    last_seen_at: datetime = Field(default_factory=clock.now)
    expires_at: datetime
    revoked_at: datetime | None = None
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=512)
    browser: str = Field(default="", max_length=64)
    os: str = Field(default="", max_length=64)
    device: str = Field(default="", max_length=64)
    method: str = Field(default="password", max_length=16)


class KnownDevice(SQLModel, table=True):
    """Browsers a user has signed in from before; a sign-in from a new one sends an email."""

    __tablename__ = "known_devices"
    __table_args__ = (UniqueConstraint("user_id", "fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    fingerprint: str = Field(max_length=64)
    first_seen_at: datetime = Field(default_factory=clock.now)
    last_seen_at: datetime = Field(default_factory=clock.now)


class AuthToken(SQLModel, table=True):
    """Single-use tokens sent by email or handed to the browser: verify, reset, change email,
    sign-in tickets, pending social sign-ups. Only the hash is kept."""

    __tablename__ = "auth_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="CASCADE", index=True)
    purpose: str = Field(max_length=32)
    token_hash: str = Field(max_length=64, unique=True)
    data: str = Field(default="", sa_column=Column(ContentText, nullable=False))
    """Purpose-specific: the new address for change_email, JSON for a pending social sign-up."""
    created_at: datetime = Field(default_factory=clock.now)
    expires_at: datetime
    used_at: datetime | None = None


class AccountRequest(SQLModel, table=True):
    """Account mail a visitor asked for (sign-up, a new confirmation link, a password reset),
    kept until a job does the work. The page answers as soon as the request is stored: the
    same answer, after the same work, whether or not the address has an account."""

    __tablename__ = "account_requests"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # signup | resend | reset
    payload: dict = Field(default_factory=dict, sa_column=Column(ContentJSON, nullable=False))
    attempts: int = 0
    created_at: datetime = Field(default_factory=clock.now, index=True)


class LoginFailure(SQLModel, table=True):
    """One failed sign-in, keyed by the blind index of the address typed and by the client IP
    (throttling)."""

    __tablename__ = "login_failures"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, index=True)
    at: datetime = Field(default_factory=clock.now, index=True)


class PolicyAcceptance(SQLModel, table=True):
    __tablename__ = "policy_acceptances"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    version: str = Field(max_length=32)
    accepted_at: datetime = Field(default_factory=clock.now)


class OAuthIdentity(SQLModel, table=True):
    __tablename__ = "oauth_identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    provider: str = Field(max_length=16)
    subject: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=clock.now)


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
def _keep_email_index(_mapper, _conn, user: User) -> None:
    user.email_index = email_index(user.email) if user.email else ""
