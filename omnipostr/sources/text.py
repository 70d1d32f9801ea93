"""The one tokenizer: normalised text, words (Latin and CJK alike), sentences, languages.

Search, the faithfulness check, the offline engine, the platform rules and the word counts
all read text through these functions, so a word is the same thing everywhere:

- ``tokens(text)``: words of letters, marks and digits (``don't``, ``e-mail``, ``3.5`` are one
  each); each Chinese character and kana is a token of its own, because those scripts are
  written without spaces (Korean, written with spaces, has words).
- ``terms(text)``: what a search matches: Latin words folded to lower case, and for CJK every
  run's overlapping character pairs (and a single character alone), so "東京" is found inside
  "東京は晴れです".
- ``sentences(text, language)``: sentence segmentation by ``sentencex`` (Wikimedia's rules:
  abbreviations, initials, decimals, CJK full stops), applied within each line.
- ``detect_language(text)``: the script decides CJK and Korean; otherwise the language whose
  common words the text uses most (English when unsure).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter

import regex

WORDS_PER_MINUTE = 238

# --- normalisation ---------------------------------------------------------------------------

_NEWLINES = re.compile(r"\r\n?|[\f\v\x1c-\x1e\x85\u2028\u2029]")
# C0 and C1 controls except \t and \n, DEL, invisible format characters that carry no meaning
# in plain text (ZWSP, word joiner, BOM, soft hyphen, Mongolian vowel separator, invisible
# math operators, bidi embeddings/overrides/isolates).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u180e\u200b\u2060-\u2064\u202a-\u202e\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
# Zero-width (non-)joiners are meaningful between two visible characters (emoji sequences,
# Persian and Indic scripts); elsewhere they are noise.
_STRAY_JOINER = re.compile(r"(?:(?<=\s)|^)[\u200c\u200d]+|[\u200c\u200d]+(?=\s|$)", re.M)
_TRAILING_SPACE = re.compile(r"[ \t\u00a0\u3000]+$", re.M)
_BLANK_RUNS = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """The canonical form of every source text: Unicode NFC; ``\\r\\n``, ``\\r``, form feeds
    and Unicode line separators become ``\\n``; control characters other than newline and
    tab go; invisible characters (zero-width space, word joiner, byte-order mark, soft
    hyphen, bidirectional overrides) go, while zero-width joiners inside a word or an emoji
    sequence stay; trailing spaces are trimmed; runs of blank lines collapse to one."""
    text = _NEWLINES.sub("\n", text)
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _STRAY_JOINER.sub("", text)
    text = _TRAILING_SPACE.sub("", text)
    text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()


# --- tokens ----------------------------------------------------------------------------------

CJK = r"\p{Han}\p{Hiragana}\p{Katakana}\u3005\u3006\u30fc\uff66-\uff9f"
_HANGUL_WORD = regex.compile(r"\p{Hangul}{2,}")
_WORD_CHAR = rf"[\p{{L}}\p{{N}}\p{{M}}--[{CJK}]]"
_TOKEN = regex.compile(rf"(?P<cjk>[{CJK}])|(?P<word>{_WORD_CHAR}+(?:['’.\-]{_WORD_CHAR}+)*)", regex.V1)
_CJK_CHAR = regex.compile(rf"[{CJK}]", regex.V1)


def tokens(text: str) -> list[str]:
    """The words of ``text`` in order, as written (see the module docstring)."""
    return [m.group(0) for m in _TOKEN.finditer(text)]


def count_words(text: str) -> int:
    """Words in ``text``: every token (a CJK character counts as a word, as reading-time
    estimates for those languages do). Punctuation and emoji are not words."""
    return sum(1 for _ in _TOKEN.finditer(text))


def reading_minutes(words: int, wpm: int = WORDS_PER_MINUTE) -> int:
    """Minutes to read ``words`` words, rounded to the nearest minute, at least 1 for any text."""
    if wpm <= 0:
        raise ValueError("wpm must be positive")
    if words <= 0:
        return 0
    return max(1, math.floor(words / wpm + 0.5))


def fold(word: str) -> str:
    """The form two words are compared in: NFKC, case-folded, outer apostrophes and dashes
    dropped."""
    return unicodedata.normalize("NFKC", word).casefold().strip("'’-_.")


def terms(text: str) -> set[str]:
    """What search matches on (see the module docstring). Latin words of one letter are
    left out."""
    out: set[str] = set()
    run: list[str] = []

    def flush() -> None:
        if len(run) == 1:
            out.add(run[0])
        out.update(a + b for a, b in zip(run, run[1:], strict=False))
        run.clear()

    last_end = -1
    for m in _TOKEN.finditer(unicodedata.normalize("NFKC", text)):
        if m.group("cjk"):
            if m.start() != last_end:
                flush()
            run.append(m.group(0))
        else:
            flush()
            word = fold(m.group(0))
            if len(word) >= 2:
                out.add(word)
            # Korean is written with spaces, but a word carries its particles ("문장입니다"):
            # its syllable pairs let a search find the stem inside it
            for run_ in _HANGUL_WORD.findall(word):
                out.update(a + b for a, b in zip(run_, run_[1:], strict=False))
        last_end = m.end()
    flush()
    return out


def has_cjk(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


def joiner(language: str) -> str:
    """What goes between two sentences: nothing in Chinese and Japanese, a space elsewhere."""
    return "" if language in ("ja", "zh") else " "


# --- languages -------------------------------------------------------------------------------

_COMMON = {
    "en": "the and of to in is that for it with as are was on be this by or not you from have",
    "es": "de la que el en y los del se las por un para con una su es al lo como más pero",
    "fr": "de la le et les des en un du une que est pour qui dans par sur pas plus au avec",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als",
    "pt": "de a o que e do da em um para é com não uma os no se na por mais as dos como",
    "it": "di e il la che in un per è del della le si non una con sono alla anche più",
    "nl": "de het een en van in is dat op te zijn met voor niet aan er ook als bij door",
}
_COMMON_SETS = {lang: frozenset(words.split()) for lang, words in _COMMON.items()}
_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}]")
_HAN = regex.compile(r"\p{Han}")
_HANGUL = regex.compile(r"\p{Hangul}")


def detect_language(text: str) -> str:
    """An ISO 639-1 code for ``text``: ja, zh, ko by script; en, es, fr, de, pt, it or nl by
    their common words; en when nothing stands out."""
    sample = text[:20_000]
    kana, han, hangul = len(_KANA.findall(sample)), len(_HAN.findall(sample)), len(_HANGUL.findall(sample))
    letters = max(1, sum(1 for c in sample if c.isalpha()))
    if (kana + han + hangul) / letters > 0.2:
        if hangul > kana + han:
            return "ko"
        return "ja" if kana >= max(1, han // 10) else "zh"
    words = Counter(w.casefold() for w in tokens(sample))
    scores = {lang: sum(words[w] for w in common) for lang, common in _COMMON_SETS.items()}
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] >= 3 else "en"


# --- sentences ---------------------------------------------------------------------------------

_SEGMENTER_LANGUAGES = frozenset({"en", "es", "fr", "de", "pt", "it", "nl", "ja", "zh", "ko"})
# sentencex knows the common abbreviations; a few more that creators write, which must not end
# a sentence before a number or a lower-case word:
_ABBREVIATION_END = regex.compile(
    r"(?:\b(?:vs|etc|approx|incl|Inc|Ltd|Corp|Co|No|Nos|Fig|Vol|Dept|St|Mt)\.|\b[A-Z]\.)$"
)
# a title before a name never ends a sentence
_TITLE_END = regex.compile(r"(?:^|\s)(?:Dr|Mr|Mrs|Ms|Mx|Prof|Sr|Jr|Gen|Sen|Rep|Gov|Capt|Lt|Col|Sgt)\.$")


@functools.cache
def _segmenter(language: str):
    import sentencex

    return functools.partial(sentencex.segment, language if language in _SEGMENTER_LANGUAGES else "en")


_CJK_END = regex.compile(r"(?<=[。！？])(?=[^」』）)\]\s。！？])")
_LEADING_EMOJI = regex.compile(r"^((?:[\p{Extended_Pictographic}\p{Emoji_Modifier}\u200d\ufe0f\u20e3]+\s*)+)(?=\S)")


def sentences(text: str, language: str = "en") -> list[str]:
    """The sentences of ``text``, each whole and stripped. A line break always ends one
    (headings and list items stand alone); a CJK full stop always does; an emoji written
    after a sentence's end belongs to that sentence ("What a week! 🎉 We shipped...")."""
    out: list[str] = []
    split = _segmenter(language)
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        pieces = [q.strip() for p in split(line) for q in _CJK_END.split(p) if q.strip()]
        for i in range(1, len(pieces)):
            m = _LEADING_EMOJI.match(pieces[i])
            if m and i > 0:
                pieces[i - 1] = f"{pieces[i - 1]} {m.group(1).strip()}"
                pieces[i] = pieces[i][m.end() :].strip()
        pieces = [p for p in pieces if p]
        for i in range(len(pieces) - 1, 0, -1):
            # 「本当？」と聞かれた。: a quotation goes on with its particle
            if pieces[i - 1].endswith(("」", "』")) and pieces[i].startswith(("と", "って", "という")):
                pieces[i - 1] += pieces.pop(i)
        merged: list[str] = []
        for piece in pieces:
            # "Fig. 3 shows" and "approx. ten" go on; "Acme Inc. Then" may end a sentence
            if merged and (
                _TITLE_END.search(merged[-1]) or (_ABBREVIATION_END.search(merged[-1]) and not piece[:1].isupper())
            ):
                merged[-1] = f"{merged[-1]} {piece}"
            else:
                merged.append(piece)
        out.extend(merged)
    return out
