"""The library: the history of generations and their variants — read, search, edit, reuse,
delete. Every function filters by the acting member's workspace.

Search runs over encrypted text through a blind index (``search_terms``): keyed hashes of
the words of a generation's title and posts, so the database never holds the words.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import regex
from sqlalchemy import delete, exists, func, insert, tuple_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from omnipostr import clock
from omnipostr.accounts.service import Actor
from omnipostr.repurpose import platforms
from omnipostr.repurpose.models import Generation, SearchTerm, Source, Variant, VariantRevision
from omnipostr.repurpose.service import (
    ComposeError,
    NotFound,
    body_of,
    check_post,
    post_of,
    problems_as_dicts,
)
from omnipostr.repurpose.variant import Variant as Post
from omnipostr.retention import service as retention
from omnipostr.settings import get_settings
from omnipostr.sources.text import CJK, terms
from omnipostr.usage import service as usage

# --- reading ---------------------------------------------------------------------------------


def _generation(s: Session, actor: Actor, generation_id: int) -> Generation:
    gen = s.get(Generation, generation_id)
    if gen is None or gen.workspace_id != actor.workspace_id:
        raise NotFound("generation")
    return gen


def _variant(s: Session, actor: Actor, variant_id: int) -> Variant:
    v = s.get(Variant, variant_id)
    if v is None or v.workspace_id != actor.workspace_id:
        raise NotFound("variant")
    return v


@dataclass
class VariantView:
    id: int
    platform: str
    status: str
    post: Post | None
    problems: list[dict]
    flags: list[dict]
    error: str
    edited: bool
    repaired: bool
    version: int
    updated_at: datetime
    generation_id: int | None = None
    title: str = ""


@dataclass
class GenerationView:
    generation: Generation
    source_title: str
    source_text: str | None
    source_words: int
    source_kind: str
    variants: list[VariantView]


def _view(v: Variant) -> VariantView:
    return VariantView(
        id=v.id, platform=v.platform, status=v.status, post=post_of(v), problems=list(v.problems or []),
        flags=list(v.flags or []), error=v.error, edited=v.edited, repaired=v.repaired, version=v.version,
        updated_at=v.updated_at, generation_id=v.generation_id, title=v.title,
    )


def check_generation(s: Session, actor: Actor, generation_id: int) -> None:
    """NotFound unless the generation is the actor's workspace's."""
    _generation(s, actor, generation_id)


def get_generation(s: Session, actor: Actor, generation_id: int) -> GenerationView:
    gen = _generation(s, actor, generation_id)
    src = s.get(Source, gen.source_id) if gen.source_id else None
    rows = s.exec(select(Variant).where(Variant.generation_id == gen.id).order_by(col(Variant.id))).all()
    order = {p: i for i, p in enumerate(gen.platforms)}
    rows = sorted(rows, key=lambda v: (order.get(v.platform, 99), v.id))
    return GenerationView(
        generation=gen,
        source_title=src.title if src else gen.title,
        source_text=src.text if src else None,
        source_words=src.words if src else 0,
        source_kind=src.kind if src else "",
        variants=[_view(v) for v in rows],
    )


def source_note(s: Session, actor: Actor, generation_id: int) -> str:
    """What the generation's page says of its original: when the text goes ("… kept until
    March 4, 2027 (90 days after it was added)") or that a legal hold keeps it, else when and
    why it went. Asked by that page only: ``get_generation`` serves the composer and the
    checks before a relaunch too, which need no retention lookups."""
    gen = _generation(s, actor, generation_id)
    src = s.get(Source, gen.source_id) if gen.source_id else None
    return retention.source_note_for(s, src) if src else ""


def variant_views(
    s: Session, actor: Actor, generation_id: int, platforms_: list[str] | None = None
) -> dict[str, VariantView]:
    """The posts of one of the actor's generations, by platform (NotFound otherwise)."""
    gen = _generation(s, actor, generation_id)
    q = select(Variant).where(Variant.generation_id == gen.id, Variant.workspace_id == actor.workspace_id)
    if platforms_:
        q = q.where(col(Variant.platform).in_(platforms_))
    return {v.platform: _view(v) for v in s.exec(q.order_by(col(Variant.id))).all()}


def has_generations(s: Session, actor: Actor) -> bool:
    """Whether the actor's workspace has generated anything yet (a first visit has not)."""
    return s.exec(select(Generation.id).where(Generation.workspace_id == actor.workspace_id).limit(1)).first() is not None


def get_variant(s: Session, actor: Actor, variant_id: int) -> VariantView:
    return _view(_variant(s, actor, variant_id))


@dataclass
class LibraryItem:
    id: int
    title: str
    platforms: list[str]
    status: str
    engine: str
    model: str
    tokens: int
    cost_usd: float
    created_at: datetime
    variants: int
    source_kept: bool


@dataclass
class LibraryPage:
    items: list[LibraryItem]
    next_cursor: str


def _cursor(gen: Generation) -> str:
    return f"{gen.created_at.isoformat()}|{gen.id}"


def _parse_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        at, gid = cursor.split("|")
        when = datetime.fromisoformat(at)
        return (when if when.tzinfo else when.replace(tzinfo=UTC)), int(gid)
    except (ValueError, AttributeError):
        return None


def micros(when: datetime) -> int:
    """A time as the search index orders it: microseconds since 1970, UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - EPOCH) // timedelta(microseconds=1)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SEARCH_SAMPLE = 500
"""A search reads the index of its rarest word: each word's rows are counted up to this many."""


def list_generations(
    s: Session,
    actor: Actor,
    *,
    query: str = "",
    platform: str = "",
    status: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str = "",
    limit: int = 20,
) -> LibraryPage:
    """The workspace's generations, newest first, filtered, a page at a time (keyset).

    Every page is read in the order of an index, and stops when it is full: without a search,
    the workspace's generations by date; with one, the rows of the search's rarest word in the
    blind index, which holds them by date too. Other words and the platform are checked per
    generation on their own keys, so a page costs about the same at any size of history."""
    limit = max(1, min(limit, 100))
    ws = actor.workspace_id
    terms = search_terms_of(query)
    if query.strip() and not terms:
        return LibraryPage([], "")
    after = _parse_cursor(cursor) if cursor else None
    if terms:
        seen = {t: _term_rows(s, ws, t) for t in terms}
        if not min(seen.values()):
            return LibraryPage([], "")
        driver = min(terms, key=lambda t: seen[t])
        at, gid, when = SearchTerm.created_us, SearchTerm.generation_id, micros
        q = (
            select(Generation)
            .join(SearchTerm, col(SearchTerm.generation_id) == col(Generation.id))
            .where(SearchTerm.workspace_id == ws, SearchTerm.term == driver, Generation.workspace_id == ws)
        )
        for other in terms:
            if other != driver:
                o = aliased(SearchTerm)
                q = q.where(exists().where(col(o.generation_id) == col(SearchTerm.generation_id), o.term == other))
    else:
        at, gid, when = Generation.created_at, Generation.id, lambda d: d
        q = select(Generation).where(Generation.workspace_id == ws)
    if status:
        q = q.where(Generation.status == status)
    if since:
        q = q.where(col(at) >= when(since))
    if until:
        q = q.where(col(at) < when(until))
    if platform:
        q = q.where(
            exists().where(col(Variant.generation_id) == col(Generation.id), Variant.platform == platform)
        )
    if after:
        q = q.where(tuple_(col(at), col(gid)) < tuple_(when(after[0]), after[1]))
    rows = s.exec(q.order_by(col(at).desc(), col(gid).desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    counts = dict(
        s.exec(
            select(Variant.generation_id, func.count())
            .where(col(Variant.generation_id).in_([g.id for g in rows]))
            .group_by(Variant.generation_id)
        ).all()
    ) if rows else {}
    kept = set(
        s.exec(select(Source.id).where(col(Source.id).in_([g.source_id for g in rows if g.source_id]), col(Source.text).is_not(None))).all()
    ) if rows else set()
    items = [
        LibraryItem(
            id=g.id, title=g.title, platforms=list(g.platforms), status=g.status, engine=g.engine, model=g.model,
            tokens=g.input_tokens + g.output_tokens + g.cache_read_tokens + g.cache_write_tokens,
            cost_usd=g.cost_usd, created_at=g.created_at, variants=counts.get(g.id, 0), source_kept=g.source_id in kept,
        )
        for g in rows
    ]
    return LibraryPage(items, _cursor(rows[-1]) if more and rows else "")


def _term_rows(s: Session, workspace_id: int, term: int) -> int:
    """How many of the workspace's generations hold ``term``, counted up to ``SEARCH_SAMPLE``."""
    some = select(SearchTerm.generation_id).where(SearchTerm.workspace_id == workspace_id, SearchTerm.term == term)
    return s.exec(select(func.count()).select_from(some.limit(SEARCH_SAMPLE).subquery())).one()


# --- search index -------------------------------------------------------------------------------

def _words(text: str, *, index: bool = False) -> set[str]:
    """Search terms: the product's one tokenizer (``sources.text.terms``: words, and pairs of
    CJK characters, so "東京" finds "東京は晴れです"). The index also holds each CJK character on
    its own, so a one-character query finds it too."""
    found = terms(text)
    if index:
        found |= {c for c in unicodedata.normalize("NFKC", text) if _CJK_CHAR.match(c)}
    return found


_CJK_CHAR = regex.compile(rf"[{CJK}]")


def _terms(words: set[str]) -> list[int]:
    """Each word's key: the first 8 bytes of its keyed hash, as a signed 64-bit integer."""
    key = get_settings().signing_key()
    return sorted({
        int.from_bytes(hmac.new(key, b"search:" + w.encode(), hashlib.sha256).digest()[:8], "big", signed=True)
        for w in words
    })


def search_terms_of(query: str) -> list[int]:
    return _terms(_words(query))


def reindex(s: Session, generation_id: int) -> None:
    """Rebuild a generation's blind search index from its title and variants. (It reads only
    the columns it needs: a migration of the index runs it on an older schema.)"""
    gen = s.exec(
        select(Generation.id, Generation.title, Generation.workspace_id, Generation.created_at)
        .where(col(Generation.id) == generation_id)
    ).first()
    if gen is None:
        return
    text = [gen.title]
    for v in s.exec(select(Variant.platform, Variant.body).where(Variant.generation_id == gen.id)).all():
        if (post := post_of(v)) is not None:
            text.append(post.text)
    s.exec(delete(SearchTerm).where(col(SearchTerm.generation_id) == gen.id))  # type: ignore[call-overload]
    rows = [
        {"generation_id": gen.id, "term": term, "workspace_id": gen.workspace_id, "created_us": micros(gen.created_at)}
        for term in _terms(_words("\n".join(text), index=True))
    ]
    if rows:
        s.exec(insert(SearchTerm), params=rows)  # type: ignore[call-overload]


# --- editing ---------------------------------------------------------------------------------------


def edit_variant(
    s: Session, actor: Actor, variant_id: int, posts: list[str], fields: dict[str, str], *, kind: str = "edit",
    edited: bool = True,
) -> VariantView:
    """Save a person's edit. The edit is kept even when it breaks a platform rule (the user
    decides); the problems are shown on the card."""
    v = _variant(s, actor, variant_id)
    if v.status not in ("done", "failed") or v.body is None:
        raise ComposeError("This post is still being written. Edit it when it is finished.")
    spec = platforms.PLATFORMS[v.platform]
    clean_posts = [_lines(unicodedata.normalize("NFC", p)).strip() for p in posts]
    # numbers the app draws are not kept in the text; numbers typed by hand follow the posts
    # added or removed
    clean_posts = platforms.renumber(platforms.bare(v.platform, [p for p in clean_posts if p])) or [""]
    known = {f.name for f in spec.fields}
    clean_fields = {k: _lines(unicodedata.normalize("NFC", fields.get(k, ""))).strip() for k in known}
    post = Post(platform=v.platform, posts=clean_posts, fields=clean_fields)
    if len(post.text) > 100_000:
        raise ComposeError("That post is far too long to save.")
    gen = s.get(Generation, v.generation_id) if v.generation_id else None
    src = s.get(Source, gen.source_id) if gen and gen.source_id else None
    problems, flags = check_post(post, src.text if src else None, gen.options if gen else {})
    save_body(s, v, post, kind=kind, author_id=actor.user_id)
    advice = platforms.advise(v.platform, post, dict((gen.options if gen else {}).get("platform_settings") or {}))
    v.problems = problems_as_dicts(problems) + problems_as_dicts(advice, "tip")
    v.flags = flags
    v.edited = edited
    s.add(v)
    if gen is not None:
        reindex(s, gen.id)
    usage.record(s, "feature.edit", workspace_id=actor.workspace_id, user_id=actor.user_id, platform=v.platform)
    return _view(v)


def _lines(text: str) -> str:
    """One kind of line break (a pasted Windows text brings CR LF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def save_body(s: Session, v: Variant, post: Post, *, kind: str, author_id: int | None) -> None:
    v.body = body_of(post)
    v.version += 1
    v.updated_at = clock.now()
    s.add(v)
    s.flush()
    s.add(VariantRevision(variant_id=v.id, workspace_id=v.workspace_id, version=v.version, body=v.body, kind=kind, author_id=author_id))


def revisions(s: Session, actor: Actor, variant_id: int) -> list[VariantRevision]:
    v = _variant(s, actor, variant_id)
    return list(
        s.exec(select(VariantRevision).where(VariantRevision.variant_id == v.id).order_by(col(VariantRevision.version).desc())).all()
    )


def restore_revision(s: Session, actor: Actor, variant_id: int, version: int) -> VariantView:
    """Make an earlier version the current one again (as a new version: nothing is lost)."""
    v = _variant(s, actor, variant_id)
    rev = s.exec(
        select(VariantRevision).where(VariantRevision.variant_id == v.id, VariantRevision.version == version)
    ).first()
    if rev is None:
        raise NotFound("revision")
    data = json.loads(rev.body)
    return edit_variant(
        s, actor, variant_id, data.get("posts", []), data.get("fields", {}), kind="restore",
        edited=rev.kind in ("edit", "restore") and rev.author_id is not None,
    )


def undo(s: Session, actor: Actor, variant_id: int) -> VariantView:
    """Back to the version before the current one."""
    v = _variant(s, actor, variant_id)
    before = s.exec(
        select(VariantRevision.version)
        .where(VariantRevision.variant_id == v.id, VariantRevision.version < v.version)
        .order_by(col(VariantRevision.version).desc())
    ).first()
    if before is None:
        raise ComposeError("There is no earlier version of this post.")
    return restore_revision(s, actor, variant_id, before)


VERSION_LABELS = {"generated": "Generated", "edit": "Edited", "regenerate": "Regenerated",
                  "rewrite": "Rewritten grounded", "restore": "Restored"}


@dataclass
class Version:
    version: int
    label: str
    created_at: datetime
    preview: str
    current: bool


def versions(s: Session, actor: Actor, variant_id: int) -> list[Version]:
    """Every version of a post, newest first: its takes and its edits."""
    v = _variant(s, actor, variant_id)
    out = []
    for rev in revisions(s, actor, variant_id):
        data = json.loads(rev.body)
        text = " ".join(data.get("posts", [])) or " ".join(data.get("fields", {}).values())
        preview = text if len(text) <= 160 else text[:159].rsplit(" ", 1)[0] + "…"
        out.append(Version(rev.version, VERSION_LABELS.get(rev.kind, rev.kind.title()), rev.created_at, preview, rev.version == v.version))
    return out


def delete_variant(s: Session, actor: Actor, variant_id: int) -> None:
    v = _variant(s, actor, variant_id)
    gen_id = v.generation_id
    s.delete(v)
    s.flush()
    if gen_id:
        reindex(s, gen_id)
    usage.record(s, "feature.delete_variant", workspace_id=actor.workspace_id, user_id=actor.user_id)


def delete_generation(s: Session, actor: Actor, generation_id: int) -> None:
    """Delete a generation with its variants, and its source unless another generation uses it."""
    gen = _generation(s, actor, generation_id)
    s.exec(delete(Variant).where(col(Variant.generation_id) == gen.id))  # type: ignore[call-overload]
    src_id = gen.source_id
    s.delete(gen)
    s.flush()
    if src_id and s.exec(select(Generation.id).where(Generation.source_id == src_id)).first() is None:
        src = s.get(Source, src_id)
        if src is not None:
            s.delete(src)
    usage.record(s, "feature.delete_generation", workspace_id=actor.workspace_id, user_id=actor.user_id)


def set_may_feature(s: Session, actor: Actor, generation_id: int, on: bool) -> datetime | None:
    """NOT-3: allow (or withdraw) OmniPostr to show this generation's posts as examples in its
    own marketing; off by default, granted only by the member who made it or a manager, and
    recorded with its time. Returns when it was allowed (None: not allowed)."""
    gen = _generation(s, actor, generation_id)
    if gen.created_by != actor.user_id and not actor.can_manage:
        raise ComposeError("Only the member who made these posts, or the workspace's owner or admins, can allow that.")
    if bool(on) != (gen.may_feature_at is not None):
        gen.may_feature_at = clock.now() if on else None
        s.add(gen)
        usage.record(s, "privacy.feature_allowed" if on else "privacy.feature_withdrawn",
                     workspace_id=actor.workspace_id, user_id=actor.user_id, generation_id=gen.id)
    return gen.may_feature_at


def delete_source_text(s: Session, actor: Actor, generation_id: int) -> None:
    """Delete the original text now (RET-1, 'until you delete it'); the variants stay."""
    gen = _generation(s, actor, generation_id)
    if gen.status in ("queued", "running"):
        raise ComposeError("Wait until the generation has finished before deleting its original.")
    if gen.source_id:
        s.exec(  # type: ignore[call-overload]
            update(Source).where(col(Source.id) == gen.source_id, col(Source.text).is_not(None))
            .values(text=None, text_deleted_at=clock.now(), text_removed_by="user")
        )
    usage.record(s, "feature.delete_source", workspace_id=actor.workspace_id, user_id=actor.user_id)


@dataclass
class Reuse:
    title: str
    text: str
    platforms: list[str]
    options: dict


def reuse_source(s: Session, actor: Actor, generation_id: int) -> Reuse:
    gen = _generation(s, actor, generation_id)
    src = s.get(Source, gen.source_id) if gen.source_id else None
    if src is None or src.text is None:
        why = retention.source_note(src) if src is not None else ""
        raise ComposeError(f"{why} It cannot be reused." if why else
                           "The original text of this generation was deleted, so it cannot be reused.")
    usage.record(s, "feature.reuse", workspace_id=actor.workspace_id, user_id=actor.user_id)
    return Reuse(title=src.title, text=src.text, platforms=list(gen.platforms), options=dict(gen.options))


def record_feature(s: Session, actor: Actor, feature: str, **detail) -> None:
    usage.record(s, f"feature.{feature}", workspace_id=actor.workspace_id, user_id=actor.user_id, **detail)


