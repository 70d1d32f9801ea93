"""The personal data the composer and the library keep (see ``omnipostr.personal_data``).

A person's content is what they created: the sources and generations they started, the
posts of those generations with each version (those written by them or by the engine), and
the brand voices they made. What a teammate created in a shared workspace is the teammate's.
"""

from __future__ import annotations

from sqlmodel import col, func, select

from omnipostr.personal_data import Holding, pick
from omnipostr.repurpose.models import (
    BrandVoice,
    Generation,
    GenerationTask,
    SearchTerm,
    Source,
    Variant,
    VariantRevision,
)
from omnipostr.repurpose.service import post_of


def _sources(s, user) -> list[dict]:
    rows = s.exec(select(Source).where(Source.created_by == user.id).order_by(col(Source.id))).all()
    return [
        pick(r, "id", "workspace_id", "title", "text", "kind", "filename", "url", "words", "created_at", "text_deleted_at")
        for r in rows
    ]


def _generation_ids(s, user) -> list[int]:
    return list(s.exec(select(Generation.id).where(Generation.created_by == user.id).order_by(col(Generation.id))).all())


def _generations(s, user) -> list[dict]:
    rows = s.exec(select(Generation).where(Generation.created_by == user.id).order_by(col(Generation.id))).all()
    return [
        pick(r, "id", "workspace_id", "source_id", "title", "platforms", "options", "engine", "model", "status", "error",
             "input_tokens", "output_tokens", "cost_usd", "created_at", "finished_at", "may_feature_at")
        for r in rows
    ]


def _my_variants(s, user) -> list[Variant]:
    ids = _generation_ids(s, user)
    if not ids:
        return []
    return list(s.exec(select(Variant).where(col(Variant.generation_id).in_(ids)).order_by(col(Variant.id))).all())


def _variants(s, user) -> list[dict]:
    out = []
    for v in _my_variants(s, user):
        post = post_of(v)
        out.append(
            pick(v, "id", "workspace_id", "generation_id", "platform", "status", "edited", "version",
                 "created_at", "updated_at")
            | {"posts": list(post.posts) if post else [], "fields": dict(post.fields) if post else {}}
        )
    return out


def _revisions(s, user) -> list[dict]:
    ids = [v.id for v in _my_variants(s, user)]
    if not ids:
        return []
    rows = s.exec(
        select(VariantRevision).where(col(VariantRevision.variant_id).in_(ids))
        .where((col(VariantRevision.author_id) == user.id) | col(VariantRevision.author_id).is_(None))
        .order_by(col(VariantRevision.variant_id), col(VariantRevision.version))
    ).all()
    return [pick(r, "variant_id", "version", "kind", "body", "created_at") for r in rows]


def _tasks(s, user) -> list[dict]:
    ids = _generation_ids(s, user)
    if not ids:
        return []
    rows = s.exec(select(GenerationTask).where(col(GenerationTask.generation_id).in_(ids)).order_by(col(GenerationTask.id))).all()
    return [pick(r, "generation_id", "kind", "status", "created_at") for r in rows]


def _terms(s, user) -> list[dict]:
    """The index entries of the user's generations: how many per generation (the keyed hashes
    themselves say nothing without the key)."""
    rows = s.exec(
        select(SearchTerm.generation_id, func.count()).where(col(SearchTerm.generation_id).in_(_mine(s, user)))
        .group_by(col(SearchTerm.generation_id)).order_by(col(SearchTerm.generation_id))
    ).all()
    return [{"generation_id": g, "entries": n} for g, n in rows]


def _voices(s, user) -> list[dict]:
    rows = s.exec(select(BrandVoice).where(BrandVoice.created_by == user.id).order_by(col(BrandVoice.id))).all()
    return [pick(r, "id", "workspace_id", "name", "description", "samples", "created_at") for r in rows]


def _count(model, where):
    return lambda s, user: s.exec(select(func.count()).select_from(model).where(where(user))).one()


def _mine(s, user):
    return select(Generation.id).where(Generation.created_by == user.id)


def _count_variants(s, user) -> int:
    return s.exec(select(func.count()).select_from(Variant).where(col(Variant.generation_id).in_(_mine(s, user)))).one()


def _count_revisions(s, user) -> int:
    mine = select(Variant.id).where(col(Variant.generation_id).in_(_mine(s, user)))
    return s.exec(
        select(func.count()).select_from(VariantRevision).where(col(VariantRevision.variant_id).in_(mine))
        .where((col(VariantRevision.author_id) == user.id) | col(VariantRevision.author_id).is_(None))
    ).one()


CONTRACT = "contract: the service you asked for"

HOLDINGS = [
    Holding("sources", "content", "The articles and scripts you pasted, uploaded or imported, with their titles.",
            "Repurpose them; let you reuse them.", CONTRACT, "source_text", _sources,
            erase="anonymise", counter=_count(Source, lambda u: Source.created_by == u.id)),
    Holding("generations", "history", "Each generation you started: title, platforms, options, engine, tokens and cost.",
            "Your history; quotas and billing.", CONTRACT, "history", _generations,
            erase="anonymise", counter=_count(Generation, lambda u: Generation.created_by == u.id)),
    Holding("variants", "generated", "The posts made for each platform, as they are now.",
            "Let you edit, copy, export and publish them.", CONTRACT, "generated", _variants, counter=_count_variants),
    Holding("variant_revisions", "generated", "Every earlier version of those posts (takes and edits).",
            "Versions and undo.", CONTRACT, "generated", _revisions, erase="anonymise", counter=_count_revisions),
    Holding("generation_tasks", "history", "Work your generations waited for (what to write again, and why), "
            "until it is done.", "Write your posts.", CONTRACT, "history", _tasks),
    Holding("brand_voices", "content", "The brand voices you made: name, description and samples.",
            "Write posts in your voice.", CONTRACT, "generated", _voices),
    Holding("search_terms", "content", "A search index of your library: keyed hashes of its words, never the words.",
            "Search your library without the text in the clear.", CONTRACT, "generated", _terms),
]

NOT_PERSONAL: dict[str, str] = {}
