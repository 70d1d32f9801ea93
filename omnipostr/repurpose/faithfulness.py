"""Does a variant say only what its source says?

``check`` compares a generated variant with its source and flags four kinds of claims the
source does not back:

- numbers: figures, percentages, money, years, multipliers ("3x"), ordinals. "1,200" and
  "1200" are the same number, "$1.2M" and "1.2 million" too; spelled-out numbers in the
  source ("three", "twenty-five", "a dozen", "twice") back digits in the variant; a rounded
  figure backs itself ("48%" for a source's "47.8%"); thread numbers ("2/5") and list
  markers ("1.") are not claims.
- names: capitalised words and runs of them ("Jane Doe", "Bank of America", "OpenAI")
  that the source never uses, in any case. The first word of a sentence, common sentence
  openers, the product's own boilerplate ("Thread", "Follow"), weekdays and months are not
  names; words in a Title Case line (a headline) count only when oddly cased ("iPhone",
  "NASA", "GPT-4"), since a headline capitalises ordinary words.
- quotes: text in quotation marks that does not appear in the source word for word
  (case, punctuation, quote styles and whitespace aside; "…" may skip words).
- links: URLs and domains the source does not contain, unless given in ``allowed_links``
  (for example the link back to the original).

The checks are tuned for English and for precision: a normal rewrite of an article should
raise no flag.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

import regex

from omnipostr.repurpose.platforms.text import find_links

FlagKind = Literal["number", "name", "quote", "link"]


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    value: str
    message: str


# --- shared -------------------------------------------------------------------------------

_EMAIL = regex.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MENTION = regex.compile(r"(?<![\w@])@\w+(?:@[\w.-]+)?")
_HASHTAG = regex.compile(r"(?<![\w#&])[#＃]\w+")


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


_BEAT_TIME = regex.compile(r"\[\d{1,2}:\d{2}\]")


def _mask_entities(text: str) -> str:
    """Blank out links, e-mail addresses, @mentions, #hashtags and a script's beat times
    ("[0:05]", a stage direction) (keeping offsets)."""
    spans = [(link.start, link.end) for link in find_links(text)]
    spans += [m.span() for m in _EMAIL.finditer(text)]
    spans += [m.span() for m in _BEAT_TIME.finditer(text)]
    text = _blank(text, spans)
    spans = [m.span() for m in _MENTION.finditer(text)]
    spans += [m.span() for m in _HASHTAG.finditer(text)]
    return _blank(text, spans)


# --- numbers ------------------------------------------------------------------------------

_SCALE_WORDS = {
    "thousand": Decimal(10**3),
    "million": Decimal(10**6),
    "billion": Decimal(10**9),
    "trillion": Decimal(10**12),
}
_SCALE_LETTERS = {
    "k": Decimal(10**3),
    "m": Decimal(10**6),
    "mn": Decimal(10**6),
    "mm": Decimal(10**6),
    "b": Decimal(10**9),
    "bn": Decimal(10**9),
    "t": Decimal(10**12),
    "tn": Decimal(10**12),
}
_NUMBER = regex.compile(
    r"""
    (?<![\w.,/]|[^\W\d_]-)
    (?P<cur>[$€£¥₹])?
    (?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
    (?:
        (?P<pct>\s?%|\s?per\s?cent\b|\s?percent\b)
      | (?P<mult>[x×])(?!\w)
      | \s?(?P<word>thousand|million|billion|trillion)\b
      | (?P<scale>k|K|m|M|mn|MM|bn|B|b|tn|T)(?!\w)
      | (?P<ord>st|nd|rd|th)\b
      | (?P<decade>s)\b
      | (?P<ampm>\s?[ap]\.?m\.?)(?!\w)
      | (?P<glued>[^\W\d_][\w]*)
    )?
    """,
    regex.VERBOSE,
)
_RATIO = regex.compile(r"(?<![\w/:.])\d+(?:[/:]\d+)+(?![\w/:])")
_KEYCAP = regex.compile(r"[0-9#*]\uFE0F?\u20E3")
_THREAD_MARK = regex.compile(
    r"(?:^[ \t]*\(?(\d{1,3})\s?/\s?(\d{1,3})?\)?(?=[ \t]|$)"
    r"|[ \t]\(?(\d{1,3})\s?/\s?(\d{1,3})\)?[ \t]*$)",
    regex.MULTILINE,
)


def _blank_thread_mark(m: regex.Match[str]) -> str:
    """Blank "2/5" (or a leading "1/") when it numbers a thread post; "24/7" stays."""
    k = int(m.group(1) or m.group(3))
    n = m.group(2) or m.group(4)
    if n is not None and not 1 <= k <= int(n):
        return m.group(0)
    return " " * len(m.group(0))


_ENUMERATOR = regex.compile(
    r"^[ \t]*(?:[-•*▪►]\s*)?"
    r"(?:(?:step|tip|part|lesson|no\.?|#)\s*\d{1,2}[.):\-–—]?|\(?\d{1,2}[.):\-–—])(?=\s)",
    regex.MULTILINE | regex.IGNORECASE,
)

_ONES = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
    "twentieth": 20, "hundredth": 100, "dozen": 12, "once": 1, "twice": 2, "double": 2,
    "doubled": 2, "doubles": 2, "triple": 3, "tripled": 3, "triples": 3, "quadruple": 4,
    "quadrupled": 4, "half": 0.5, "halved": 0.5, "quarter": 0.25, "single": 1,
}  # fmt: skip
_FOLD = regex.compile(r"^(two|three|four|five|six|seven|eight|nine|ten|hundred)fold$")
_EXTRA_VALUES = {"half": (50,), "halved": (50,), "quarter": (25,)}


@dataclass(frozen=True)
class _Number:
    text: str
    readings: tuple[tuple[Decimal, Decimal], ...]
    """(value, place value of its last written digit) for each way to read it: one, or
    two for an ambiguous "5m" (5 million or 5 metres)."""

    @property
    def values(self) -> tuple[Decimal, ...]:
        return tuple(value for value, _ in self.readings)


def _decimal(s: str) -> Decimal | None:
    try:
        return Decimal(s.replace(",", ""))
    except InvalidOperation:
        return None


def _numbers(text: str) -> tuple[list[_Number], list[str]]:
    """Numbers in ``text``, and tokens where digits are glued to letters ("5G", "24/7")."""
    found: list[_Number] = []
    tokens: list[str] = []
    ratio_spans = []
    for m in _RATIO.finditer(text):
        tokens.append(m.group(0))
        ratio_spans.append(m.span())
    text = _blank(text, ratio_spans)
    for m in _NUMBER.finditer(text):
        raw = m.group("num")
        mantissa = _decimal(raw)
        if mantissa is None:
            continue
        decimals = len(raw.split(".", 1)[1]) if "." in raw else 0
        precision = Decimal(1).scaleb(-decimals)
        if m.group("glued"):
            tokens.append(m.group(0).strip())
            continue
        readings = ((mantissa, precision),)
        if m.group("word"):
            scale = _SCALE_WORDS[m.group("word").lower()]
            readings = ((mantissa * scale, precision * scale),)
        elif m.group("scale"):
            scale = _SCALE_LETTERS[m.group("scale").lower()]
            readings = ((mantissa * scale, precision * scale), (mantissa, precision))
        found.append(_Number(m.group(0).strip(), readings))
    return found, tokens


def _spelled_values(text: str) -> set[Decimal]:
    """Values of spelled-out numbers: "three", "twenty-five", "two hundred", "a dozen"."""
    values: set[Decimal] = set()
    words = regex.findall(r"[a-z]+", text.lower())
    total = Decimal(0)
    current: Decimal | None = None

    def flush() -> None:
        nonlocal total, current
        if current is not None or total:
            values.add(total + (current or 0))
        total, current = Decimal(0), None

    for word in words:
        fold = _FOLD.match(word)
        if fold:
            flush()
            base = fold.group(1)
            values.add(Decimal(100) if base == "hundred" else Decimal(str(_ONES[base])))
            continue
        if word in _ONES:
            value = Decimal(str(_ONES[word]))
            values.add(value)
            values.update(Decimal(v) for v in _EXTRA_VALUES.get(word, ()))
            if current is not None and current % 10 == 0 and current >= 20 and value < 10:
                current += value
            else:
                if current is not None:
                    flush()
                current = value
        elif word == "hundred":
            current = (current or Decimal(1)) * 100
        elif word in _SCALE_WORDS:
            total += (current or Decimal(1)) * _SCALE_WORDS[word]
            current = None
        elif word == "and" and current is not None:
            continue
        else:
            flush()
    flush()
    return values


def _list_count(text: str) -> int:
    """How many items the source's longest run of bullet or numbered lines has."""
    best = run = 0
    for line in text.splitlines():
        if regex.match(r"\s*(?:[-•*▪►]|\d{1,2}[.)])\s+\S", line):
            run += 1
            best = max(best, run)
        elif line.strip():
            run = 0
    return best


def _source_numbers(source: str) -> tuple[set[Decimal], set[str]]:
    numbers, tokens = _numbers(source)
    values: set[Decimal] = set()
    for n in numbers:
        values.update(n.values)
    values.update(_spelled_values(source))
    count = _list_count(source)
    if count >= 2:
        values.update(Decimal(i) for i in range(1, count + 1))
    return values, {tok.lower() for tok in tokens}


def _grounded_number(n: _Number, source_values: set[Decimal]) -> bool:
    for value, precision in n.readings:
        if value in source_values:
            return True
        half = precision / 2
        if any(abs(s - value) <= half for s in source_values):
            return True
    return False


def _check_numbers(facts: SourceFacts, variant: str) -> list[Flag]:
    source_values, source_tokens = facts.values, facts.number_tokens
    text = _mask_entities(variant)
    text = _KEYCAP.sub("  ", text)
    text = _THREAD_MARK.sub(_blank_thread_mark, text)
    text = _ENUMERATOR.sub(lambda m: " " * len(m.group(0)), text)
    numbers, tokens = _numbers(text)
    source_lower = facts.lower
    flags: list[Flag] = []
    seen: set[str] = set()
    for n in numbers:
        if n.text in seen or _grounded_number(n, source_values):
            continue
        seen.add(n.text)
        flags.append(
            Flag("number", n.text, f"The number “{n.text}” does not appear in the source.")
        )
    for token in tokens:
        key = token.lower()
        if key in seen or key in source_tokens or _contains_word(source_lower, key):
            continue
        seen.add(key)
        flags.append(Flag("number", token, f"“{token}” does not appear in the source."))
    return flags


def _contains_word(haystack: str, needle: str) -> bool:
    return (
        regex.search(r"(?<![\p{L}\p{N}])" + regex.escape(needle) + r"(?![\p{L}\p{N}])", haystack)
        is not None
    )


# --- names --------------------------------------------------------------------------------

_IGNORED_WORDS = frozenset(
    """
    i i'm i've i'd i'll me my mine we we're we've our ours us you you're your yours he she
    it it's its they they're their them his her this that these those there here here's
    there's what what's who who's whom whose which when where why how whether if unless
    because since so but and or nor yet also plus then than thus hence still even just only
    a an the not no yes ok okay hey hi hello wow oh please thanks thank
    in on at by for from with without within into onto over under about above below after
    before between through during across against among around behind beyond near via per
    to of up down out off as like unlike
    all any each every some many most more much few less least both either neither none
    one another other others such same own
    is are was were be been being am do does did done have has had having can could will
    would shall should may might must let let's get got make made take see look think know
    new now today tomorrow yesterday tonight soon later ever never always often sometimes
    meanwhile however therefore instead otherwise still first second third last next
    finally ultimately overall basically honestly actually really simply clearly
    thread threads follow following followers like likes share repost retweet reply replies
    comment comments subscribe subscribed save bookmark link links bio dm dms tag tags
    read watch listen learn click tap swipe join sign register download check try start
    stop discover find explore ready want need
    ps tl;dr tldr tl dr rt fyi icymi imo imho til faq q a note tip tips pro bonus key
    takeaway takeaways lesson lessons step steps part day hook caption subject preview
    title description summary update news breaking recap quick big huge top bottom line
    why how what question answer result results truth myth fact facts story
    monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur
    thurs fri sat sun january february march april may june july august september october
    november december jan feb mar apr jun jul aug sep sept oct nov dec
    spring summer autumn fall winter
    ai ceo cto cfo coo cmo vp svp evp hr pr seo roi kpi kpis b2b b2c saas api apis ux ui
    q1 q2 q3 q4 h1 h2 am pm usd eur gbp gdp
    x twitter linkedin instagram facebook tiktok youtube shorts bluesky mastodon newsletter
    email inbox
    mr mrs ms dr prof
    """.split()
)
_CONNECTORS = frozenset(
    {"of", "de", "da", "di", "du", "van", "von", "der", "den", "la", "le", "del", "y"}
)
_WORD = regex.compile(
    r"(?<![\p{L}\p{M}\p{N}])\p{L}[\p{L}\p{M}\p{N}]*(?:['’.\-][\p{L}\p{M}\p{N}]+)*"
)
_ABBREV = frozenset(
    "mr mrs ms dr prof st sr jr gen sen rep gov lt col capt mt sgt vs no fig vol dept".split()
)


def _is_capitalised(word: str) -> bool:
    return word[0].isupper() or any(c.isupper() for c in word[1:])


def _oddly_cased(word: str) -> bool:
    """Casing a headline would not give an ordinary word: "iPhone", "NASA", "GPT-4"."""
    if any(c.isdigit() for c in word):
        return True
    for part in regex.split(r"['’.\-]", word):
        letters = [c for c in part if c.isalpha()]
        if len(letters) >= 2 and all(c.isupper() for c in letters):
            return True
        if any(c.isupper() for c in part[1:]):
            return True
    return False


def _initialisms(words: list[str]) -> set[str]:
    """Initials of every run of 2 to 5 consecutive source words, so "MRR" is known from
    "monthly recurring revenue"."""
    out: set[str] = set()
    initials = [w[0] for w in words]
    for n in range(2, 6):
        for i in range(len(words) - n + 1):
            out.add("".join(initials[i : i + n]))
    return out


def _known(word: str, source_words: set[str]) -> bool:
    """Whether the source uses ``word`` (in any case, as a possessive or plural, or, for a
    hyphenated word, each of its parts)."""
    lower, base = word.lower(), _base(word).lower()
    if lower in source_words or base in source_words:
        return True
    if base.endswith("s") and base[:-1] in source_words:
        return True
    parts = [p for p in regex.split(r"[\-.]", base) if p]
    return len(parts) > 1 and all(p in source_words or p in _IGNORED_WORDS for p in parts)


def _base(word: str) -> str:
    return regex.sub(r"['’]s?$", "", word)


def _sentence_start(text: str, start: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start]
    if not regex.search(r"\p{L}", before):
        return True
    if regex.search(r"[→⇒➡|•·\p{So}]\uFE0F?\s*$", before):
        return True  # "📈 Revenue", "Result → Revenue": a new phrase starts
    stripped = regex.sub(r"[\s\"'“”‘’«»(\[\-–—*•]+$", "", before)
    if not regex.search(r"[.!?…:;]$", stripped):
        return False
    if stripped.endswith("."):
        last = regex.search(r"(\S+)\.$", stripped)
        token = last.group(1).lower() if last else ""
        if token in _ABBREV or (len(token) == 1 and token.isalpha()):
            return False
    return True


def _title_case_lines(text: str) -> set[int]:
    """Start offsets of lines written in Title Case (headlines)."""
    starts: set[int] = set()
    offset = 0
    for line in text.split("\n"):
        body = regex.sub(r"^\s*\w+:\s+", "", line)  # "Title: ..." labels from Variant.text
        words = [w for w in _WORD.findall(body) if len(w) >= 4]
        if len(words) >= 3 and sum(1 for w in words if w[0].isupper()) / len(words) >= 0.7:
            starts.add(offset)
        offset += len(line) + 1
    return starts


def _check_names(facts: SourceFacts, variant: str) -> list[Flag]:
    source_words, acronyms, source_flat = facts.words, facts.acronyms, facts.flat
    text = _mask_entities(variant)
    headline_lines = _title_case_lines(text)

    tokens = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]
    groups: list[list[tuple[int, int, str]]] = []
    current: list[tuple[int, int, str]] = []
    pending: list[tuple[int, int, str]] = []  # connectors waiting for a capitalised word
    for tok in tokens:
        start, _end, word = tok
        prev_end = (pending or current)[-1][1] if (pending or current) else None
        adjacent = prev_end is not None and regex.fullmatch(
            r"[ \t]+(?:&[ \t]+)?", text[prev_end:start]
        )
        if _is_capitalised(word) and word.lower() not in _CONNECTORS:
            if current and adjacent:
                current.extend(pending)
                current.append(tok)
            else:
                if current:
                    groups.append(current)
                current = [tok]
            pending = []
        elif word.lower() in _CONNECTORS and current and adjacent and not pending:
            pending = [tok]
        else:
            if current:
                groups.append(current)
            current, pending = [], []
    if current:
        groups.append(current)

    flags: list[Flag] = []
    seen: set[str] = set()
    for group in groups:
        first_start = group[0][0]
        line_start = text.rfind("\n", 0, first_start) + 1
        in_headline = line_start in headline_lines
        at_start = _sentence_start(text, first_start)
        words = [w for _s, _e, w in group]
        phrase = " ".join(
            regex.findall(r"[\p{L}\p{M}\p{N}]+", text[first_start : group[-1][1]].lower())
        )
        if phrase and f" {phrase} " in f" {source_flat} ":
            continue
        unknown = ""
        for i, word in enumerate(words):
            lower, base = word.lower(), _base(word).lower()
            if lower in _CONNECTORS or lower in _IGNORED_WORDS or base in _IGNORED_WORDS:
                continue
            if i == 0 and at_start:
                continue
            if in_headline and not _oddly_cased(word):
                continue
            if _known(word, source_words):
                continue
            if word.isupper() and len(word) >= 2 and word.lower() in acronyms:
                continue
            unknown = _base(word)
            break
        if not unknown:
            continue
        if in_headline:
            words = [unknown]  # a headline's other capitals are just title case
        while words and (
            words[0].lower() in _IGNORED_WORDS or _base(words[0]).lower() in _IGNORED_WORDS
        ):
            words = words[1:]
        value = " ".join(_base(w) if i == len(words) - 1 else w for i, w in enumerate(words))
        if not value or value.lower() in seen:
            continue
        seen.add(value.lower())
        flags.append(Flag("name", value, f"“{value}” is not mentioned in the source."))
    return flags


# --- quotes -------------------------------------------------------------------------------

_QUOTES = [
    regex.compile(r"“([^”\n]{1,600})”"),
    regex.compile(r"(?<![\w])\"([^\"\n]{1,600})\"(?!\w)"),
    regex.compile(r"«\s?([^»\n]{1,600}?)\s?»"),
    regex.compile(r"„([^“”\n]{1,600})[“”]"),
    regex.compile(r"「([^」\n]{1,600})」"),
    regex.compile(r"『([^』\n]{1,600})』"),
    regex.compile(r"(?<![\w])‘(.{1,600}?)’(?!\w)"),
]
_GAP = regex.compile(r"\.\.\.|…|\[[^\]]*\]")


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("’", "'").replace("‘", "'")
    return regex.findall(r"[\p{L}\p{M}\p{N}]+(?:'[\p{L}\p{M}]+)*", text)


def _quote_in_source(quote: str, source_joined: str) -> bool:
    position = 0
    for fragment in _GAP.split(quote):
        words = _words(fragment)
        if not words:
            continue
        needle = " " + " ".join(words) + " "
        found = source_joined.find(needle, position)
        if found < 0:
            return False
        position = found + len(needle) - 1
    return True


def _check_quotes(facts: SourceFacts, variant: str) -> list[Flag]:
    source_joined = facts.joined
    flags: list[Flag] = []
    seen: set[str] = set()
    taken: list[tuple[int, int]] = []
    for pattern in _QUOTES:
        for m in pattern.finditer(variant):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            taken.append(m.span())
            quote = m.group(1).strip()
            if not regex.search(r"\p{L}", quote) or quote.lower() in seen:
                continue
            if _quote_in_source(quote, source_joined):
                continue
            seen.add(quote.lower())
            flags.append(Flag("quote", quote, f"The quote “{quote}” is not in the source."))
    return flags


# --- links --------------------------------------------------------------------------------


def _normalise_url(url: str) -> tuple[str, str]:
    """(host, host + path + query) with scheme, "www.", tracking parameters, fragments and
    trailing slashes removed."""
    url = url.strip().rstrip(".,;:!?)")
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    host = host[4:] if host.startswith("www.") else host
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.lower().startswith("utm_")
        ]
    )
    path = parts.path.rstrip("/")
    full = host + path + ("?" + query if query else "")
    return host, full


def _check_links(facts: SourceFacts, variant: str, allowed_links: Iterable[str]) -> list[Flag]:
    known_hosts = set(facts.hosts)
    known_full = set(facts.urls)
    for url in [u for u in allowed_links if u]:
        host, full = _normalise_url(url)
        known_hosts.add(host)
        known_full.add(full)
    flags: list[Flag] = []
    seen: set[str] = set()
    for link in find_links(variant):
        host, full = _normalise_url(link.url)
        if full in seen:
            continue
        seen.add(full)
        if full in known_full:
            continue
        if full == host and host in known_hosts:
            continue  # a bare mention of a domain the source links to
        if any(k.startswith(full + "/") for k in known_full):
            continue
        flags.append(Flag("link", link.url, f"The link {link.url} is not in the source."))
    return flags


# --- public -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceFacts:
    """What the checks need of a source, worked out once (``analyze_source``) and shared by
    every post of a generation: a long source is read once, not once per platform."""

    lower: str
    values: frozenset[Decimal]
    number_tokens: frozenset[str]
    words: frozenset[str]
    acronyms: frozenset[str]
    flat: str
    joined: str
    hosts: frozenset[str]
    urls: frozenset[str]


def analyze_source(source_text: str) -> SourceFacts:
    values, tokens = _source_numbers(source_text)
    plain = [w.lower() for w in _WORD.findall(source_text)]
    hosts, urls = set(), set()
    for link in find_links(source_text):
        host, full = _normalise_url(link.url)
        hosts.add(host)
        urls.add(full)
    return SourceFacts(
        lower=source_text.lower(),
        values=frozenset(values),
        number_tokens=frozenset(tokens),
        words=frozenset(set(plain) | {_base(w) for w in plain}),
        acronyms=frozenset(_initialisms(plain)),
        flat=" ".join(regex.findall(r"[\p{L}\p{M}\p{N}]+", source_text.lower())),
        joined=" " + " ".join(_words(source_text)) + " ",
        hosts=frozenset(hosts),
        urls=frozenset(urls),
    )


def check(
    source: str | SourceFacts,
    variant_text: str,
    allowed_links: Iterable[str] = (),
    *,
    allowed_terms: Iterable[str] = (),
) -> list[Flag]:
    """Claims in ``variant_text`` that the source does not back: numbers, names, quotes,
    then links. ``source`` is the source's text, or its ``analyze_source`` facts (to check
    many variants of one source). ``allowed_terms`` is text the variant may use besides the
    source (the user's call to action, the brand's name)."""
    extra = "\n".join(t for t in allowed_terms if t)
    if isinstance(source, str):
        facts = analyze_source(source + ("\n" + extra if extra else ""))
    elif extra:
        facts = analyze_source(source.lower + "\n" + extra)  # rare: a call to action to allow
    else:
        facts = source
    links = list(allowed_links) + [link.url for link in find_links(extra)]
    return (
        _check_numbers(facts, variant_text)
        + _check_names(facts, variant_text)
        + _check_quotes(facts, variant_text)
        + _check_links(facts, variant_text, links)
    )


_ADVICE = {
    "number": "The number “{v}” is not in the source: remove it or use the source's own figure.",
    "name": "“{v}” is not mentioned in the source: remove it.",
    "quote": (
        "The quote “{v}” is not in the source: quote the source word for word, or "
        "paraphrase without quotation marks."
    ),
    "link": "The link {v} is not in the source: remove it.",
}


def grounding_feedback(flags: Iterable[Flag]) -> str:
    """An instruction asking for a rewrite grounded in the source, listing what to fix.
    Empty when there is nothing to fix."""
    items = list(flags)
    if not items:
        return ""
    lines = ["Some details are not in the source. Rewrite using only what the source says:"]
    lines += [f"- {_ADVICE[f.kind].format(v=f.value)}" for f in items]
    lines.append("Keep everything else, including the format and length rules.")
    return "\n".join(lines)
