"""Text primitives the platform rules are built from.

Everything here is Unicode-aware: grapheme clusters come from ``regex``'s ``\\X`` (current
Unicode segmentation rules, so ZWJ emoji sequences, flags, skin tones, combining marks and
Indic conjuncts are one cluster each), and word classes use ``regex``'s Unicode ``\\w``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import regex
from twitter_text import extract_urls_with_indices

_GRAPHEME = regex.compile(r"\X")
_EMOJI_CLUSTER = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")
_WIDE_SCRIPT = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]")

# --- lengths -------------------------------------------------------------------------------


def graphemes(text: str) -> list[str]:
    """User-perceived characters (extended grapheme clusters)."""
    return _GRAPHEME.findall(text)


def grapheme_length(text: str) -> int:
    return len(_GRAPHEME.findall(text))


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the way a browser's ``string.length`` counts."""
    return len(text.encode("utf-16-le")) // 2


def is_emoji(cluster: str) -> bool:
    """True when a grapheme cluster is (or contains) an emoji, flag or keycap."""
    return _EMOJI_CLUSTER.search(cluster) is not None


# --- links, hashtags, mentions -------------------------------------------------------------

# Bare names like "README.md" or "main.py" are file names far more often than web sites.
_FILE_LIKE_TLDS = frozenset({"md", "py", "sh", "rs", "pl", "ps", "zip", "mov", "so", "rb", "cc"})
_SCHEME = regex.compile(r"^[a-z][a-z0-9+.-]*://", regex.IGNORECASE)


@dataclass(frozen=True)
class Link:
    start: int
    end: int
    url: str

    @property
    def has_scheme(self) -> bool:
        return _SCHEME.match(self.url) is not None


def find_links(text: str, *, bare_domains: bool = True) -> list[Link]:
    """Web links in ``text``: URLs with a scheme, ``www.`` names and bare domains.

    URL recognition is twitter-text's (the same the X counter uses). A bare domain counts
    only when it looks like a web address: its top-level domain is written in lower case
    ("ASP.NET" is not a link) and, without a path, is not a common file extension
    ("README.md" is not a link).
    """
    found: list[Link] = []
    for entity in extract_urls_with_indices(text, bare_domains):
        url = entity["url"]
        start, end = entity["indices"]
        if not _SCHEME.match(url) and not url.lower().startswith("www."):
            host, _, path = url.partition("/")
            tld = host.rsplit(".", 1)[-1]
            if tld != tld.lower():
                continue
            if not path and tld in _FILE_LIKE_TLDS:
                continue
        found.append(Link(start, end, url))
    return found


_HASHTAG = regex.compile(r"(?<![\w#＃&/])[#＃](?=\w*[^\W\d_])\w+")
_MENTION = regex.compile(
    r"(?<![=/\w@])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(@[\w]+(?:[.-]+[\w]+)*)?", regex.IGNORECASE
)


def _mask_links(text: str) -> str:
    """``text`` with every link replaced by spaces (so a URL fragment is not a hashtag)."""
    chars = list(text)
    for link in find_links(text):
        chars[link.start : link.end] = " " * (link.end - link.start)
    return "".join(chars)


def find_hashtags(text: str) -> list[regex.Match[str]]:
    """``#word`` tokens: a hashtag needs at least one letter ("#1" is not one) and may be
    in any script ("#트위터", "#café")."""
    return list(_HASHTAG.finditer(_mask_links(text)))


def hashtags(text: str) -> list[str]:
    return [m.group(0) for m in find_hashtags(text)]


def find_mentions(text: str) -> list[regex.Match[str]]:
    """``@user`` and ``@user@domain`` mentions (group 1 is the user, group 2 the domain)."""
    return list(_MENTION.finditer(_mask_links(text)))


# --- sentences and words -------------------------------------------------------------------

_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st sr jr gen sen rep gov lt col capt mt sgt vs etc e.g i.e eg ie
    approx inc ltd co corp no nos fig figs vol vols dept est jan feb mar apr jun jul aug sep
    sept oct nov dec u.s u.k u.n ph.d a.m p.m""".split()
)
# Abbreviations that are only abbreviations when capitalised: "Ms. Chen" and "No. 5" go on,
# "120 ms. The" and "said no. Then" end a sentence.
_CAPITALISED_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st sr jr gen sen rep gov lt col capt mt sgt co corp no nos est".split()
)
_SENTENCE_END = regex.compile(
    r"(?:(?P<latin>[.!?…]+)[\"'”’»)\]]*(?P<space>\s+)|(?P<cjk>[。！？]+)[\"”’」』)]*\s*)"
)
_LAST_TOKEN = regex.compile(r"(\S+)$")


@dataclass(frozen=True)
class Unit:
    """One sentence, with the separator that stood before it ("", " ", "\\n" or "\\n\\n")."""

    sep: str
    text: str


def _sentences_in_line(line: str) -> list[str]:
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(line):
        end = m.end()
        if m.group("latin"):
            rest = line[end:]
            if not rest:
                continue
            if rest[0].islower():
                continue
            punct = m.group("latin")
            if punct == ".":
                token = _LAST_TOKEN.search(line[start : m.start()])
                original = token.group(1).lstrip("([\"'“‘") if token else ""
                word = original.lower()
                abbreviation = word in _ABBREVIATIONS and (
                    original[:1].isupper() or word not in _CAPITALISED_ABBREVIATIONS
                )
                if abbreviation or (len(word) == 1 and word.isalpha()):
                    continue
                if "." in word and all(len(p) <= 2 for p in word.split(".")):
                    continue  # initials such as "J.R.R" or "U.S"
        piece = line[start:end].strip()
        if piece:
            out.append(piece)
        start = end
    tail = line[start:].strip()
    if tail:
        out.append(tail)
    return out


def split_units(text: str) -> list[Unit]:
    """Split ``text`` into sentences, keeping line and paragraph breaks as separators."""
    units: list[Unit] = []
    paragraphs = regex.split(r"\n[ \t]*\n\s*", text.replace("\r\n", "\n").replace("\r", "\n"))
    for p_index, paragraph in enumerate(paragraphs):
        lines = [ln.strip() for ln in paragraph.split("\n")]
        first_in_paragraph = True
        for line in lines:
            if not line:
                continue
            for s_index, sentence in enumerate(_sentences_in_line(line)):
                if not units:
                    sep = ""
                elif first_in_paragraph and p_index > 0:
                    sep = "\n\n"
                elif s_index == 0:
                    sep = "\n"
                else:
                    sep = " "
                units.append(Unit(sep, sentence))
                first_in_paragraph = False
    return units


def sentences(text: str) -> list[str]:
    return [u.text for u in split_units(text)]


def join_units(units: list[Unit]) -> str:
    out = ""
    for u in units:
        out = u.text if not out else out + (u.sep or " ") + u.text
    return out


def largest_prefix(n: int, fits_prefix: Callable[[int], bool]) -> int:
    """Largest k in [0, n] with fits_prefix(k), assuming fits is monotone in k."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits_prefix(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def split_words(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Cut one over-long sentence into pieces that fit, at word boundaries; a single word
    longer than a piece is cut between grapheme clusters."""
    pieces: list[str] = []
    words = text.split()
    while words:
        k = _greedy(words, " ", fits)
        if k == 0:
            clusters = graphemes(words.pop(0))
            while clusters:
                g = _greedy(clusters, "", fits)
                if g == 0:
                    raise ValueError("a single character does not fit in a post")
                pieces.append("".join(clusters[:g]))
                clusters = clusters[g:]
            continue
        pieces.append(" ".join(words[:k]))
        words = words[k:]
    return pieces


def _greedy(tokens: list[str], joiner: str, fits: Callable[[str], bool]) -> int:
    """How many leading ``tokens`` fit when joined with ``joiner``."""
    return largest_prefix(len(tokens), lambda k: fits(joiner.join(tokens[:k])))


def pack(units: list[Unit], fits: Callable[[str], bool]) -> list[str]:
    """Greedily fill chunks with whole sentences; only a sentence longer than a chunk is
    cut (at word boundaries)."""
    chunks: list[str] = []
    current = ""
    for unit in units:
        candidate = unit.text if not current else current + (unit.sep or " ") + unit.text
        if fits(candidate):
            current = candidate
            continue
        if current:
            chunks.append(current)
            current = ""
        if fits(unit.text):
            current = unit.text
            continue
        pieces = split_words(unit.text, fits)
        chunks.extend(pieces[:-1])
        current = pieces[-1]
    if current:
        chunks.append(current)
    return chunks


def trim_to_fit(text: str, fits: Callable[[str], bool], *, ellipsis: str = "…") -> str:
    """The longest run of whole leading sentences that fits. When even the first sentence
    is too long, as many of its words as fit, followed by ``ellipsis``."""
    text = text.strip()
    if fits(text):
        return text
    units = split_units(text)
    k = largest_prefix(len(units), lambda k: k == 0 or fits(join_units(units[:k])))
    if k > 0:
        return join_units(units[:k])
    words = units[0].text.split() if units else []
    n = largest_prefix(len(words), lambda n: n == 0 or fits(" ".join(words[:n]) + ellipsis))
    if n > 0:
        return " ".join(words[:n]).rstrip(",;:–—-") + ellipsis
    clusters = graphemes(words[0]) if words else []
    g = largest_prefix(len(clusters), lambda g: g == 0 or fits("".join(clusters[:g]) + ellipsis))
    return "".join(clusters[:g]) + ellipsis if g else ""


# --- spoken scripts ------------------------------------------------------------------------

_SPOKEN_WORD = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}\p{M}'’.,-]*")
_STAGE_DIRECTION = regex.compile(r"\[[^\]]*\]")


def spoken_words(text: str) -> float:
    """How many words a reader says. Stage directions in [square brackets] are not read;
    Chinese, Japanese and Korean characters count half a word each (about 300 characters a
    minute at 150 words a minute)."""
    text = _STAGE_DIRECTION.sub(" ", text)
    count = 0.0
    for token in _SPOKEN_WORD.findall(text):
        wide = len(_WIDE_SCRIPT.findall(token))
        rest = _WIDE_SCRIPT.sub("", token)
        count += wide * 0.5 + (1 if regex.search(r"[\p{L}\p{N}]", rest) else 0)
    return count


def estimate_duration_seconds(text: str, wpm: int = 150) -> int:
    """Seconds it takes to say ``text`` aloud at ``wpm`` words a minute (rounded up)."""
    if wpm <= 0:
        raise ValueError("words per minute must be positive")
    words = spoken_words(text)
    return math.ceil(round(words * 60 / wpm, 6))


def script_beats(text: str) -> list[str]:
    """The beats of a spoken script: its paragraphs (or lines, when it has no blank lines)."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        return []
    blocks = [b.strip() for b in regex.split(r"\n[ \t]*\n", text) if b.strip()]
    if len(blocks) == 1:
        blocks = [ln.strip() for ln in text.split("\n") if ln.strip()]
    return blocks


def fmt(n: int) -> str:
    """A number as users read it: 3,000."""
    return f"{n:,}"
