"""The offline engine: platform posts made from the source's own sentences, without a model.

It is the embedded default (no API key needed) and what the loopback Anthropic server
answers with. It is deterministic (the same source and options always give the same
variant), fast (a 2,000-word article takes milliseconds) and faithful by construction: every
sentence it writes is a sentence of the source, cut short with "…" at most. The only words it
adds are the user's own call to action and link, hashtags made from the source's frequent
words, thread numbers, emoji (per the emoji option), and a few short labels ("Read more",
"Key points") in the source's language when it knows that language (English, Spanish,
French, German, Portuguese, Italian, Dutch; none otherwise).

How it works: ``analyze`` cleans light Markdown, finds the title, the headings and the
sentences, and scores each sentence by position (the opening and the first sentence of a
paragraph weigh more), by how many of the article's frequent words it carries, by numbers,
and by length (very short and very long sentences weigh less; sentences that start by
pointing back, like "This means...", weigh less because they read badly alone). The hook is
the best short sentence, favouring a question or a number. Keywords (for hashtags) are the
frequent meaningful words and two-word phrases, with the title's words first.
``build_variant`` lays these out in each platform's format and checks the result with the
platform validator, repairing it when needed (it rarely is).

Language: the engine cannot translate. It writes in the source's language whatever
``Options.language`` asks for.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import regex

from omnipostr.repurpose import platforms as pf
from omnipostr.repurpose.engines.base import Delta, Done, Event, Failed, Options, Source, Usage
from omnipostr.repurpose.engines.prompting import render
from omnipostr.repurpose.platforms import text as ptext
from omnipostr.repurpose.variant import Variant

log = logging.getLogger(__name__)

MODEL = "omnipostr-offline-1"

# --- languages ------------------------------------------------------------------------------

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        """a about above after again against all almost also although always am among an
        and another any anyone anything are aren't around as at away back be became because
        become been before being below best better between both but by can can't cannot
        could couldn't did didn't do does doesn't doing don't done down during each either
        else enough even ever every everyone everything few first for from further get gets
        getting give given go goes going gone got had hadn't has hasn't have haven't having
        he her here hers herself him himself his how however i i'm if in into is isn't it
        it's its itself just keep know last less let let's like likely made make makes
        making many may maybe me might more most much must my myself need needs never new
        next no nor not nothing now of off often on once one only or other others our ours
        ourselves out over own part per perhaps put quite rather really right said same say
        says see seem seems several shall she should shouldn't show since so some someone
        something sometimes still such sure take than that that's the their theirs them
        themselves then there there's these they they're thing things think this those
        though through thus to too took toward under until up upon us use used uses using
        very via want was wasn't way ways we we're well were weren't what what's when where
        whether which while who whole whom whose why will with within without won't would
        wouldn't yet you you're your yours yourself yourselves lot lots kind sort able
        across along already anyway nobody everybody somebody anybody none one two three
        four five six seven eight nine ten hundred thousand second third""".split()
    ),
    "es": frozenset(
        """a al algo algunas algunos ante antes como con contra cual cuando de del desde donde
        durante e el ella ellas ellos en entre era es esa esas ese eso esos esta estaba
        estado estas este esto estos fue fueron ha hace hacer han hasta hay la las le les lo
        los mas más me mi mis mucho muy ni no nos nuestra nuestro o otra otro para pero poco
        por porque que qué se sea ser si sí sin sobre son su sus también tanto te tiene
        tienen todo todos tu tus un una uno unos y ya yo""".split()
    ),
    "fr": frozenset(
        """a à au aux avec avoir c ce ces cet cette comme d dans de des du elle elles en est et
        être eu il ils je l la le les leur leurs lui m ma mais me même mes moi mon n ne nos
        notre nous on ont ou où par pas pour plus qu que qui s sa sans se ses si son sont sur
        ta te tes toi ton tous tout toute toutes tu un une vos votre vous y été était""".split()
    ),
    "de": frozenset(
        """aber alle als also am an auch auf aus bei bin bis bist da damit dann das dass dem den
        der des die dies diese dieser dieses doch dort du durch ein eine einem einen einer
        eines er es für hat haben hatte ich ihr ihre im in ist ja jede jeder jedes kann kein
        keine mit muss nach nicht noch nur ob oder ohne sehr sein seine sich sie sind so über
        um und uns unser unter vom von vor war waren was weil wenn wer wie wir wird wo zu zum
        zur""".split()
    ),
    "pt": frozenset(
        """a ao aos as às com como da das de do dos e é ela elas ele eles em entre era essa esse
        esta este eu foi for há isso isto já la lhe mais mas me mesmo meu minha muito na não
        nas nem no nos nós o os ou para pela pelo por qual quando que quem se sem ser seu sua
        são também te tem têm um uma você""".split()
    ),
    "it": frozenset(
        """a ad al alla alle anche che chi ci come con da dal dalla dei del della delle di dove e
        è ed era gli ha hanno i il in io la le lei lo loro lui ma mi molto ne nei nel nella
        noi non o per più quando quella quello questa questo se si sia sono su sua sue suo
        sul sulla tra tu un una uno voi""".split()
    ),
    "nl": frozenset(
        """aan al als bij dan dat de den der des deze die dit door dus een en er geen had heb
        hebben heeft het hier hij hoe hun ik in is je kan maar me meer men met mij mijn na
        naar niet nog nu of om onder ons ook op over te tot u uit van veel voor want was wat
        we wel werd wie wij worden wordt zal ze zich zij zijn zo zou""".split()
    ),
}

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "read_more": "Read more",
        "full": "Read the full article",
        "key_points": "Key points",
        "link_in_bio": "Link in bio.",
    },
    "es": {
        "read_more": "Leer más",
        "full": "Lee el artículo completo",
        "key_points": "Puntos clave",
        "link_in_bio": "Enlace en la bio.",
    },
    "fr": {
        "read_more": "Lire la suite",
        "full": "Lire l’article complet",
        "key_points": "Points clés",
        "link_in_bio": "Lien en bio.",
    },
    "de": {
        "read_more": "Weiterlesen",
        "full": "Zum ganzen Artikel",
        "key_points": "Das Wichtigste",
        "link_in_bio": "Link in der Bio.",
    },
    "pt": {
        "read_more": "Leia mais",
        "full": "Leia o artigo completo",
        "key_points": "Pontos principais",
        "link_in_bio": "Link na bio.",
    },
    "it": {
        "read_more": "Leggi di più",
        "full": "Leggi l’articolo completo",
        "key_points": "Punti chiave",
        "link_in_bio": "Link in bio.",
    },
    "nl": {
        "read_more": "Lees meer",
        "full": "Lees het hele artikel",
        "key_points": "De kern",
        "link_in_bio": "Link in bio.",
    },
}

# Words too general to be a hashtag on their own (they may still be part of a phrase).
_GENERIC = frozenset(
    """work works worked working change changes changed people person thing things way ways
    time times day days week weeks month months year years kept keep started start stopped
    stop said told went came found felt called asked tried turned looked gave took made
    left help helped today tomorrow yesterday result results number numbers good great bad
    small large big little long short high low real really simply every nothing anything
    everything something problem problems idea ideas question questions answer case cases
    point points reason reasons example examples place places part parts group side end
    fact facts story stories post posts article articles
    gram grams kilogram kilograms minute minutes hour hours second seconds percent dollar
    dollars euro euros pound pounds meter meters metre metres mile miles
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday morning evening afternoon""".split()
)

# Sentences that open by pointing back read badly on their own.
_ANAPHORIC = frozenset(
    """this that these those it its they them he she his her but and so also however then
    which such here there both another other as or yet""".split()
)

# --- text analysis --------------------------------------------------------------------------

_WORD = regex.compile(r"\p{L}[\p{L}\p{M}\p{N}'’-]*")
_HAS_NUMBER = regex.compile(r"\d")
_FENCE = regex.compile(r"^\s*(```|~~~)")
_HEADING = regex.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_RULE = regex.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_BULLET = regex.compile(r"^\s*(?:[-*+•▪‣◦]|\d{1,3}[.)])\s+")
_QUOTE = regex.compile(r"^\s*>\s?")
_IMAGE = regex.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = regex.compile(r"\[([^\]]+)\]\([^)\s]+(?:\s+\"[^\"]*\")?\)")
_EMPHASIS = regex.compile(r"\*\*|__|`")
_TERMINAL = regex.compile(r"[.!?…。！？][\"'”’»)\]]*$")


@dataclass(frozen=True)
class Sentence:
    text: str
    index: int  # order in the document
    block: int  # which paragraph or list item it is in
    first_in_block: bool
    words: tuple[str, ...]  # its meaningful words, lower case
    has_number: bool
    question: bool
    list_item: bool
    anaphoric: bool
    score: float = 0.0


@dataclass(frozen=True)
class Analysis:
    title: str
    language: str  # "en", "es"... or "" when unknown
    sentences: tuple[Sentence, ...]  # every sentence, in order
    candidates: tuple[Sentence, ...]  # the ones fit to quote alone, in order
    keywords: tuple[str, ...]  # hashtag-ready words ("RemoteWork", "Python"), best first
    numbers: tuple[str, ...]  # figures the source states, in order
    headings: tuple[str, ...] = field(default=())
    headline: str = ""  # the source's own title when it reads as a hook (a number, a question)

    def hook(self, max_chars: int = 200, *, avoid: tuple[str, ...] = (), nth: int = 0) -> str:
        """The strongest short opening: a headline of the source's own, else its best short
        sentence, a question or a number favoured. ``nth`` takes the next-best instead (among
        the best three, in turn), for another take of the same post."""
        ranked: list[tuple[float, int, str]] = []
        if self.headline and self.headline not in avoid and ptext.utf16_length(self.headline) <= max_chars:
            ranked.append((float("inf"), 0, self.headline))
        for s in self.candidates:
            if s.text in avoid or s.text == self.headline or ptext.utf16_length(s.text) > max_chars:
                continue
            value = s.score
            value += 1.2 if s.question else 0.0
            value += 0.8 if s.has_number else 0.0
            value += 0.6 if s.index == self.candidates[0].index else 0.0
            value += 0.3 if len(s.text.split()) <= 20 else 0.0
            value -= 1.5 if s.anaphoric else 0.0
            value -= 0.5 if s.list_item else 0.0
            ranked.append((value, -s.index, s.text))
        if ranked:
            best = sorted(ranked, reverse=True)[:3]
            return best[nth % len(best)][2]
        pool = self.candidates or self.sentences
        first = next((s.text for s in pool if s.text not in avoid), "") or self.title
        return _trim(first, max_chars)

    def key_points(
        self, n: int, *, exclude: tuple[str, ...] = (), max_chars: int | None = None
    ) -> list[str]:
        """The ``n`` best sentences (not in ``exclude``), in the source's order."""
        pool = [
            s
            for s in self.candidates
            if s.text not in exclude
            and (max_chars is None or ptext.utf16_length(s.text) <= max_chars)
        ]
        ranked = sorted(pool, key=lambda s: (-s.score, s.index))[: max(0, n)]
        return [s.text for s in sorted(ranked, key=lambda s: s.index)]

    def hashtags(self, n: int) -> list[str]:
        return ["#" + k for k in self.keywords[: max(0, n)]]


def _clean_line(line: str) -> str:
    line = _IMAGE.sub("", line)
    line = _MD_LINK.sub(r"\1", line)
    line = _EMPHASIS.sub("", line)
    return " ".join(line.split())


@dataclass
class _Block:
    kind: str  # "heading", "para", "item"
    text: str


def _looks_like_heading(line: str, next_line: str | None) -> bool:
    """A short line without closing punctuation, standing alone or followed by a line that
    starts a sentence, is a heading (plain-text sources have no "#")."""
    words = line.split()
    if not words or len(words) > 12 or _TERMINAL.search(line) or line.endswith((":", ";", ",")):
        return False
    if next_line is None:
        return True
    starts = next_line[:1].isupper() or next_line[:1].isdigit()
    return starts and len(words) <= 10 and len(line) < 60


def _blocks(text: str) -> list[_Block]:
    """Paragraphs, list items and headings of a plain-text or light-Markdown source."""
    blocks: list[_Block] = []
    in_code = False
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(_Block("para", " ".join(paragraph)))
            paragraph.clear()

    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines: list[tuple[str, str]] = []  # (kind, cleaned text); kind "" = blank
    for raw in raw_lines:
        if _FENCE.match(raw):
            in_code = not in_code
            lines.append(("", ""))
            continue
        if in_code or _RULE.match(raw):
            lines.append(("", ""))
            continue
        m = _HEADING.match(raw)
        if m:
            lines.append(("heading", _clean_line(m.group(1))))
            continue
        line = _QUOTE.sub("", raw)
        if _BULLET.match(line):
            lines.append(("item", _clean_line(_BULLET.sub("", line, count=1))))
            continue
        cleaned = _clean_line(line)
        lines.append(("line" if cleaned else "", cleaned))

    for i, (kind, value) in enumerate(lines):
        if kind == "":
            flush()
        elif kind in ("heading", "item"):
            flush()
            blocks.append(_Block(kind, value))
        else:
            next_kind, next_value = lines[i + 1] if i + 1 < len(lines) else ("", "")
            at_boundary = not paragraph or _TERMINAL.search(paragraph[-1])
            if at_boundary and _looks_like_heading(
                value, next_value if next_kind == "line" else None
            ):
                flush()
                blocks.append(_Block("heading", value))
                continue
            paragraph.append(value)
    flush()
    return [b for b in blocks if b.text]


def _detect_language(tokens: list[str]) -> str:
    sample = tokens[:400]
    if not sample:
        return ""
    scores = {lang: sum(1 for w in sample if w in words) for lang, words in _STOPWORDS.items()}
    lang, hits = max(scores.items(), key=lambda kv: (kv[1], kv[0] == "en"))
    return lang if hits >= max(2, len(sample) // 12) else ""


def _norm_word(word: str) -> str:
    w = word.lower().replace("’", "'")
    for suffix in ("'s", "'"):
        if w.endswith(suffix):
            w = w[: -len(suffix)]
    return w.strip("'-")


def _tag_form(surfaces: Counter[str]) -> str:
    """How a word is written as part of a hashtag: its usual capitalised form."""
    form = max(surfaces.items(), key=lambda kv: (kv[1], kv[0]))[0]
    form = form.replace("’", "'")
    for suffix in ("'s", "'"):
        if form.lower().endswith(suffix):
            form = form[: -len(suffix)]
    parts = [p for p in regex.split(r"[^\w]+", form) if p]
    return "".join(p if any(c.isupper() for c in p) else p[:1].upper() + p[1:] for p in parts)


def _trim(text: str, max_chars: int) -> str:
    return ptext.trim_to_fit(text, lambda s: ptext.utf16_length(s) <= max_chars)


_NUMBER = regex.compile(
    r"(?<![\w.,])[$€£¥]?\d(?:[\d,.]*\d)?(?:\s?%|\s?(?:percent|million|billion|k)\b)?"
)


@functools.lru_cache(maxsize=32)
def analyze(title: str, text: str) -> Analysis:
    """Title, sentences (scored), keywords and numbers of a source."""
    blocks = _blocks(text)
    headings = [b.text for b in blocks if b.kind == "heading"]
    title = " ".join(title.split())
    if not title and blocks and blocks[0].kind == "heading":
        title = blocks[0].text

    all_tokens = [_norm_word(w) for w in _WORD.findall(text)]
    language = _detect_language(all_tokens)
    stop = _STOPWORDS.get(language, frozenset()) | _STOPWORDS["en"]

    raw: list[tuple[str, int, bool, bool]] = []  # text, block, first_in_block, list_item
    for b_index, block in enumerate(blocks):
        if block.kind == "heading":
            continue
        for s_index, sentence in enumerate(ptext.sentences(block.text)):
            raw.append((sentence, b_index, s_index == 0, block.kind == "item"))

    counts: Counter[str] = Counter()
    surfaces: dict[str, Counter[str]] = {}
    capitalised: Counter[str] = Counter()
    bigrams: Counter[tuple[str, str]] = Counter()
    sentence_words: list[tuple[str, ...]] = []
    # The title's words count once too (a heading is not a sentence, but it names the topic);
    # its words are capitalised by convention, so that says nothing about names.
    for k, (sentence, *_) in enumerate([(title,), *raw]):
        in_title = k == 0
        words = []
        previous: str | None = None
        previous_end = 0
        for i, m in enumerate(_WORD.finditer(sentence)):
            surface = m.group(0)
            w = _norm_word(surface)
            meaningful = len(w) >= 3 and w not in stop and not w.isdigit()
            if meaningful:
                words.append(w)
                counts[w] += 1
                surfaces.setdefault(w, Counter())[surface] += 1
                if i > 0 and surface[:1].isupper() and not in_title:
                    capitalised[w] += 1
                gap = sentence[previous_end : m.start()] if previous else ""
                if previous and gap.strip() == "":
                    bigrams[(previous, w)] += 1
                previous, previous_end = w, m.end()
            else:
                previous = None
        if not in_title:
            sentence_words.append(tuple(words))

    title_words = {_norm_word(w) for w in _WORD.findall(title)}
    heading_words = {_norm_word(w) for h in headings for w in _WORD.findall(h)}

    # Frequent words make a sentence central; the top ones carry the topic.
    top = {w for w, _ in counts.most_common(20) if counts[w] >= 2} | (title_words - stop)
    n = max(1, len(raw))
    sentences: list[Sentence] = []
    for index, ((sentence, block, first, item), words) in enumerate(
        zip(raw, sentence_words, strict=True)
    ):
        tokens = sentence.split()
        first_word = _norm_word(tokens[0]) if tokens else ""
        anaphoric = first_word in _ANAPHORIC or sentence[:1].islower()
        central = sum(1 for w in set(words) if w in top) / (len(set(words)) + 2) ** 0.5
        score = central
        score += 1.0 if index == 0 else 0.0
        score += 0.4 if first else 0.0
        score += 0.6 * (1 - index / n)
        score += 0.5 if _HAS_NUMBER.search(sentence) else 0.0
        length = len(tokens)
        if length < 6:
            score *= 0.4
        elif length < 9:
            score *= 0.75
        elif length > 40:
            score *= 0.5
        if anaphoric:
            score *= 0.7
        sentences.append(
            Sentence(
                text=sentence,
                index=index,
                block=block,
                first_in_block=first,
                words=words,
                has_number=bool(_HAS_NUMBER.search(sentence)),
                question=sentence.rstrip("\"'”’»)").endswith(("?", "？")),
                list_item=item,
                anaphoric=anaphoric,
                score=round(score, 6),
            )
        )

    seen: set[str] = set()
    candidates = []
    for s in sentences:
        key = " ".join(s.text.lower().split())
        if key in seen:
            continue
        seen.add(key)
        if ptext.find_links(s.text) or ptext.hashtags(s.text) or ptext.find_mentions(s.text):
            continue
        if len(s.text.split()) < 4 or s.text.endswith((":", ";", ",")):
            continue
        if not s.list_item and not _TERMINAL.search(s.text):
            continue
        candidates.append(s)

    # Keywords: two-word phrases that recur, then single words; title words first.
    scored: dict[str, float] = {}
    forms: dict[str, str] = {}
    for (a, b), c in bigrams.items():
        in_title = a in title_words and b in title_words
        title_phrase = in_title and a not in _GENERIC and b not in _GENERIC and min(len(a), len(b)) >= 4
        if (c >= 2 or title_phrase) and a != b and not (a in _GENERIC and b in _GENERIC):
            key = f"{a} {b}"
            scored[key] = c * 1.6 + 2.0 * ((a in title_words) + (b in title_words))
            forms[key] = _tag_form(surfaces[a]) + _tag_form(surfaces[b])
    merged: Counter[str] = Counter()
    for w, c in counts.items():
        singular = w[:-1] if w.endswith("s") and w[:-1] in counts else w
        merged[singular] += c
    for w, c in merged.items():
        if len(w) < 4 or w in _GENERIC or w.endswith("ly"):
            continue
        bonus = 2.5 if w in title_words else 0.0
        bonus += 1.0 if w in heading_words else 0.0
        bonus += 0.5 * min(capitalised[w], 4)
        # A title word must recur in the text, and a name must be seen twice: a verb of the
        # headline ("Slowing") or a person quoted once ("Chen") makes a poor hashtag.
        if (c >= 3 and len(w) >= 5) or (w in title_words and c >= 2) or capitalised[w] >= 2:
            scored[w] = c + bonus
            forms[w] = _tag_form(surfaces[w])
    keywords: list[str] = []
    used_words: set[str] = set()
    for key in sorted(scored, key=lambda k: (-scored[k], k)):
        parts = key.split()
        if any(p in used_words for p in parts):
            continue
        form = forms[key]
        if not regex.fullmatch(r"\w*[^\W\d_]\w*", form) or len(form) > 30:
            continue
        if form.lower() in {k.lower() for k in keywords}:
            continue
        keywords.append(form)
        used_words.update(parts)
        if len(keywords) >= 15:
            break

    numbers = tuple(dict.fromkeys(m.group(0).strip() for m in _NUMBER.finditer(text)))
    headline = title if _reads_as_headline(title, text) else ""
    if not title:
        first = next(iter(candidates or sentences), None)
        title = _trim(first.text, 90) if first else ""
    return Analysis(
        title=title,
        language=language,
        sentences=tuple(sentences),
        candidates=tuple(candidates),
        keywords=tuple(keywords),
        numbers=numbers,
        headings=tuple(headings),
        headline=headline,
    )


_HEADLINE_OPENERS = frozenset(
    "how why what when where who which cómo por qué comment pourquoi wie warum was como porque".split()
)


def _reads_as_headline(title: str, text: str) -> bool:
    """A title that promises something ("How we cut our bill by 43%", "Why your starter
    smells") opens a post better than any sentence. Only a title that is part of the text
    itself qualifies, so a hook is always a quote of the source."""
    words = title.split()
    if not 5 <= len(words) <= 20 or title not in " ".join(text.split()):
        return False
    opener = _norm_word(words[0])
    return bool(_HAS_NUMBER.search(title)) or title.endswith(("?", "？")) or opener in _HEADLINE_OPENERS


# --- building each platform's variant -------------------------------------------------------

_HOOK_EMOJI = {
    "x": "🧵",
    "threads": "🧵",
    "bluesky": "🧵",
    "mastodon": "📌",
    "linkedin": "💡",
    "facebook": "👉",
    "instagram": "✨",
    "tiktok": "🎬",
    "youtube_shorts": "🎬",
    "newsletter": "📬",
}
_POINT_EMOJI = ("✅", "👉", "🔹", "📌", "⚡")


@dataclass
class _Ctx:
    platform: pf.Platform
    options: Options
    an: Analysis
    settings: dict[str, int]

    @property
    def labels(self) -> dict[str, str]:
        return _LABELS.get(self.an.language, {})

    @property
    def emoji(self) -> str:
        return self.options.emoji if self.options.emoji in ("none", "some", "lots") else "some"

    def tags(self, want: int, part: str = "posts") -> list[str]:
        if not self.options.hashtags:
            return []
        platform = self.platform
        cap = platform.hashtag_cap(self.settings) if platform.hashtag_part == part else None
        if cap is None and part != "posts":
            cap = platform.field_spec(part).max_hashtags
        if cap is None:
            return []
        return self.an.hashtags(min(want, cap))

    def link_line(self, full: bool = False) -> str:
        if not self.options.link:
            return ""
        label = self.labels.get("full" if full else "read_more")
        icon = "🔗 " if self.emoji != "none" else ""
        return f"{icon}{label}: {self.options.link}" if label else f"{icon}{self.options.link}"

    def cta(self, links: bool = True) -> str:
        cta = " ".join(self.options.call_to_action.split())
        if cta and not links:
            cta = pf.remove_links(cta)
        return cta

    @property
    def take(self) -> int:
        return max(0, int(self.options.variation or 0))

    def point(self, text: str, i: int) -> str:
        if self.emoji == "lots":
            return f"{_POINT_EMOJI[(i + self.take) % len(_POINT_EMOJI)]} {text}"
        return text

    def hook_line(self, hook: str, where: str = "start") -> str:
        icon = _HOOK_EMOJI.get(self.platform.id, "")
        if self.emoji == "none" or not icon:
            return hook
        return f"{icon} {hook}" if where == "start" else f"{hook} {icon}"

    def fits(self, text: str) -> bool:
        return pf.fits(self.platform.id, text, self.settings)


def _size(n_candidates: int, lowest: int, highest: int) -> int:
    """How many key points to use for a source with ``n_candidates`` quotable sentences."""
    return max(lowest, min(highest, n_candidates // 4))


def _pack_posts(ctx: _Ctx, items: list[str], *, hook_alone: bool, merge: bool) -> list[str]:
    """Lay ``items`` out as thread posts that fit (with room for a "k/n" number)."""
    numbered = ctx.platform.numbered
    reserve = " 99/99" if numbered else ""

    def fits(s: str) -> bool:
        return ctx.fits(s + reserve)

    posts: list[str] = []
    for i, item in enumerate(items):
        item = item.strip()
        if not item:
            continue
        pieces = [item] if fits(item) else ptext.pack(ptext.split_units(item), fits)
        for piece in pieces:
            joined = f"{posts[-1]}\n\n{piece}" if posts else piece
            can_merge = posts and (merge or i == len(items) - 1) and fits(joined)
            if can_merge and not (hook_alone and len(posts) == 1):
                posts[-1] = joined
            else:
                posts.append(piece)
    if len(posts) == 1:
        return posts
    if numbered:
        posts = [f"{p} {k}/{len(posts)}" for k, p in enumerate(posts, 1)]
    return posts


def _thread(ctx: _Ctx) -> Variant:
    pid = ctx.platform.id
    an = ctx.an
    n = {
        "x": _size(len(an.candidates), 2, 6),
        "bluesky": _size(len(an.candidates), 2, 5),
        "threads": _size(len(an.candidates), 2, 4),
        "mastodon": _size(len(an.candidates), 1, 3),
    }.get(pid, 3)
    limit = pf.limit(pid, "posts", ctx.settings)
    hook = an.hook(max(40, min(200, limit - 20)), nth=ctx.take)
    points = an.key_points(n, exclude=(hook,))
    threaded = pid in ("x", "threads", "bluesky")  # their hook ends with the thread emoji
    first = ctx.hook_line(hook, where="end" if threaded else "start")
    items = [first, *(ctx.point(p, i) for i, p in enumerate(points))]
    closing = [c for c in (ctx.cta(), ctx.link_line()) if c]
    want = {"x": 2, "threads": 1, "bluesky": 2, "mastodon": 3}.get(pid, 2)
    tags = ctx.tags(want)
    if tags:
        closing.append(" ".join(tags))
    if closing:
        items.append("\n".join(closing))

    def pack(items_: list[str]) -> list[str]:
        return _pack_posts(ctx, items_, hook_alone=pid in ("x", "bluesky"), merge=pid not in ("x",))

    posts = pack(items)
    if tags and len(posts) > 1 and pf.strip_numbering(posts[-1]) == " ".join(tags):
        # The hashtags did not fit in the last post: a post of hashtags alone says nothing.
        posts = pack(items[:-1])
    if threaded and len(posts) == 1 and first != hook:
        # It all fits in one post: the thread emoji would promise a thread that is not there.
        posts = [posts[0].replace(first, hook, 1)]
    return Variant(platform=pid, posts=posts)


def _single(ctx: _Ctx, *, budget: int, points: int, tag_want: int, links: bool) -> Variant:
    """LinkedIn, Facebook and Instagram: a hook line, short paragraphs, the close, tags."""
    pid = ctx.platform.id
    an = ctx.an
    fold = ctx.platform.fold or 200
    hook = an.hook(min(fold, 200) - 4, nth=ctx.take)
    head = ctx.hook_line(hook)
    chosen = an.key_points(points, exclude=(hook,))
    closing = [c for c in (ctx.cta(links=links),) if c]
    if ctx.options.link:
        if links:
            closing.append(ctx.link_line())
        elif ctx.labels.get("link_in_bio"):
            closing.append(ctx.labels["link_in_bio"])
    tags = ctx.tags(tag_want)

    def compose(points_: list[str]) -> str:
        parts = [head, *(ctx.point(p, i) for i, p in enumerate(points_))]
        if closing:
            parts.append("\n".join(closing))
        if tags:
            parts.append(" ".join(tags))
        return "\n\n".join(parts)

    text = compose(chosen)
    while len(chosen) > 1 and (ptext.utf16_length(text) > budget or not ctx.fits(text)):
        # Drop the weakest point, keeping the source's order of the rest.
        ranked = {s.text: (s.score, -s.index) for s in an.candidates}
        chosen.remove(min(chosen, key=lambda p: ranked.get(p, (0.0, 0))))
        text = compose(chosen)
    return Variant(platform=pid, posts=[text])


def _script(ctx: _Ctx, hook: str, exclude: tuple[str, ...]) -> str:
    """A spoken script: the hook, then beats (one per paragraph) within the time limit."""
    pid = ctx.platform.id
    seconds = pf.limit(pid, "posts", ctx.settings)
    wpm = pf.setting(ctx.settings, "script_wpm")
    beats = [hook]
    cta = ctx.cta(links=False)
    ending = [cta] if cta else []
    for point in ctx.an.key_points(6, exclude=(hook, *exclude)):
        trial = "\n\n".join([*beats, point, *ending])
        if pf.estimate_duration_seconds(trial, wpm) <= seconds:
            beats.append(point)
    script = "\n\n".join([*beats, *ending])
    if pf.estimate_duration_seconds(script, wpm) > seconds:
        script = ptext.trim_to_fit(
            script, lambda s: pf.estimate_duration_seconds(s, wpm) <= seconds
        )
    return script


def _tiktok(ctx: _Ctx) -> Variant:
    an = ctx.an
    hook = an.hook(150, nth=ctx.take)
    script = _script(ctx, hook, ())
    lead = an.title if an.title and an.title != hook else an.key_points(1, exclude=(hook,))[:1]
    lead = lead if isinstance(lead, str) else (lead[0] if lead else hook)
    lead = _trim(pf.remove_links(lead), 150)
    if ctx.emoji != "none":
        lead = f"{_HOOK_EMOJI['tiktok']} {lead}"
    tags = ctx.tags(5, part="caption")
    caption = lead + ("\n\n" + " ".join(tags) if tags else "")
    return Variant(platform="tiktok", posts=[script], fields={"hook": hook, "caption": caption})


def _shorts(ctx: _Ctx) -> Variant:
    an = ctx.an
    title = _trim(an.title, 100) if an.title else _trim(an.hook(100), 100)
    hook = an.hook(200, avoid=(an.title,), nth=ctx.take)
    script = _script(ctx, hook, ())
    about = [s.text for s in an.candidates[:3] if s.text != hook][:2] or [hook]
    parts = [" ".join(about)]
    if ctx.options.link:
        parts.append(ctx.link_line())
    tags = []
    if ctx.options.hashtags:
        tags = ["#Shorts", *[t for t in ctx.tags(4, part="description") if t.lower() != "#shorts"]]
        tags = tags[: ctx.platform.field_spec("description").max_hashtags or 15]
        parts.append(" ".join(tags[:4]))
    description = "\n\n".join(p for p in parts if p)
    return Variant(
        platform="youtube_shorts",
        posts=[script],
        fields={"title": title, "description": description},
    )


def _newsletter(ctx: _Ctx) -> Variant:
    an = ctx.an
    subject = an.title if an.title and ptext.utf16_length(an.title) <= 100 else ""
    if not subject:
        subject = _trim(an.title or an.hook(60), 60)
    hook = an.hook(150, avoid=(subject,), nth=ctx.take)
    preview = hook
    intro_sentences = [s.text for s in an.candidates[:2] if s.text != hook]
    points = an.key_points(_size(len(an.candidates), 3, 6), exclude=(hook, *intro_sentences))
    body: list[str] = [" ".join([hook, *intro_sentences[:1]])]
    if points:
        label = ctx.labels.get("key_points")
        bullet_lines = []
        for i, p in enumerate(points):
            marker = _POINT_EMOJI[i % len(_POINT_EMOJI)] if ctx.emoji == "lots" else "-"
            bullet_lines.append(f"{marker} {p}")
        body.append(((label + ":\n") if label else "") + "\n".join(bullet_lines))
    closing = [c for c in (ctx.cta(), ctx.link_line(full=True)) if c]
    if closing:
        body.append("\n\n".join(closing))
    return Variant(
        platform="newsletter",
        posts=["\n\n".join(body)],
        fields={"subject": subject, "preview": preview},
    )


_BUILDERS: dict[str, Callable[[_Ctx], Variant]] = {
    "x": _thread,
    "threads": _thread,
    "bluesky": _thread,
    "mastodon": _thread,
    "linkedin": lambda c: _single(
        c, budget=1300, points=_size(len(c.an.candidates), 3, 6), tag_want=4, links=True
    ),
    "facebook": lambda c: _single(c, budget=480, points=2, tag_want=2, links=True),
    "instagram": lambda c: _single(
        c, budget=1000, points=_size(len(c.an.candidates), 2, 4), tag_want=5, links=False
    ),
    "tiktok": _tiktok,
    "youtube_shorts": _shorts,
    "newsletter": _newsletter,
}


class EmptySource(ValueError):
    pass


def build_variant(source: Source, platform_id: str, options: Options | None = None) -> Variant:
    """The offline variant of ``source`` for ``platform_id``; it passes the platform's
    validator. Raises ``UnknownPlatform`` or ``EmptySource``."""
    options = options or Options()
    platform = pf.get_platform(platform_id)
    an = analyze(source.title or "", source.text or "")
    if not an.sentences and not an.title:
        raise EmptySource("The source has no text to repurpose.")
    settings = dict(options.platform_settings or {})
    ctx = _Ctx(platform=platform, options=options, an=an, settings=settings)
    variant = _BUILDERS.get(platform.id, _thread if platform.thread else _generic)(ctx)
    if pf.validate(platform.id, variant, settings):
        variant = pf.repair(platform.id, variant, settings)
    return variant


def _generic(ctx: _Ctx) -> Variant:  # a platform added to the catalog later
    return _single(ctx, budget=1000, points=3, tag_want=3, links=ctx.platform.links_allowed)


# --- the engine -----------------------------------------------------------------------------


class OfflineEngine:
    """Streams the offline variant as text deltas, then ``Done``.

    ``delay`` (seconds between chunks) slows the stream down for demos; by default it runs
    as fast as it can. ``feedback`` is ignored: the offline output already passes the
    validator and only quotes the source.
    """

    name = "offline"
    model = MODEL

    def __init__(self, *, delay: float = 0.0, chunk_chars: int = 48) -> None:
        self.delay = max(0.0, delay)
        self.chunk_chars = max(1, chunk_chars)

    async def stream(
        self,
        source: Source,
        platform: str,
        options: Options,
        *,
        feedback: str | None = None,
    ) -> AsyncIterator[Event]:
        try:
            variant = await asyncio.to_thread(build_variant, source, platform, options)
        except pf.UnknownPlatform:
            yield Failed(reason=f"There is no platform called “{platform}”.", retryable=False)
            return
        except EmptySource as exc:
            yield Failed(reason=str(exc), retryable=False)
            return
        except Exception:
            log.exception("offline engine failed on %s", platform)
            yield Failed(reason="The offline writer could not make this post.", retryable=False)
            return
        raw = render(variant)
        for start in range(0, len(raw), self.chunk_chars):
            yield Delta(raw[start : start + self.chunk_chars])
            await asyncio.sleep(self.delay)
        yield Done(variant=variant, raw=raw, usage=Usage(), model=MODEL)
