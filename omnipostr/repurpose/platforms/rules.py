"""Measuring, validating, splitting and repairing variants against the platform rules."""

from __future__ import annotations

from collections.abc import Callable

import regex

from omnipostr.repurpose.platforms import text as t
from omnipostr.repurpose.platforms.catalog import (
    PLATFORMS,
    FieldSpec,
    LengthRule,
    Platform,
    Settings,
    setting,
)
from omnipostr.repurpose.variant import Problem, Variant


class UnknownPlatform(ValueError):
    pass


def get_platform(platform_id: str) -> Platform:
    try:
        return PLATFORMS[platform_id]
    except KeyError:
        raise UnknownPlatform(f"Unknown platform {platform_id!r}.") from None


# --- measuring ----------------------------------------------------------------------------


def measure(platform_id: str, text: str, settings: Settings = None, part: str = "posts") -> int:
    """Length of ``text`` in the unit of the platform's ``part`` (its posts by default, or a
    field such as "title")."""
    platform = get_platform(platform_id)
    if part == "posts":
        return platform.length_rules[0].measure(text, settings)
    return platform.field_spec(part).measure(text)


def limit(platform_id: str, part: str = "posts", settings: Settings = None) -> int:
    platform = get_platform(platform_id)
    if part == "posts":
        return platform.length_rules[0].limit_for(settings)
    return platform.field_spec(part).limit


def unit(platform_id: str, part: str = "posts") -> str:
    platform = get_platform(platform_id)
    if part == "posts":
        return platform.unit
    return platform.field_spec(part).unit


def _post_fits(platform: Platform, settings: Settings) -> Callable[[str], bool]:
    rules = [(rule, rule.limit_for(settings)) for rule in platform.length_rules]

    def fits(text: str) -> bool:
        return all(rule.measure(text, settings) <= lim for rule, lim in rules)

    return fits


def fits(platform_id: str, text: str, settings: Settings = None, part: str = "posts") -> bool:
    """Whether ``text`` is within every length limit of the platform's ``part``."""
    platform = get_platform(platform_id)
    if part == "posts":
        return _post_fits(platform, settings)(text)
    spec = platform.field_spec(part)
    return spec.measure(text) <= spec.limit


def estimate_duration_seconds(text: str, wpm: int = 150) -> int:
    return t.estimate_duration_seconds(text, wpm)


# --- thread numbering ---------------------------------------------------------------------

_MARK_END = regex.compile(r"[ \t]*\(?(\d{1,3})\s?/\s?(\d{1,3})\)?[ \t]*$")
_MARK_START = regex.compile(r"^[ \t]*\(?(\d{1,3})/(\d{1,3})\)?[ \t]+")


def numbering(post: str) -> tuple[int, int] | None:
    """The "k/n" number of a thread post (at its end or its start), if it has one."""
    text = post.strip()
    for pattern in (_MARK_END, _MARK_START):
        m = pattern.search(text)
        if m:
            k, n = int(m.group(1)), int(m.group(2))
            if 1 <= k <= n:
                return k, n
    return None


def strip_numbering(post: str) -> str:
    text = post.strip()
    for pattern in (_MARK_END, _MARK_START):
        m = pattern.search(text)
        if m and 1 <= int(m.group(1)) <= int(m.group(2)):
            return (text[: m.start()] + text[m.end() :]).strip()
    return text


def bare(platform_id: str, posts: list[str]) -> list[str]:
    """A thread's posts without typed numbers, where the platform numbers its threads: the
    app draws "k/n" beside each post and adds it when the thread is copied, exported or
    published, so a number in the text would be counted, edited and published twice. Typed
    numbers go when most posts carry one (a thread numbered by hand or by a model, perhaps
    before posts were moved), or when a post's number is its own place; "24/7" stays."""
    platform = get_platform(platform_id)
    if not platform.numbered or len(posts) < 2:
        return list(posts)
    marks = [numbering(p) for p in posts]
    count = len(posts)
    most = sum(1 for m in marks if m) * 2 > count
    return [
        strip_numbering(p) if m and (most or m == (i + 1, count)) else p
        for i, (p, m) in enumerate(zip(posts, marks, strict=True))
    ]


def thread_marks(platform_id: str, count: int) -> list[str]:
    """The numbers the app draws beside a thread's posts ("1/5", "2/5" ...), or "" for
    each post where the platform does not number threads or there is a single post."""
    if count < 2 or not get_platform(platform_id).numbered:
        return [""] * count
    return [f"{k}/{count}" for k in range(1, count + 1)]


def outgoing(platform_id: str, posts: list[str]) -> list[str]:
    """The posts as they are copied, exported and published: on a platform that numbers its
    threads each post of a thread ends in its "k/n", in the platform's style."""
    texts = bare(platform_id, posts)
    return [
        f"{p.rstrip()} {mark}" if mark and p.strip() else p
        for p, mark in zip(texts, thread_marks(platform_id, len(texts)), strict=True)
    ]


def renumber(posts: list[str]) -> list[str]:
    """A numbered thread numbered again after posts were added, removed or reordered: each
    post's "k/n" replaced by its place, where the thread keeps its numbers (at the end, or at
    the start). A thread without numbers, or a single post, is returned as it is."""
    marked = [p for p in posts if numbering(p)]
    if len(posts) < 2 or not marked:
        return list(posts)
    at_start = _MARK_START.search(marked[0].strip()) is not None and not _MARK_END.search(marked[0].strip())
    n = len(posts)
    out = []
    for k, post in enumerate(posts, 1):
        bare = strip_numbering(post)
        if not bare:
            out.append(bare)
        elif at_start:
            out.append(f"{k}/{n} {bare}")
        else:
            out.append(f"{bare} {k}/{n}")
    return out


# --- validating ---------------------------------------------------------------------------


def _subject(platform: Platform, index: int, count: int) -> str:
    if platform.thread and count > 1:
        return f"Post {index + 1}"
    return f"The {platform.post_noun}"


def _allows(platform: Platform, rule: LengthRule, settings: Settings) -> str:
    if rule.setting and (settings or {}).get(rule.setting) is not None:
        owner = "server" if platform.id == "mastodon" else "account"
        return f"your {platform.name} {owner} allows"
    return f"{platform.name} allows"


def _length_problem(
    platform: Platform, rule: LengthRule, n: int, lim: int, who: str, index: int, settings: Settings
) -> Problem:
    if rule.noun == "seconds":
        wpm = setting(settings, "script_wpm")
        message = (
            f"{who} runs about {t.fmt(n)} seconds read aloud at {wpm} words a minute; "
            f"the {platform.name} script is set to {t.fmt(lim)} seconds."
        )
    else:
        message = (
            f"{who} is {t.fmt(n)} {rule.noun}; {_allows(platform, rule, settings)} {t.fmt(lim)}."
        )
    return Problem(code="too_long", message=message, part="posts", index=index)


def _hashtag_problem(
    platform: Platform, who: str, n: int, cap: int, part: str, index: int | None
) -> Problem:
    tags = "hashtag" if n == 1 else "hashtags"
    if cap == 0:
        rest = f"hashtags are turned off for {platform.name}."
    elif platform.id == "threads":
        rest = "Threads takes one topic tag per post."
    else:
        rest = f"{platform.name} works best with at most {cap}."
    return Problem(
        code="too_many_hashtags", message=f"{who} has {n} {tags}; {rest}", part=part, index=index
    )


def _link_problem(
    platform: Platform, who: str, links: list[str], part: str, index: int | None
) -> Problem:
    shown = ", ".join(links[:3]) + (", …" if len(links) > 3 else "")
    what = "a link" if len(links) == 1 else f"{len(links)} links"
    pronoun = "it" if len(links) == 1 else "them"
    if platform.format == "script" and part == "posts":
        reason = "a spoken script cannot carry a link"
    else:
        where = "captions" if platform.format in {"caption", "script"} else "posts"
        reason = f"links are not clickable in {platform.name} {where}"
    return Problem(
        code="link_not_allowed",
        message=f"{who} contains {what} ({shown}); {reason}, so leave {pronoun} out.",
        part=part,
        index=index,
    )


def _unique_links(text: str) -> list[str]:
    seen: dict[str, str] = {}
    for link in t.find_links(text):
        seen.setdefault(link.url.lower().rstrip("/"), link.url)
    return list(seen.values())


def _check_text_part(
    platform: Platform,
    text: str,
    who: str,
    part: str,
    index: int | None,
    cap: int | None,
    links_allowed: bool,
    max_links: int | None,
) -> list[Problem]:
    problems: list[Problem] = []
    if cap is not None:
        n = len(t.hashtags(text))
        if n > cap:
            problems.append(_hashtag_problem(platform, who, n, cap, part, index))
    links = _unique_links(text)
    if links and not links_allowed:
        problems.append(_link_problem(platform, who, links, part, index))
    elif max_links is not None and len(links) > max_links:
        problems.append(
            Problem(
                code="too_many_links",
                message=(
                    f"{who} has {len(links)} links; {platform.name} allows at most "
                    f"{max_links} per post."
                ),
                part=part,
                index=index,
            )
        )
    return problems


def _check_numbering(platform: Platform, posts: list[str]) -> list[Problem]:
    marks = [numbering(p) for p in posts]
    if len(posts) < 2 or not any(marks):
        return []
    problems = []
    count = len(posts)
    for i, mark in enumerate(marks):
        if mark is None:
            message = f"Post {i + 1} has no number, but the other posts are numbered."
        elif mark != (i + 1, count):
            message = (
                f"Post {i + 1} is numbered {mark[0]}/{mark[1]}, but it is post {i + 1} of {count}."
            )
        else:
            continue
        problems.append(Problem(code="numbering", message=message, part="posts", index=i))
    return problems


def validate(platform_id: str, variant: Variant, settings: Settings = None) -> list[Problem]:
    """Everything that keeps ``variant`` from being posted on the platform, as sentences a
    user understands. An empty list means the variant is valid."""
    platform = get_platform(platform_id)
    problems: list[Problem] = []
    posts = list(variant.posts)
    count = len(posts)

    if not any(p.strip() for p in posts):
        message = (
            "The thread has no posts."
            if platform.thread and count == 0
            else f"The {platform.post_noun} is empty."
        )
        problems.append(Problem(code="empty", message=message, part="posts", index=None))
    elif not platform.thread and count > 1:
        problems.append(
            Problem(
                code="not_a_thread",
                message=(
                    f"{platform.name} takes a single {platform.post_noun}, but this variant "
                    f"has {count}."
                ),
                part="posts",
                index=None,
            )
        )

    cap = platform.hashtag_cap(settings) if platform.hashtag_part == "posts" else None
    rules = [(rule, rule.limit_for(settings)) for rule in platform.length_rules]
    if any(p.strip() for p in posts):
        posts = bare(platform.id, posts)
        # a post is measured as it is published: with the number the app adds to it
        sent = outgoing(platform.id, posts)
        marks = thread_marks(platform.id, count)
        for i, post in enumerate(posts):
            who = _subject(platform, i, count)
            if not post.strip():
                problems.append(
                    Problem(code="empty", message=f"{who} is empty.", part="posts", index=i)
                )
                continue
            for rule, lim in rules:
                n = rule.measure(sent[i], settings)
                if n > lim:
                    said = f"{who} with its number {marks[i]}" if marks[i] else who
                    problems.append(_length_problem(platform, rule, n, lim, said, i, settings))
            problems.extend(
                _check_text_part(
                    platform, post, who, "posts", i, cap, platform.links_allowed, platform.max_links
                )
            )
        if platform.thread and not platform.numbered:
            # numbers typed by hand on a platform whose threads the app does not number
            problems.extend(_check_numbering(platform, posts))

    for spec in platform.fields:
        value = (variant.fields.get(spec.name) or "").strip()
        who = f"The {spec.label}"
        if not value:
            if spec.required:
                problems.append(
                    Problem(code="missing_field", message=f"{who} is missing.", part=spec.name)
                )
            continue
        n = spec.measure(value)
        if n > spec.limit:
            problems.append(
                Problem(
                    code="too_long",
                    message=f"{who} is {t.fmt(n)} characters; {platform.name} allows {t.fmt(spec.limit)}.",
                    part=spec.name,
                )
            )
        if bad := [c for c in dict.fromkeys(value) if c in spec.forbidden]:
            shown = " and ".join(f"“{c}”" for c in bad)
            problems.append(
                Problem(
                    code="forbidden_character",
                    message=f"{who} has {shown}; {platform.name} does not allow {shown} in a {spec.label}.",
                    part=spec.name,
                )
            )
        field_cap = platform.hashtag_cap(settings) if platform.hashtag_part == spec.name else None
        if field_cap is None:
            field_cap = spec.max_hashtags
        problems.extend(
            _check_text_part(
                platform, value, who, spec.name, None, field_cap, spec.links_allowed, None
            )
        )

    for check in platform.checks:
        problems.extend(check(platform, variant, settings))
    return problems


def advise(platform_id: str, variant: Variant, settings: Settings = None) -> list[Problem]:
    """Softer suggestions that do not make a variant invalid (a long subject line, a long
    Facebook post)."""
    platform = get_platform(platform_id)
    advice: list[Problem] = []
    if platform.recommended_length:
        for i, post in enumerate(variant.posts):
            n = t.utf16_length(post.strip())
            if n > platform.recommended_length:
                advice.append(
                    Problem(
                        code="long_post",
                        message=(
                            f"{_subject(platform, i, len(variant.posts))} is {t.fmt(n)} characters; "
                            f"{platform.name} posts under about {platform.recommended_length} "
                            "characters tend to do better."
                        ),
                        part="posts",
                        index=i,
                    )
                )
    for spec in platform.fields:
        value = (variant.fields.get(spec.name) or "").strip()
        if spec.advise_above and value:
            n = spec.measure(value)
            if spec.advise_above < n <= spec.limit:
                advice.append(
                    Problem(
                        code=f"long_{spec.name}",
                        message=(
                            f"The {spec.label} is {t.fmt(n)} characters; many inboxes cut it "
                            f"after about {spec.advise_above}."
                        ),
                        part=spec.name,
                    )
                )
    return advice


# --- splitting ----------------------------------------------------------------------------


def split_thread(
    platform_id: str, text: str, settings: Settings = None, numbered: bool = True
) -> list[str]:
    """Cut ``text`` into a thread whose every post is within the platform's limits.

    Posts break between sentences; a sentence longer than a post breaks between words, and
    a single word longer than a post between characters. With ``numbered`` each post of a
    thread of two or more keeps room for the " k/n" it is given when it goes out (see
    ``outgoing``); the posts come back without it.
    """
    platform = get_platform(platform_id)
    if not platform.thread:
        raise ValueError(f"{platform.name} does not take threads.")
    fits_post = _post_fits(platform, settings)
    text = text.strip()
    if not text:
        return []
    if fits_post(text):
        return [text]
    units = t.split_units(text)
    if not numbered:
        return t.pack(units, fits_post)
    # Start from the number of digits the thread will probably need, so long texts are
    # packed once rather than once per digit count.
    rule = platform.length_rules[0]
    estimate = -(-rule.measure(text, settings) // max(1, rule.limit_for(settings)))
    digits = len(str(max(1, estimate)))
    while True:
        reserve = " " + "9" * digits + "/" + "9" * digits
        chunks = t.pack(units, lambda s, r=reserve: fits_post(s + r))
        if len(chunks) < 10**digits:
            break
        digits += 1
    return chunks


# --- repairing ----------------------------------------------------------------------------

_CONNECTOR_AT_END = regex.compile(r"[ \t]*(?:[:→👉➡⇒]|->|\uFE0F)+[ \t]*$", regex.MULTILINE)
_EMPTY_BRACKETS = regex.compile(r"\(\s*\)|\[\s*\]|<\s*>")
_SPACE_BEFORE_PUNCT = regex.compile(r"[ \t]+([.,;:!?])")
# A short line that only introduces the link after it: "Read more:", "👉 Full post →".
_CTA = (
    r"(?:read|learn|see|find|get|download|watch|listen|sign|register|join|subscribe|check|"
    r"more|full|details|link|links|source|via|here|click|tap|visit|try|start|grab|book|"
    r"original|article|post|blog|story)"
)
_LEAD_IN = regex.compile(
    r"[ \t]*(?:[^\w\s]+[ \t]*)?" + _CTA + r"\b[^.!?\n]{0,40}?[ \t]*(?:[:→👉➡⇒]|->)\uFE0F?[ \t]*"
    r"|[ \t]*",
    regex.IGNORECASE,
)


def _tidy(text: str) -> str:
    text = _EMPTY_BRACKETS.sub("", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = regex.sub(r"[ \t]{2,}", " ", text)
    text = regex.sub(r"[ \t]+$", "", text, flags=regex.MULTILINE)
    text = regex.sub(r"^[ \t]+", "", text, flags=regex.MULTILINE)
    text = regex.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def remove_links(text: str, keep: int = 0) -> str:
    """``text`` without its links (all of them, or all after the first ``keep`` distinct
    ones), with dangling "→" or ":" lead-ins and empty brackets tidied away."""
    links = t.find_links(text)
    if not links:
        return text
    kept: set[str] = set()
    out = text
    drop = []
    for link in links:
        key = link.url.lower().rstrip("/")
        if key in kept or len(kept) < keep:
            kept.add(key)
            continue
        drop.append(link)
    if not drop:
        return text
    for link in reversed(drop):
        line_start = out.rfind("\n", 0, link.start) + 1
        line_end = out.find("\n", link.end)
        line_end = len(out) if line_end < 0 else line_end
        before, after = out[line_start : link.start], out[link.end : line_end]
        if _LEAD_IN.fullmatch(before) and not regex.search(r"[\p{L}\p{N}]", after):
            # "Read the full post: <link>" says nothing once the link is gone.
            if line_end < len(out):
                out = out[:line_start] + out[line_end + 1 :]
            else:
                out = out[: max(line_start - 1, 0)]
        else:
            out = out[: link.start] + out[link.end :]
    out = _CONNECTOR_AT_END.sub("", out)
    return _tidy(out)


def _is_tag_block(text: str, match: regex.Match[str]) -> bool:
    """Whether a hashtag stands in a run of tags closing its line (rather than inside a
    sentence, where only its "#" should go)."""
    line_end = text.find("\n", match.end())
    after = text[match.end() : line_end if line_end >= 0 else len(text)]
    if not regex.fullmatch(r"(?:\s*[#＃]\w+)*[\s\p{P}\p{S}]*", after):
        return False
    line_start = text.rfind("\n", 0, match.start()) + 1
    before = regex.sub(r"(?:[#＃]\w+\s*)*$", "", text[line_start : match.start()]).rstrip()
    return not before or regex.search(r"[.!?…:)\]\p{So}\p{Sk}\uFE0F]$", before) is not None


def cap_hashtags(text: str, cap: int) -> str:
    """Keep the first ``cap`` hashtags. Extra tags in a closing block of tags are dropped;
    an extra tag inside a sentence loses only its "#" so the sentence still reads."""
    found = t.find_hashtags(text)
    if len(found) <= cap:
        return text
    out = text
    for m in reversed(found[cap:]):
        if _is_tag_block(out, m):
            out = out[: m.start()] + out[m.end() :]
        else:
            out = out[: m.start()] + out[m.start() + 1 :]
    return _tidy(out)


def split_tag_block(text: str) -> tuple[str, str]:
    """Separate a closing line made only of hashtags from the rest of the text."""
    text = text.strip()
    lines = text.split("\n")
    last = lines[-1].strip()
    if len(lines) > 1 and last and regex.fullmatch(r"(?:[#＃]\w+[\s,]*)+", last):
        return "\n".join(lines[:-1]).strip(), last
    return text, ""


def _fix_hook(text: str, fold: int) -> str:
    """Break the first line before the fold: after the last whole sentence that fits, else
    after a clause, else between words."""
    lines = text.split("\n")
    index = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if index is None:
        return text
    line = lines[index].strip()
    if t.utf16_length(line) <= fold:
        return text
    units = t.split_units(line)
    k = t.largest_prefix(
        len(units), lambda k: k == 0 or t.utf16_length(t.join_units(units[:k])) <= fold
    )
    if k > 0:
        head, tail = t.join_units(units[:k]), t.join_units(units[k:])
    else:
        head = ""
        for m in regex.finditer(r"[,;:—–](?=\s)", line):
            if t.utf16_length(line[: m.end()]) <= fold:
                head = line[: m.end()]
        if not head:
            words = line.split()
            n = t.largest_prefix(
                len(words), lambda n: n == 0 or t.utf16_length(" ".join(words[:n])) <= fold
            )
            if n == 0:
                clusters = t.graphemes(line)
                g = t.largest_prefix(
                    len(clusters), lambda g: t.utf16_length("".join(clusters[:g])) <= fold
                )
                head = "".join(clusters[:g])
            else:
                head = " ".join(words[:n])
        tail = line[len(head) :].strip()
    lines[index] = head.strip() + ("\n\n" + tail if tail else "")
    return "\n".join(lines)


# What a refused character becomes: arrows and comparisons keep their meaning, and a lone
# angle bracket takes its full-width form, which platforms accept and readers read the same.
_REPLACEMENTS = (("<->", "↔"), ("->", "→"), ("<-", "←"), ("=>", "⇒"), ("<=", "≤"), (">=", "≥"),
                 ("<", "＜"), (">", "＞"))


def replace_forbidden(value: str, forbidden: str) -> str:
    """``value`` without the characters in ``forbidden``, each replaced by what reads the same."""
    if not forbidden or not any(c in value for c in forbidden):
        return value
    for old, new in _REPLACEMENTS:
        if any(c in old for c in forbidden):
            value = value.replace(old, new)
    return "".join(c for c in value if c not in forbidden)


def _derive(spec: FieldSpec, body: str) -> str:
    """Fill a missing field from the body: the opening sentence (or what follows it),
    within the length the field aims at."""
    source, _tags = split_tag_block(body)
    if not spec.links_allowed:
        source = remove_links(source)
    units = t.split_units(source)
    if not units:
        return ""
    target = min(spec.derive_chars or spec.limit, spec.limit)

    def fits_field(s: str) -> bool:
        return spec.measure(s) <= target

    if spec.name in {"title", "subject", "hook"}:
        return t.trim_to_fit(units[0].text, fits_field)
    if spec.derive_from == "second" and len(units) > 1:
        return t.trim_to_fit(t.join_units(units[1:]), fits_field)
    return t.trim_to_fit(t.join_units(units), fits_field)


def _fix_post_text(platform: Platform, text: str, settings: Settings) -> str:
    if not platform.links_allowed:
        text = remove_links(text)
    elif platform.max_links is not None:
        text = remove_links(text, keep=platform.max_links)
    if platform.hashtag_part == "posts":
        cap = platform.hashtag_cap(settings)
        if cap is not None:
            text = cap_hashtags(text, cap)
    return text


_RESPLIT = {"too_long", "empty", "numbering"}


def repair(platform_id: str, variant: Variant, settings: Settings = None) -> Variant:
    """A valid version of ``variant``, made without any model: threads are re-split,
    over-long text is cut at a sentence boundary, extra hashtags and forbidden links are
    removed, and missing fields are filled from the body. The same input always gives the
    same output; a valid variant comes back unchanged."""
    platform = get_platform(platform_id)
    if not validate(platform.id, variant, settings):
        return Variant(platform=platform.id, posts=list(variant.posts), fields=dict(variant.fields))

    posts = [p.strip() for p in bare(platform.id, variant.posts) if p and p.strip()]
    typed_numbers = not platform.numbered and len(posts) > 1 and any(numbering(p) for p in posts)
    fields = {k: (v or "").strip() for k, v in variant.fields.items()}
    body = "\n\n".join(strip_numbering(p) if len(posts) > 1 else p for p in posts)
    if not platform.links_allowed:
        body = remove_links(body)
    if not body.strip():
        body = "\n\n".join(fields[f.name] for f in platform.fields if fields.get(f.name))
        if not platform.links_allowed:
            body = remove_links(body)
    if not body.strip():
        raise ValueError(f"The {platform.name} variant has no text to repair.")

    for spec in platform.fields:
        value = fields.get(spec.name, "")
        if not spec.links_allowed:
            value = remove_links(value)
        if not value:
            value = _derive(spec, body)
        value = replace_forbidden(value, spec.forbidden)
        cap = platform.hashtag_cap(settings) if platform.hashtag_part == spec.name else None
        cap = spec.max_hashtags if cap is None else cap
        if cap is not None:
            value = cap_hashtags(value, cap)
        value = t.trim_to_fit(value, lambda s, spec=spec: spec.measure(s) <= spec.limit)
        fields[spec.name] = value

    fits_post = _post_fits(platform, settings)
    if platform.thread:
        fixed = [_fix_post_text(platform, p, settings) for p in posts]
        fixed = [p for p in fixed if p.strip()]
        check = validate(platform.id, Variant(platform.id, fixed, fields), settings)
        if not fixed or any(p.part == "posts" and p.code in _RESPLIT for p in check):
            joined = "\n\n".join(strip_numbering(p) for p in fixed) or body
            fixed = split_thread(
                platform.id, joined, settings, numbered=platform.numbered or typed_numbers
            )
            fixed = [_fix_post_text(platform, p, settings) for p in fixed]
            if typed_numbers and len(fixed) > 1:  # the author numbered the thread: so do we
                fixed = [f"{p} {k}/{len(fixed)}" for k, p in enumerate(fixed, 1)]
        posts = fixed
    else:
        text = _fix_post_text(platform, body, settings)
        if platform.fold:
            text = _fix_hook(text, platform.fold)
        main, tags = split_tag_block(text)
        suffix = "\n\n" + tags if tags else ""
        trimmed = t.trim_to_fit(main, lambda s: fits_post(s + suffix)) if main else ""
        posts = [trimmed + suffix if trimmed else t.trim_to_fit(text, fits_post)]

    result = Variant(platform=platform.id, posts=posts, fields=fields)
    remaining = validate(platform.id, result, settings)
    if remaining:
        raise RuntimeError(
            f"Could not repair the {platform.name} variant: "
            + " ".join(p.message for p in remaining)
        )
    return result
