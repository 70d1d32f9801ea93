"""Repurposing: start generations, read and edit what they made, the library, brand voices.

Every function takes the acting member (``Actor``) and filters by the actor's workspace:
a generation, variant or voice of another workspace is "not found", never shown.
The work of generating is done by ``repurpose.runner``; this module stores and reads.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

import regex
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from omnipostr import clock, sources
from omnipostr.accounts.models import User, Workspace
from omnipostr.accounts.service import Actor
from omnipostr.billing import quota
from omnipostr.billing.plans import plan_for
from omnipostr.repurpose import faithfulness, platforms
from omnipostr.repurpose.engines.base import BrandVoice as VoiceSpec
from omnipostr.repurpose.engines.base import Options
from omnipostr.repurpose.models import (
    BrandVoice,
    Generation,
    Source,
    Variant,
)
from omnipostr.repurpose.variant import Problem
from omnipostr.repurpose.variant import Variant as Post
from omnipostr.settings import get_settings
from omnipostr.usage import service as usage

TITLE_MAX = 200
TONES = ["conversational", "professional", "friendly", "bold", "witty", "inspirational", "educational"]
EMOJI_LEVELS = ["none", "some", "lots"]


class ComposeError(ValueError):
    """Why a generation cannot start or an edit cannot be saved, for the user."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(LookupError):
    """Not in the actor's workspace (or not at all): the two look the same on purpose."""


# --- composing ------------------------------------------------------------------------------


@dataclass
class ComposeRequest:
    text: str
    platforms: list[str]
    title: str = ""
    kind: str = "paste"
    filename: str = ""
    url: str = ""
    tone: str = "conversational"
    audience: str = ""
    language: str = "English"
    brand_voice_id: int | None = None
    hashtags: bool = True
    emoji: str = "some"
    call_to_action: str = ""
    link: str = ""
    platform_settings: dict[str, int] = field(default_factory=dict)


def _clean_line(value: str, limit: int) -> str:
    value = unicodedata.normalize("NFC", value or "")
    value = regex.sub(r"[\p{Cc}\p{Cf}]", " ", value)
    return regex.sub(r"\s+", " ", value).strip()[:limit]


def default_title(text: str) -> str:
    """The source's own title (a heading, a ``Title:`` field, an HTML title), else its first
    sentence shortened at a word boundary."""
    return _clean_line(sources.parse(text).title, TITLE_MAX) or "Untitled"


def processing_restricted(s: Session, actor: Actor) -> bool:
    """GDPR-2 / AI-4: the acting user asked us not to process their content with AI."""
    user = s.get(User, actor.user_id)
    return bool(user and user.restrict_processing)


def options_from(req: ComposeRequest, voice: BrandVoice | None) -> Options:
    spec = None
    if voice is not None:
        spec = VoiceSpec(name=voice.name, description=voice.description, samples=json.loads(voice.samples or "[]"))
    return Options(
        tone=req.tone,
        audience=req.audience,
        language=req.language,
        brand_voice=spec,
        hashtags=req.hashtags,
        emoji=req.emoji if req.emoji in EMOJI_LEVELS else "some",  # type: ignore[arg-type]
        call_to_action=req.call_to_action,
        link=req.link,
        platform_settings=dict(req.platform_settings),
    )


def options_to_dict(opts: Options, brand_voice_id: int | None = None) -> dict:
    d = {
        "tone": opts.tone,
        "audience": opts.audience,
        "language": opts.language,
        "hashtags": opts.hashtags,
        "emoji": opts.emoji,
        "call_to_action": opts.call_to_action,
        "link": opts.link,
        "platform_settings": dict(opts.platform_settings),
        "brand_voice_id": brand_voice_id,
    }
    if opts.brand_voice is not None:
        d["brand_voice"] = {
            "name": opts.brand_voice.name,
            "description": opts.brand_voice.description,
            "samples": list(opts.brand_voice.samples),
        }
    return d


def options_from_dict(d: dict) -> Options:
    voice = d.get("brand_voice")
    return Options(
        tone=d.get("tone", "conversational"),
        audience=d.get("audience", ""),
        language=d.get("language", "English"),
        brand_voice=VoiceSpec(**voice) if voice else None,
        hashtags=bool(d.get("hashtags", True)),
        emoji=d.get("emoji", "some"),
        call_to_action=d.get("call_to_action", ""),
        link=d.get("link", ""),
        platform_settings=dict(d.get("platform_settings") or {}),
    )


def check_request(req: ComposeRequest, described: tuple[str, int] | None = None) -> tuple[str, str, list[str]]:
    """(title, clean text, platform ids) or ComposeError. ``described``: the text's own title
    and word count, worked out already (``cpu.describe_request``)."""
    cfg = get_settings()
    try:
        text = sources.validate_text(req.text, max_chars=cfg.source_max_chars)
    except sources.ExtractError as e:
        raise ComposeError(e.message, "text") from None
    chosen = [p for p in dict.fromkeys(req.platforms) if p in platforms.PLATFORMS]
    unknown = [p for p in req.platforms if p not in platforms.PLATFORMS]
    if unknown:
        raise ComposeError(f"Unknown platform: {', '.join(unknown[:3])}.", "platforms")
    if not chosen:
        raise ComposeError("Pick at least one platform.", "platforms")
    if req.tone and len(req.tone) > 60:
        raise ComposeError("Keep the tone to a few words.", "tone")
    for name, value, limit in (("audience", req.audience, 200), ("call_to_action", req.call_to_action, 300)):
        if len(value or "") > limit:
            raise ComposeError(f"Keep the {name.replace('_', ' ')} under {limit} characters.", name)
    if req.link and not regex.match(r"^https?://[^\s]+$", req.link.strip()):
        raise ComposeError("The link back must start with http:// or https://.", "link")
    title = _clean_line(req.title, TITLE_MAX) or (described[0] if described else default_title(text))
    return title, text, chosen


def start_generation(
    s: Session, actor: Actor, req: ComposeRequest, *, engine: str, model: str,
    described: tuple[str, int] | None = None,
) -> Generation:
    """Store the source and a queued generation with one queued variant per platform, and
    take one generation of the plan's quota for it. Refuses when processing is restricted or
    the period's quota is used up. The unit is taken after every other check and before
    anything is written: a request refused for any reason takes none, and one refused for the
    quota has written nothing."""
    title, text, chosen = check_request(req, described)
    if processing_restricted(s, actor):
        raise ComposeError(
            "You restricted processing of your content, so OmniPostr will not send it to the AI or "
            "generate from it. To lift the restriction, turn it off in Settings → Privacy.",
            "restricted",
        )
    voice = None
    if req.brand_voice_id:
        voice = s.get(BrandVoice, req.brand_voice_id)
        if voice is None or voice.workspace_id != actor.workspace_id:
            raise ComposeError("That brand voice no longer exists.", "brand_voice")
    taken_at = clock.now()
    period_start = _take_quota(s, actor.workspace_id, len(chosen), taken_at)
    opts = options_from(req, voice)
    src = Source(
        workspace_id=actor.workspace_id,
        created_by=actor.user_id,
        title=title,
        text=text,
        kind=req.kind if req.kind in ("paste", "file", "url") else "paste",
        filename=req.filename[:255],
        url=req.url[:2000],
        words=described[1] if described else sources.count_words(text),
        chars=len(text),
    )
    s.add(src)
    s.flush()
    gen = Generation(
        workspace_id=actor.workspace_id,
        created_by=actor.user_id,
        source_id=src.id,
        title=title,
        platforms=chosen,
        options=options_to_dict(opts, voice.id if voice else None),
        engine=engine,
        model=model,
        status="queued",
        quota_period_start=period_start,
        quota_taken_at=taken_at,
    )
    s.add(gen)
    s.flush()
    for pid in chosen:
        s.add(Variant(workspace_id=actor.workspace_id, generation_id=gen.id, platform=pid, title=title, status="queued"))
    usage.record(
        s, "generation.created", workspace_id=actor.workspace_id, user_id=actor.user_id,
        generation_id=gen.id, platforms=chosen, engine=engine, words=src.words, source_kind=src.kind,
    )
    s.flush()
    return gen


# --- the quota a generation takes ----------------------------------------------------------


def _take_quota(s: Session, workspace_id: int, variants: int, now: datetime) -> datetime:
    try:
        return quota.consume(s, workspace_id, variants, now=now)
    except quota.QuotaExceeded as e:
        raise ComposeError(e.message, "quota") from e


def take_quota_again(s: Session, gen: Generation) -> bool:
    """A generation whose unit was given back (it failed without a post) takes one again when
    it is run again, or is refused as a start would be at the limit (``ComposeError``, field
    ``quota``; the caller's transaction is then rolled back, as ``db.session`` does). True when
    a unit was taken. Two retries at once take one unit: the flag is turned back by one
    conditional update, which only one of them wins."""
    turned = s.connection().execute(
        update(Generation)
        .where(col(Generation.id) == gen.id, col(Generation.quota_refunded).is_(True))
        .values(quota_refunded=False)
    )
    if turned.rowcount != 1:
        return False
    now = clock.now()
    start = _take_quota(s, gen.workspace_id, len(gen.platforms), now)
    s.connection().execute(
        update(Generation).where(col(Generation.id) == gen.id).values(quota_period_start=start, quota_taken_at=now)
    )
    for name, value in (("quota_refunded", False), ("quota_period_start", start), ("quota_taken_at", now)):
        set_committed_value(gen, name, value)
    return True


def refund_failed(s: Session, gen: Generation) -> bool:
    """Give back the unit of a generation that failed as a whole (no post written), exactly
    once: the generation is marked refunded by one conditional update, so of two workers that
    both end it (one of them after losing its lease) only one gives the unit back. True when
    this call gave it back."""
    if gen.status != "failed" or gen.quota_period_start is None:
        return False
    wrote = s.exec(select(Variant.id).where(Variant.generation_id == gen.id, col(Variant.body).is_not(None))).first()
    if wrote is not None:
        return False
    marked = s.connection().execute(
        update(Generation)
        .where(
            col(Generation.id) == gen.id,
            col(Generation.quota_refunded).is_(False),
            col(Generation.quota_period_start) == gen.quota_period_start,
        )
        .values(quota_refunded=True)
    )
    if marked.rowcount != 1:
        return False
    quota.refund(s, gen.workspace_id, gen.quota_period_start, len(gen.platforms), taken_at=gen.quota_taken_at)
    set_committed_value(gen, "quota_refunded", True)
    return True


# --- posts and their checks -----------------------------------------------------------


def post_of(v: Variant) -> Post | None:
    if not v.body:
        return None
    data = json.loads(v.body)
    # posts stored before the app drew thread numbers itself carry them typed: drop them
    posts = platforms.bare(v.platform, [str(p) for p in data.get("posts", [])])
    return Post(platform=v.platform, posts=posts, fields=dict(data.get("fields", {})))


def body_of(post: Post) -> str:
    return json.dumps({"posts": post.posts, "fields": post.fields}, ensure_ascii=False)


def check_post(
    post: Post, source: str | faithfulness.SourceFacts | None, options: dict
) -> tuple[list[Problem], list[dict]]:
    settings = dict(options.get("platform_settings") or {})
    problems = platforms.validate(post.platform, post, settings)
    flags: list[dict] = []
    if source:
        allowed = [options.get("link")] if options.get("link") else []
        flags = [
            {"kind": f.kind, "value": f.value, "message": f.message}
            for f in faithfulness.check(source, post.text, allowed_links=allowed)
        ]
    return problems, flags


def problems_as_dicts(problems: list[Problem], severity: str = "error") -> list[dict]:
    """Stored form of validator output: ``error`` breaks a platform rule (only a person's edit
    can leave one), ``tip`` is advice that never makes a post invalid."""
    return [
        {"code": p.code, "message": p.message, "part": p.part, "index": p.index, "severity": severity}
        for p in problems
    ]


# --- brand voices --------------------------------------------------------------------------------


def list_voices(s: Session, actor: Actor) -> list[BrandVoice]:
    rows = s.exec(select(BrandVoice).where(BrandVoice.workspace_id == actor.workspace_id)).all()
    return sorted(rows, key=lambda v: (v.name.casefold(), v.id))  # names are encrypted: sorted here


def save_voice(
    s: Session, actor: Actor, *, name: str, description: str, samples: list[str], voice_id: int | None = None
) -> BrandVoice:
    name = _clean_line(name, 100)
    if not name:
        raise ComposeError("Give the brand voice a name.", "voice_name")
    description = (description or "").strip()
    if len(description) > 2000:
        raise ComposeError("Keep the description under 2,000 characters.", "voice_description")
    clean = [x.strip() for x in samples if x and x.strip()][:10]
    if any(len(x) > 3000 for x in clean):
        raise ComposeError("Each sample post can be at most 3,000 characters.", "voice_samples")
    if voice_id:
        voice = s.get(BrandVoice, voice_id)
        if voice is None or voice.workspace_id != actor.workspace_id:
            raise NotFound("brand voice")
    else:
        ws = s.get(Workspace, actor.workspace_id)
        if len(list_voices(s, actor)) >= plan_for(ws.plan if ws else None).brand_voices:
            raise ComposeError("This plan's brand voices are all in use. Edit or delete one.", "voice_name")
        voice = BrandVoice(workspace_id=actor.workspace_id, name=name, created_by=actor.user_id)
    voice.name = name
    voice.description = description
    voice.samples = json.dumps(clean, ensure_ascii=False)
    s.add(voice)
    s.flush()
    return voice


def delete_voice(s: Session, actor: Actor, voice_id: int) -> None:
    voice = s.get(BrandVoice, voice_id)
    if voice is None or voice.workspace_id != actor.workspace_id:
        raise NotFound("brand voice")
    s.delete(voice)
