"""Extractive analysis: what in a document is worth posting, read from its prose alone.

``analyze(document)`` returns an ``Analysis``:

- ``candidates``: the sentences that stand alone in a post. Each is a whole sentence of the
  document's prose (never code, a table, a heading or a fragment): it starts like a sentence,
  ends like one (a list item may end without a full stop), points to nothing around it
  ("below", "this section", "the table"), holds no link and at most a little inline code,
  with every identifier exactly as written.
- a score for each: how central it is (it carries the document's key phrases), where it sits
  (the opening, the first sentence of a paragraph), its length, and what makes a reader stop
  (a number, a question, a contrast, a claim).
- ``hook(...)``: the strongest opening for a platform's size, a different one for each take.
- ``key_points(...)``: the best of the rest, in the document's order.
- ``keywords``: hashtag-ready key phrases: recurring runs of meaningful words in the prose
  (never from code, links or units), favoured by the title and the headings, written in
  CamelCase; none at all when nothing recurs enough to be a topic.

Everything is deterministic: the same document always gives the same analysis.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass

import regex

from omnipostr import sources
from omnipostr.repurpose.platforms import text as ptext
from omnipostr.sources import text as T

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
    monday tuesday wednesday thursday friday saturday sunday morning evening afternoon
    file files value values variable variables support supports version versions function functions
    code test tests project projects name names form forms field fields object objects package packages
    command commands current context error errors module modules statement statements data type types
    class classes method methods option options default defaults user users string strings list lists
    key keys line lines call calls set sets note notes step steps page pages section sections text
    output input issue issues feature features release releases change changes library libraries tool
    tools team teams plan plans client clients customer customers people thing use uses level levels
    form format formats source sources result results improvement improvements fix fixes
    instead improve improves return returns arrive arrives specify specifies relative match matches
    allow allows provide provides include includes require requires following however also
    millisecond milliseconds byte bytes kilobyte kilobytes megabyte megabytes gigabyte gigabytes
    terabyte terabytes""".split()
)


# A sentence that opens by pointing back reads badly on its own.
_ANAPHORIC = frozenset(
    """this that these those it its they them he she his her but and so also however then
    which such here there both another other as or yet thus hence therefore""".split()
)
# Japanese and Chinese openings that lean on the sentence before (that, this, so, but, also)
_ANAPHORIC_CJK = (
    "その", "それ", "これ", "この", "あの", "そこ", "そして", "また", "でも", "だから", "しかし", "つまり",
    "这", "那", "它", "他们", "她们", "因此", "所以", "但", "而且", "另外",
)
# A piece that starts with one of these is the rest of a sentence.
_CONTINUES = frozenset(
    """and or but nor which that who whom whose then so because while although though if when where
    whereas to of with without within for in on at by from into onto upon through via as than like
    unless until after before since including except plus""".split()
)
# ... and one that points at the page around it, or at its own structure.
_POINTS_AWAY = regex.compile(
    r"\b(?:below|above|following|aforementioned|this (?:section|chapter|page|document|readme|guide|tutorial|post|article|table|list|example|figure)|"
    r"the (?:table|figure|diagram|screenshot|example|snippet|code) (?:below|above)|click|see also|as shown|"
    r"(?:in|see|repeat|from) step \d|steps? \d+ (?:to|and) \d+|"
    r"for example:|e\.g\.:|follows:|(?:see|check|read|visit) (?:the |our )?(?:[\w-]+ ){0,2}"
    r"(?:documentation|docs|guide|section|page|chapter|readme)|"
    r"for (?:an? |the )?(?:in-depth|detailed|more|further|full|complete) (?:explanation|details|information|discussion|overview))\b",
    regex.IGNORECASE,
)
_CONTRAST = regex.compile(
    r"(?:^|[,;]\s*)(?:but|yet)\b|\b(?:instead|rather than|however|although|though|unlike|despite|not just|"
    r"not only|whereas)\b|\bnot\b[^.]*\bbut\b"
    # Japanese and Chinese: but, however, instead, rather, not … but
    r"|しかし|けれど|けど|ところが|一方|ではなく|むしろ|にもかかわらず|但是|然而|可是|却|反而|不是[^。]*而是",
    regex.IGNORECASE,
)
_CLAIM = regex.compile(
    r"\b(?:most|least|best|worst|only|never|always|nobody|no one|fastest|largest|biggest|"
    r"twice|double|more than|less than|fewer|better|faster|cheaper|simpler|matters?)\b"
    r"|一番|最も|必ず|決して|大切|重要|最[好大快多少重]|唯一|一定|从不|总是|关键",
    regex.IGNORECASE,
)
_NUMBER = regex.compile(r"\d")
_HASH = regex.compile(r"(?<![\w&])#\w")
_LABEL_LIST = regex.compile(r"^[^:,.]{1,40}:\s+[^,]+(?:,[^,]+){2,}$")
# a figure that makes a claim: a share, a multiple, money, a change
_STRONG_NUMBER = regex.compile(
    r"\d\s?[%％]|\bpercent\b|\d+(?:\.\d+)?\s?(?:x|times)\b|[$€£¥]\s?\d|\d+\s?(?:million|billion|k)\b|\bfrom\b[^.]*\d[^.]*\bto\b"
    r"|\d+\s?倍|\d\s?[万億亿]|\d[^。]*から[^。]*\d|从[^。]*\d[^。]*[到至]",
    regex.IGNORECASE,
)
# a sentence that starts by telling the reader what to do reads as a step, not an opening
_IMPERATIVE = frozenset(
    """to add avoid call change check choose click copy create discard do don't download enable feed find
    follow get give go install keep let look make move note open pick put read remember remove replace
    run save see select send set start stop take try turn type use visit wait write""".split()
)
_TERMINAL = regex.compile(r"[.!?…。！？][\"'”’»)\]」』]*$")
_CODEISH = regex.compile(r"[(){}\[\]=<>;$*|\\]|\w\.\w+\(|::|->|=>")
_UNIT = frozenset(
    """ms s sec secs min mins h hr hrs kb mb gb tb kib mib gib px em rem pt cm mm km kg g mg lb lbs oz
    ml l hz khz mhz ghz kbps mbps gbps rpm fps dpi bps""".split()
)
# Sections that keep records rather than make a point: a changelog and its version headings,
# credits, sponsors and commercial support, licences, citations and references
_RECORD_SECTION = regex.compile(
    r"(?:v(?:ersion)?\s?)?\d+(?:\.\d+)+\b.{0,60}$|(?:change ?log|changes|release notes|release history|"
    r"what'?s new|contributors|credits|acknowledge?ments|(?:about the )?authors?|citations?|(?:how to )?cit(?:e|ing)\b.*|"
    r"(?:our )?sponsors?|sponsorship|backers|funding|donat(?:e|ions?)|.{0,40}\bfor enterprise|"
    r"(?:commercial|enterprise) support|project information|licen[cs]e|licensing|"
    r"references|bibliography|publications|further reading)\s*$",
    regex.IGNORECASE,
)
_REFERENCE = regex.compile(r"\b(?:GHSA|CVE)-\w+|\b(?:PR|issue|fixes|closes)\s+#?\d+\b", regex.IGNORECASE)
# a clock time or a timestamp: a detail of a worked example, not a figure that makes a claim
_CLOCK = regex.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")
_HANDLE = regex.compile(r"(?<![\w@])[@#][\w.-]+|\b(?:GHSA|CVE)-[\w-]+", regex.IGNORECASE)
_WORDISH = regex.compile(r"^[\p{L}][\p{L}\p{M}\p{N}'’-]*$")


@dataclass(frozen=True)
class Candidate:
    text: str
    index: int  # order in the document
    block: int
    first_in_block: bool
    kind: str  # paragraph, item or quote
    section: str
    words: int
    spoken: float  # words said aloud (a CJK character is half a word)
    number: bool
    strong_number: bool
    imperative: bool
    question: bool
    contrast: bool
    claim: bool
    anaphoric: bool
    clock: bool  # a clock time: a step of a worked example
    score: float

    @property
    def terminal(self) -> bool:
        return _TERMINAL.search(self.text) is not None


@dataclass(frozen=True)
class Analysis:
    title: str
    title_from_source: bool
    language: str
    candidates: tuple[Candidate, ...]
    keywords: tuple[str, ...]
    headings: tuple[str, ...]
    prose_words: int

    @property
    def substantial(self) -> bool:
        """Enough to say for a thread, a carousel of points, a list in a newsletter."""
        return len(self.candidates) >= 6 and self.prose_words >= 150

    def hook(self, max_chars: int = 200, *, avoid: tuple[str, ...] = (), nth: int = 0, max_words: int = 0) -> str:
        """The strongest opening that fits: a whole sentence of the document, a number, a
        question, a contrast or a claim favoured, the title never. ``nth`` takes the next
        best (of the best three, in turn) for another take; ``max_words`` counts words said
        aloud. "" when nothing fits."""
        ranked: list[tuple[float, int, str]] = []
        for c in self.candidates:
            if c.text in avoid or ptext.utf16_length(c.text) > max_chars or (max_words and c.spoken > max_words):
                continue
            if not c.terminal:  # a list item without its full stop opens poorly
                continue
            value = c.score
            value += 1.0 if c.question else 0.0
            value += 0.8 if c.strong_number else (0.3 if c.number else 0.0)
            value += 0.5 if c.contrast else 0.0
            value += 0.4 if c.claim else 0.0
            value += 0.3 if c.words <= 22 else 0.0
            value += 0.5 if c.index == 0 else 0.0  # the author's own opening
            value -= 1.2 if c.anaphoric else 0.0
            value -= 0.6 if c.imperative else 0.0
            value -= 0.4 if c.kind == "item" else 0.0
            value -= 0.8 if c.clock else 0.0
            ranked.append((round(value, 6), -c.index, c.text))
        if not ranked and not any(c.terminal for c in self.candidates):
            # a source of unpunctuated lines (a list, a note): its lines are its sentences
            ranked = [(c.score, -c.index, c.text) for c in self.candidates
                      if c.text not in avoid and ptext.utf16_length(c.text) <= max_chars]
        if not ranked:
            return ""
        best = sorted(ranked, reverse=True)[:3]
        return best[nth % len(best)][2]

    def key_points(
        self, n: int, *, exclude: tuple[str, ...] = (), max_chars: int | None = None, max_words: int = 0
    ) -> list[str]:
        """The ``n`` best sentences (not in ``exclude``), in the document's order."""
        pool = [
            c for c in self.candidates
            if c.text not in exclude
            and (max_chars is None or ptext.utf16_length(c.text) <= max_chars)
            and (not max_words or c.spoken <= max_words)
        ]
        ranked = sorted(pool, key=lambda c: (-c.score, c.index))[: max(0, n)]
        return [c.text for c in sorted(ranked, key=lambda c: c.index)]

    def opening(self, n: int, *, exclude: tuple[str, ...] = ()) -> list[str]:
        """The first ``n`` quotable sentences, in order: how the document itself begins."""
        return [c.text for c in self.candidates if c.text not in exclude][:n]

    def hashtags(self, n: int) -> list[str]:
        return ["#" + k for k in self.keywords[: max(0, n)]]


# --- sentences ---------------------------------------------------------------------------------


def _first_word(text: str) -> str:
    toks = T.tokens(text)
    return T.fold(toks[0]) if toks else ""


def _record_blocks(doc: sources.Document) -> set[int]:
    """Blocks inside a section that keeps records rather than makes a point: a changelog
    (and everything under its version headings), credits, citations, references."""
    out: set[int] = set()
    open_headings: list[tuple[int, bool]] = []  # (level, is a record section) of each open heading
    for i, b in enumerate(doc.blocks):
        if b.kind == "heading":
            while open_headings and open_headings[-1][0] >= b.level:
                open_headings.pop()
            inside = any(record for _, record in open_headings)
            open_headings.append((b.level, inside or bool(_RECORD_SECTION.match(b.text.strip()))))
        elif any(record for _, record in open_headings):
            out.add(i)
    return out


_EXAMPLE_INTRO = regex.compile(
    r"(?:(?:\b(?:for example|for instance|example|scenario|suppose|assume|consider|imagine)\b|\be\.g\.).*|"
    r"^(?:scenario|example|case|step)\s*\d*)\s*:$",
    regex.IGNORECASE,
)


def _example_blocks(doc: sources.Document) -> set[int]:
    """Blocks of a worked example: what follows "For example, with 10 requests a minute:" or
    "Scenario 1:" (its items, code and further labelled parts) up to the next heading or
    paragraph of its own. An example illustrates a point; a post makes the point."""
    out: set[int] = set()
    inside = False
    for i, b in enumerate(doc.blocks):
        if b.kind == "heading":
            inside = False
        elif b.kind == "paragraph":
            text = b.text.strip()
            if _EXAMPLE_INTRO.search(text):
                inside = True
                out.add(i)
            elif inside and text.endswith(":"):
                out.add(i)
            else:
                inside = False
        elif inside:
            out.add(i)
    return out


def _quotable(s: sources.Sentence, block: sources.Block, lenient: bool = False) -> bool:
    """Whether a sentence can stand alone in a post. ``lenient`` (for a source too short to
    have any such sentence: a line, a note) keeps the short and the unpunctuated."""
    text = s.text
    if s.kind == "heading" or T.count_words(text) < (1 if lenient else 4):
        return False
    first = _first_word(text)
    if not lenient and (text[:1] in ",;:)]}-–—…" or (text[:1].islower() and first in _CONTINUES)):
        return False  # the rest of a sentence, not a sentence (a name like "psutil" may start one)
    if not lenient and first == "which" and not text.rstrip("\"'”’»)").endswith("?"):
        return False  # "Which now allows us to …": it leans on what came before (a question stands)
    if not lenient and text.endswith((":", ";", ",", "–", "—", "-")):
        return False  # it introduces something that is not here
    if not lenient and s.kind == "paragraph" and not _TERMINAL.search(text) and not T.has_cjk(text):
        return False
    if ptext.find_links(text) or ptext.find_mentions(text) or "@" in text or _HASH.search(text):
        return False  # a link, a handle or a "#42" would read as the post's own
    if _REFERENCE.search(text):
        return False  # a changelog line ("(GHSA-…)", "fixes #12"): a record, not something to post
    if s.kind == "item" and _LABEL_LIST.match(text):
        return False  # "Python version: 2.7, 3.8, 3.9": a label and its values, not a sentence
    if _POINTS_AWAY.search(text):
        return False
    code = [c for c in block.code if c in text]
    if code:
        code_chars = sum(len(c) for c in code)
        if code_chars > 0.3 * len(text) or any(_CODEISH.search(c) for c in code) or len(code) > 2:
            return False
    elif _CODEISH.search(text) and regex.search(r"\w\(|\)\s*[:{]|\s=\s|;$|\{|\}", text):
        return False  # code written as prose
    return True


def _content_words(text: str, stop: frozenset[str]) -> list[str]:
    return [w for w in (T.fold(t) for t in T.tokens(text)) if len(w) >= 3 and w not in stop and not w.isdigit()]


# --- key phrases -------------------------------------------------------------------------------


def _phrases(text: str, code: list[str], stop: frozenset[str]) -> list[list[str]]:
    """Runs of meaningful words (surface forms) in a prose sentence: cut at punctuation,
    stop words, numbers, units and inline code."""
    for c in code:
        text = text.replace(c, " | ")
    for link in sorted(ptext.find_links(text), key=lambda k: -k.start):
        text = text[: link.start] + " | " + text[link.end :]
    text = _HANDLE.sub(" | ", text)  # @someone, #123, an advisory id: no topic of the post
    runs: list[list[str]] = []
    current: list[str] = []
    pos = 0
    for m in regex.finditer(r"[\p{L}\p{M}\p{N}][\p{L}\p{M}\p{N}'’-]*", text):
        gap = text[pos : m.start()]
        pos = m.end()
        word = m.group(0).strip("'’-")
        low = T.fold(word)
        boundary = bool(regex.search(r"[^\s]", gap))  # punctuation between words ends a run
        meaningful = (
            len(low) >= 3 and low not in stop and low not in _UNIT and not any(ch.isdigit() for ch in low)
            and _WORDISH.match(word) is not None and not T.has_cjk(word)
        )
        if boundary or not meaningful:
            if current:
                runs.append(current)
            current = [word] if meaningful else []
        else:
            current.append(word)
    if current:
        runs.append(current)
    return [r[:3] for r in runs if r]


def _camel(words: list[str]) -> str:
    out = []
    for w in words:
        parts = [p for p in regex.split(r"[^\w]+", w.replace("’", "'").removesuffix("'s")) if p]
        out.extend(p if any(ch.isupper() for ch in p[1:]) or p.isupper() else p[:1].upper() + p[1:] for p in parts)
    return "".join(out)


def _keywords(doc: sources.Document, stop: frozenset[str], aside: set[int] = frozenset()) -> tuple[str, ...]:
    """The source's topics, for hashtags; the blocks in ``aside`` (a changelog, the sponsors)
    say nothing about them."""
    # a title made up from the first sentence says nothing about the topic
    title_words = ({T.fold(w) for w in T.tokens(doc.title)} - stop) if doc.title_from_source else set()
    heading_words = {T.fold(w) for b in doc.blocks if b.kind == "heading" for w in T.tokens(b.text)} - stop
    unigram: Counter[str] = Counter()
    unigram_blocks: dict[str, set[int]] = defaultdict(set)
    forms: dict[str, Counter[str]] = defaultdict(Counter)
    capital_mid: Counter[str] = Counter()
    phrase: Counter[tuple[str, ...]] = Counter()
    phrase_blocks: dict[tuple[str, ...], set[int]] = defaultdict(set)
    phrase_forms: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for i, b in enumerate(doc.blocks):
        if not b.is_prose or b.kind == "heading" or i in aside:  # headings count through heading_words
            continue
        for run in _phrases(b.text, b.code, stop):
            lows = tuple(T.fold(w) for w in run)
            for w, low in zip(run, lows, strict=True):
                unigram[low] += 1
                unigram_blocks[low].add(i)
                forms[low][w] += 1
            for size in (2, 3):
                for k in range(len(run) - size + 1):
                    key = lows[k : k + size]
                    phrase[key] += 1
                    phrase_blocks[key].add(i)
                    phrase_forms[key][_camel(run[k : k + size])] += 1

    for sentence in doc.sentences:  # a word written with a capital inside a sentence is a name
        if sentence.kind == "heading" or sentence.block in aside:
            continue
        for w in T.tokens(sentence.text)[1:]:
            if w[:1].isupper() and not w.isupper() and not T.has_cjk(w):
                capital_mid[T.fold(w)] += 1
    for low in list(unigram):  # "clients" counts for "client", "dependencies" for "dependency"
        one = low[:-3] + "y" if low.endswith("ies") else low[:-1] if low.endswith("s") else ""
        if one and one in unigram:
            unigram[one] += unigram.pop(low)
            unigram_blocks[one] |= unigram_blocks.pop(low)
            forms[one].update(forms.pop(low))
            capital_mid[one] += capital_mid.pop(low, 0)
    scored: dict[str, float] = {}
    parts_of: dict[str, tuple[str, ...]] = {}
    for key, count in phrase.items():
        spread = len(phrase_blocks[key])
        in_title = sum(w in title_words for w in key) == len(key)
        in_heading = sum(w in heading_words for w in key) == len(key)
        if key[0] in _GENERIC or (key[-1] in _GENERIC and not (in_title or in_heading)):
            continue
        if not ((count >= 2 and spread >= 2) or (in_title and count >= 1) or (in_heading and count >= 2)):
            continue
        form = phrase_forms[key].most_common(1)[0][0]
        scored[form] = count * 1.5 + spread + (4 if in_title else 0) + (2 if in_heading else 0) + 0.5 * len(key)
        parts_of[form] = key
    for low, count in unigram.items():
        spread = len(unigram_blocks[low])
        if low in _GENERIC or len(low) < 4 or low.endswith(("ly", "ing", "ed")) or (low.endswith("er") and low not in title_words):
            continue
        name = capital_mid[low] >= 2
        frequent = count >= 5 and spread >= 3 and len(low) >= 6
        if not (frequent or (low in title_words and count >= 2) or name):
            continue
        form = _camel([forms[low].most_common(1)[0][0]])
        scored[form] = count + spread * 0.5 + (3 if low in title_words else 0) + (1.5 if low in heading_words else 0) + (1 if name else 0)
        parts_of[form] = (low,)
    chosen: list[str] = []
    used: set[str] = set()
    for form in sorted(scored, key=lambda f: (-scored[f], f)):
        if scored[form] < 4.0:
            break  # nothing below this reads as a topic
        parts = parts_of[form]
        if any(p in used for p in parts) or len(form) > 30 or not regex.fullmatch(r"\w*[^\W\d_]\w*", form):
            continue
        chosen.append(form)
        used.update(parts)
        if len(chosen) >= 12:
            break
    return tuple(chosen)


# --- the analysis ------------------------------------------------------------------------------


def _analyze(doc: sources.Document) -> Analysis:
    stop = _STOPWORDS.get(doc.language, frozenset()) | _STOPWORDS["en"]
    sentences = doc.sentences
    quotable = [(s, doc.blocks[s.block]) for s in sentences if _quotable(s, doc.blocks[s.block])]
    # A README's changelog and a guide's worked examples are left out when there is enough
    # besides; release notes alone, or a story told by example, are the point. A record left
    # out (a changelog, the sponsors) gives no hashtag either.
    records = _record_blocks(doc)
    left_out: set[int] = set()
    for aside in (records, _example_blocks(doc)):
        if aside and sum(1 for s, _ in quotable if s.block not in aside) >= 3:
            quotable = [(s, b) for s, b in quotable if s.block not in aside]
            left_out |= aside
    keywords = _keywords(doc, stop, left_out & records)
    key_words = {T.fold(w) for k in keywords for w in regex.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", k)}
    key_words |= {T.fold(w) for w in T.tokens(doc.title)} - stop
    if not quotable:
        quotable = [(s, doc.blocks[s.block]) for s in sentences if _quotable(s, doc.blocks[s.block], lenient=True)]
    n = max(1, len(quotable))
    seen: set[str] = set()
    out: list[Candidate] = []
    for order, (s, block) in enumerate(quotable):
        norm = " ".join(s.text.casefold().split())
        if norm in seen:
            continue
        seen.add(norm)
        words = T.count_words(s.text)
        content = set(_content_words(s.text, stop))
        central = len(content & key_words) / (len(content) + 2) ** 0.5
        score = central
        score += 0.8 * (1 - order / n)  # earlier is more likely the point
        score += 0.4 if s.index == 0 else 0.0
        score += 0.3 if _NUMBER.search(s.text) else 0.0
        if words < 6:
            score *= 0.5
        elif words < 9:
            score *= 0.8
        elif words > 40:
            score *= 0.5
        anaphoric = _first_word(s.text) in _ANAPHORIC or s.text.startswith(_ANAPHORIC_CJK)
        if anaphoric:
            score *= 0.7
        if any(c in s.text for c in block.code):
            score *= 0.6
        clock = _CLOCK.search(s.text) is not None
        if clock:
            score *= 0.5  # a step of a worked example (a story told by the clock keeps its order)
        out.append(Candidate(
            text=s.text, index=order, block=s.block, first_in_block=s.index == 0, kind=s.kind, section=s.section,
            words=words, spoken=ptext.spoken_words(s.text), number=bool(_NUMBER.search(s.text)), strong_number=bool(_STRONG_NUMBER.search(_CLOCK.sub(" ", s.text))),
            imperative=_first_word(s.text) in _IMPERATIVE, question=s.text.rstrip("\"'”’»)」』").endswith(("?", "？")),
            contrast=bool(_CONTRAST.search(s.text)), claim=bool(_CLAIM.search(s.text)), anaphoric=anaphoric,
            clock=clock, score=round(score, 6),
        ))
    return Analysis(
        title=doc.title, title_from_source=doc.title_from_source, language=doc.language, candidates=tuple(out),
        keywords=keywords, headings=tuple(b.text for b in doc.blocks if b.kind == "heading"),
        prose_words=T.count_words(doc.prose_text()),
    )


_CACHE: OrderedDict[str, Analysis] = OrderedDict()
_LOCK = threading.Lock()


def analyze(doc: sources.Document) -> Analysis:
    """The analysis of ``doc``: computed once per document (every platform of a generation
    shares it), the last few remembered."""
    key = hashlib.sha256((doc.title + "\0" + doc.markdown()).encode()).hexdigest()
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        result = _analyze(doc)
        _CACHE[key] = result
        while len(_CACHE) > 16:
            _CACHE.popitem(last=False)
        return result
