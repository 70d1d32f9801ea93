"""What repurposing stores: the source, the generation (history record), the variants with
their revisions, brand voices, and the search index over them.

Retention (PROMISES RET-1..3) shapes the links: a source's text is purged after 90 days while
its row stays (title and counts for the library); a generation (history) is purged after 12
months while its variants stay, so a variant keeps its own workspace, platform and title and
its link to the generation is ``SET NULL``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from omnipostr import clock
from omnipostr.crypto import ContentJSON, ContentText


class Source(SQLModel, table=True):
    __tablename__ = "sources"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    created_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL", index=True)
    title: str = Field(sa_column=Column(ContentText, nullable=False))
    text: str | None = Field(default=None, sa_column=Column(ContentText, nullable=True))
    """The original content. ``None`` once deleted by the user or purged by retention."""
    kind: str = Field(default="paste", max_length=16)  # paste | file | url
    filename: str = Field(default="", sa_column=Column(ContentText, nullable=False))
    url: str = Field(default="", sa_column=Column(ContentText, nullable=False))
    words: int = 0
    chars: int = 0
    created_at: datetime = Field(default_factory=clock.now, index=True)
    text_deleted_at: datetime | None = None
    text_removed_by: str = Field(default="", max_length=16)
    """Who removed the text at ``text_deleted_at``: ``user`` (deleted by a person) or
    ``retention`` (purged ``retention_source_days`` after it was added); empty while kept."""


class Generation(SQLModel, table=True):
    """One run of the repurposer over a source: the history record (RET-3)."""

    __tablename__ = "generations"
    __table_args__ = (Index("ix_generations_ws_created", "workspace_id", "created_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    created_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    source_id: int | None = Field(default=None, foreign_key="sources.id", ondelete="SET NULL", index=True)
    title: str = Field(sa_column=Column(ContentText, nullable=False))
    platforms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    options: dict = Field(default_factory=dict, sa_column=Column(ContentJSON, nullable=False))
    """Tone, audience, call to action, link, brand voice: encrypted, the user wrote them."""
    engine: str = Field(default="offline", max_length=16)
    model: str = Field(default="", max_length=64)
    status: str = Field(default="queued", max_length=16, index=True)
    """queued | running | done | partial (some platforms failed) | failed | interrupted"""
    error: str = Field(default="", max_length=1000)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0
    timings: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """Per platform: {"first_token_ms", "total_ms", "attempts"}."""
    created_at: datetime = Field(default_factory=clock.now, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    runner: str = Field(default="", max_length=200)
    history_purged_at: datetime | None = None
    """When retention removed the history this row held (options, engine, model, errors,
    tokens, cost, timings, runner); the row stays as the posts' place in the library."""
    may_feature_at: datetime | None = None
    """NOT-3: when the workspace allowed OmniPostr to show these posts as examples in its own
    marketing; None (the default): not allowed."""
    quota_period_start: datetime | None = None
    """The billing period whose unit of the plan's quota this generation took (the start of
    its ``usage_periods`` row); None for generations counted before periods were kept."""
    quota_taken_at: datetime | None = None
    """When that unit was taken (its day on the usage chart): the start, or the retry that
    took a unit again."""
    quota_refunded: bool = False
    """The unit was given back because the generation failed without writing a post; a retry
    takes one again."""


class Variant(SQLModel, table=True):
    """One platform's post (or thread, or script). Kept when its generation is purged."""

    __tablename__ = "variants"
    __table_args__ = (
        Index("ix_variants_ws_created", "workspace_id", "created_at", "id"),
        Index("ix_variants_generation_platform", "generation_id", "platform"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    generation_id: int | None = Field(default=None, foreign_key="generations.id", ondelete="SET NULL")
    platform: str = Field(max_length=32)
    title: str = Field(default="", sa_column=Column(ContentText, nullable=False))
    status: str = Field(default="queued", max_length=16)
    """queued | streaming | done | failed"""
    body: str | None = Field(default=None, sa_column=Column(ContentText, nullable=True))
    """The variant as JSON ({"posts": [...], "fields": {...}}), encrypted."""
    problems: list = Field(default_factory=list, sa_column=Column(ContentJSON, nullable=False))
    """Validator advice that remains (never a hard failure: those are repaired)."""
    flags: list = Field(default_factory=list, sa_column=Column(ContentJSON, nullable=False))
    """Faithfulness flags: claims the source does not contain (they quote the post)."""
    error: str = Field(default="", max_length=1000)
    attempts: int = 0
    repaired: bool = False
    edited: bool = False
    version: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    created_at: datetime = Field(default_factory=clock.now, index=True)
    updated_at: datetime = Field(default_factory=clock.now)


class VariantRevision(SQLModel, table=True):
    """Edit history of a variant: every generated, edited, regenerated or rewritten body."""

    __tablename__ = "variant_revisions"

    id: int | None = Field(default=None, primary_key=True)
    variant_id: int = Field(foreign_key="variants.id", ondelete="CASCADE", index=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    version: int = 1
    body: str = Field(sa_column=Column(ContentText, nullable=False))
    kind: str = Field(default="generated", max_length=16)  # generated | edit | regenerate | rewrite | restore
    author_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=clock.now)


class BrandVoice(SQLModel, table=True):
    __tablename__ = "brand_voices"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    name: str = Field(sa_column=Column(ContentText, nullable=False))
    description: str = Field(default="", sa_column=Column(ContentText, nullable=False))
    samples: str = Field(default="[]", sa_column=Column(ContentText, nullable=False))
    """JSON list of sample posts."""
    created_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=clock.now)


class SearchTerm(SQLModel, table=True):
    """A blind index for library search over encrypted text: keyed hashes of the words of a
    generation's title and variants, never the words themselves.

    One row per word of a generation; the lookup index keeps a workspace's rows for a word in
    the library's order (newest first), so a search reads one page of it and stops, however
    many generations hold the word. The primary key answers "does this generation hold this
    word" for the other words of a search."""

    __tablename__ = "search_terms"
    __table_args__ = (
        Index("ix_search_terms_lookup", "workspace_id", "term", "created_us", "generation_id"),
        {"sqlite_with_rowid": False},
    )

    generation_id: int = Field(foreign_key="generations.id", ondelete="CASCADE", primary_key=True)
    term: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    """The first 8 bytes of the word's keyed hash, as a signed 64-bit integer."""
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    created_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    """The generation's ``created_at`` in microseconds since 1970 (UTC): the library's order,
    in 8 bytes."""


class GenerationTask(SQLModel, table=True):
    """Work a generation waits for: write its posts, or write some of them again. A durable
    queue: any generation worker takes a queued task (or one whose lease ran out because its
    worker died), renews the lease while it works, and records each post it stores, so a
    worker that takes over writes only what is left."""

    __tablename__ = "generation_tasks"
    __table_args__ = (Index("ix_generation_tasks_status_lease", "status", "lease_until"),)

    id: int | None = Field(default=None, primary_key=True)
    generation_id: int = Field(foreign_key="generations.id", ondelete="CASCADE", index=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    kind: str = Field(default="generated", max_length=16)  # generated | regenerate | rewrite
    variant_ids: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The posts to write; ``None``: every one not yet done."""
    feedback: dict = Field(default_factory=dict, sa_column=Column(ContentJSON, nullable=False))
    """Per variant id, what the rewrite must fix (it quotes the post: encrypted)."""
    status: str = Field(default="queued", max_length=16)  # queued | running | done
    owner: str = Field(default="", max_length=200)
    """The worker holding the lease: host, process id and a random part."""
    lease_until: datetime | None = None
    claims: int = 0
    """How many times a worker took it; a task that keeps killing its workers stops at a limit."""
    stored: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """Variant ids whose post this task has stored: a worker that takes over skips them."""
    cpu_pids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """The process ids that did the task's CPU work (parsing, writing, checking)."""
    created_at: datetime = Field(default_factory=clock.now)
    finished_at: datetime | None = None
