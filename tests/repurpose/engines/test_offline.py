"""The offline engine: valid for every platform, deterministic, and only the source's words."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from omnipostr.repurpose import faithfulness
from omnipostr.repurpose import platforms as pf
from omnipostr.repurpose.engines import get_engine, prompting, reset_engines
from omnipostr.repurpose.engines.base import Delta, Done, Failed, Options, Source
from omnipostr.repurpose.engines.offline import OfflineEngine, analyze, build_variant
from omnipostr.repurpose.platforms import text as ptext
from omnipostr.settings import Settings

ARTICLES = {
    p.stem: p.read_text()
    for p in (Path(__file__).resolve().parents[2] / "fixtures" / "articles").glob("*.md")
}
PLATFORMS = list(pf.PLATFORMS)
LINK = "https://blog.example.com/the-post"
CTA = "Reply with the one change you would try first."

OPTION_SETS = {
    "defaults": Options(),
    "everything": Options(link=LINK, call_to_action=CTA, emoji="lots"),
    "plain": Options(hashtags=False, emoji="none"),
    "tight": Options(
        link=LINK,
        platform_settings={
            "x_limit": 140,
            "mastodon_limit": 300,
            "tiktok_seconds": 20,
            "youtube_shorts_seconds": 15,
            "instagram_hashtag_cap": 2,
        },
    ),
}

# What the engine may add besides the source's sentences.
_FRAMING = [
    re.compile(r"(?<!\w)#\w+"),  # hashtags
    re.compile(r"\s\d{1,3}/\d{1,3}$", re.M),  # thread numbers
    re.compile(r"^(?:Read more|Read the full article|Key points):?", re.M),
    re.compile(r"Link in bio\."),
    re.compile(r"^- ", re.M),
]


def _strip_framing(text: str, options: Options) -> str:
    if options.call_to_action:
        text = text.replace(options.call_to_action, "")
    if options.link:
        text = text.replace(options.link, "")
    text = "".join(g for g in ptext.graphemes(text) if not ptext.is_emoji(g))
    text = re.sub(r"^[ \t]+", "", text, flags=re.M)
    for pattern in _FRAMING:
        text = pattern.sub("", text)
    return text


def _norm(text: str) -> str:
    text = re.sub(r"[*_`#>]|\[|\]\([^)]*\)", "", text)
    return " ".join(text.split())


def _sentences_not_in_source(variant, source: Source, options: Options) -> list[str]:
    haystack = _norm(source.title + "\n" + source.text)
    strays = []
    for part in [*variant.fields.values(), *variant.posts]:
        for sentence in ptext.sentences(_strip_framing(part, options)):
            s = _norm(sentence.strip(" :"))
            if not s or s == ":":
                continue
            if s.endswith("…"):
                s = s[:-1].rstrip()
            if s not in haystack:
                strays.append(sentence)
    return strays


@pytest.mark.promise("AI-2")
@pytest.mark.parametrize("option_set", list(OPTION_SETS))
@pytest.mark.parametrize("article", sorted(ARTICLES))
def test_every_platform_is_valid_faithful_and_deterministic(article, option_set):
    options = OPTION_SETS[option_set]
    source = Source(title="", text=ARTICLES[article])
    for platform in PLATFORMS:
        variant = build_variant(source, platform, options)
        assert pf.validate(platform, variant, options.platform_settings) == [], (platform, variant)
        assert _sentences_not_in_source(variant, source, options) == [], platform
        flags = faithfulness.check(
            source.text, variant.text, allowed_links=[LINK], allowed_terms=[CTA]
        )
        assert flags == [], (platform, flags)
        assert build_variant(Source("", ARTICLES[article]), platform, options) == variant


def test_the_checker_in_this_file_catches_an_invented_sentence():
    source = Source("", ARTICLES["sourdough"])
    variant = build_variant(source, "linkedin", Options())
    variant.posts[0] += "\n\nStarters love jazz music."
    assert _sentences_not_in_source(variant, source, Options()) == ["Starters love jazz music."]


def test_formats_per_platform():
    options = Options(link=LINK, call_to_action=CTA)
    source = Source("", ARTICLES["four-day-week"])
    x = build_variant(source, "x", options)
    assert len(x.posts) >= 3
    assert [pf.numbering(p) for p in x.posts] == [
        (i, len(x.posts)) for i in range(1, len(x.posts) + 1)
    ]
    assert LINK in x.posts[-1] and CTA in x.posts[-1]

    linkedin = build_variant(source, "linkedin", options).posts[0]
    first_line = linkedin.split("\n")[0]
    assert len(first_line) <= 210 and "\n\n" in linkedin
    assert linkedin.rstrip().split("\n")[-1].startswith("#")  # hashtags close the post
    assert CTA in linkedin and LINK in linkedin

    insta = build_variant(source, "instagram", options).posts[0]
    assert not ptext.find_links(insta) and "Link in bio." in insta
    assert len(ptext.hashtags(insta)) == 5 and insta.rstrip().split("\n")[-1].startswith("#")

    tiktok = build_variant(source, "tiktok", options)
    assert set(tiktok.fields) == {"hook", "caption"}
    assert tiktok.posts[0].startswith(tiktok.fields["hook"])
    assert not ptext.find_links(tiktok.text)
    assert pf.estimate_duration_seconds(tiktok.posts[0]) <= 60
    assert len(ptext.script_beats(tiktok.posts[0])) >= 3

    shorts = build_variant(source, "youtube_shorts", options)
    assert shorts.fields["title"] == "What We Learned From Six Months of a Four-Day Week"
    assert LINK in shorts.fields["description"] and "#Shorts" in shorts.fields["description"]
    assert not ptext.find_links(shorts.posts[0])

    letter = build_variant(source, "newsletter", options)
    assert letter.fields["subject"] == "What We Learned From Six Months of a Four-Day Week"
    assert letter.fields["preview"] and letter.fields["preview"] != letter.fields["subject"]
    assert "Key points:\n- " in letter.posts[0] and LINK in letter.posts[0]
    assert not ptext.hashtags(letter.text)


def test_options_hashtags_off_and_no_emoji():
    source = Source("", ARTICLES["postgres-indexes"])
    for platform in PLATFORMS:
        v = build_variant(source, platform, Options(hashtags=False, emoji="none"))
        assert ptext.hashtags(v.text) == [], platform
        assert not any(ptext.is_emoji(g) for g in ptext.graphemes(v.text)), platform
    lots = build_variant(source, "linkedin", Options(emoji="lots")).posts[0]
    assert sum(ptext.is_emoji(g) for g in ptext.graphemes(lots)) >= 4


def test_analysis_finds_title_hook_numbers_and_keywords():
    an = analyze("", ARTICLES["postgres-indexes"])
    assert an.title == "The Index That Made Our Checkout Page 40 Times Faster"
    assert an.language == "en"
    assert "220" in an.numbers and "1%" in an.numbers and "$2,400" in an.numbers
    assert re.search(r"\d", an.hook())  # a hook with a number beats a plain one
    assert "PostgreSQL" in an.keywords and "Index" in an.keywords
    assert all(re.fullmatch(r"\w+", k) for k in an.keywords)
    plain = analyze("", ARTICLES["sourdough"])
    assert plain.title == "Why Your Sourdough Starter Smells Like Nail Polish"  # a plain first line
    assert "NailPolish" in plain.keywords
    # Code, headings and sentences with links are never quoted on their own.
    assert not any("CREATE INDEX" in s.text or "http" in s.text for s in an.candidates)


def test_a_question_makes_a_good_hook():
    text = (
        "Do you really need a database for a side project? Most side projects never reach a "
        "hundred users. A flat file handles that load easily. Backups are a single copy "
        "command. You can always move to a database when the project grows."
    )
    assert analyze("", text).hook() == "Do you really need a database for a side project?"


CLOUD_BILL = """How we cut our cloud bill by 43% without slowing anything down

Last quarter our infrastructure spend reached $182,000 a month. Nobody had decided that; it \
simply grew. So we spent six weeks measuring where every dollar went.

The first surprise was storage. Forty percent of our S3 bill was logs that nobody had read in \
two years. We moved them to a cold tier after 30 days, saving $21,000 a month.

Maria Chen, our head of platform, put it simply: "Every resource needs an owner and an expiry \
date." The result: $104,000 a month, with p95 latency unchanged at 120 ms. The lesson is not a \
tool.
"""


def test_a_headline_of_the_source_opens_the_posts_and_names_the_hashtag():
    an = analyze("", CLOUD_BILL)
    assert an.headline == "How we cut our cloud bill by 43% without slowing anything down"
    x = build_variant(Source("", CLOUD_BILL), "x", Options())
    assert x.posts[0].startswith(an.headline)
    # The headline's phrase makes the tag; a verb of the headline or a name quoted once does not.
    assert an.keywords[0] == "CloudBill"
    assert not {"Slowing", "Chen", "Maria"} & set(an.keywords)
    # A shorts script does not open with the line that is already its title.
    shorts = build_variant(Source("", CLOUD_BILL), "youtube_shorts", Options())
    assert shorts.fields["title"] == an.headline and not shorts.posts[0].startswith(an.headline)
    for platform in PLATFORMS:
        assert faithfulness.check(CLOUD_BILL, build_variant(Source("", CLOUD_BILL), platform, Options()).text) == []


def test_each_take_opens_differently_and_keeps_every_rule():
    source = Source("", ARTICLES["four-day-week"])
    for platform in PLATFORMS:
        takes = [build_variant(source, platform, Options(variation=k)) for k in range(4)]
        assert takes[0] == build_variant(source, platform, Options())  # the first take is the default
        for v in takes:
            assert pf.validate(platform, v) == [], platform
            assert faithfulness.check(source.text, v.text) == [], platform
    openings = [build_variant(source, "linkedin", Options(variation=k)).posts[0].split("\n")[0] for k in range(4)]
    assert len(set(openings[:3])) == 3 and openings[3] == openings[0]  # the best three, in turn


def test_no_thread_post_is_hashtags_alone():
    for article in ARTICLES.values():
        for platform in ("x", "threads", "bluesky", "mastodon"):
            for take in range(3):
                v = build_variant(Source("", article), platform, Options(variation=take))
                for post in v.posts:
                    words = pf.strip_numbering(post).split()
                    assert not words or not all(w.startswith("#") for w in words), (platform, post)


def test_a_thread_emoji_only_opens_a_real_thread():
    source = Source("", ARTICLES["four-day-week"])
    for platform in ("x", "threads", "bluesky"):
        v = build_variant(source, platform, Options())
        assert ("🧵" in v.posts[0]) == (len(v.posts) > 1), platform
    short = Source("", "Short posts need no thread. One post says it all, and it says it well.")
    assert "🧵" not in build_variant(short, "threads", Options()).text


def test_a_title_that_is_not_in_the_text_or_promises_nothing_is_no_hook():
    typed = analyze("Cutting costs: notes", CLOUD_BILL.split("\n", 1)[1])
    assert typed.headline == "" and typed.hook() != "Cutting costs: notes"
    plain = analyze("", "Quarterly notes\n\n" + CLOUD_BILL.split("\n", 1)[1])
    assert plain.title == "Quarterly notes" and plain.headline == ""


def test_source_language_is_kept_with_its_own_labels():
    text = (
        "El trabajo remoto cambió la forma en que los equipos se comunican. Las reuniones "
        "largas se volvieron menos frecuentes y más cortas. Muchos equipos adoptaron documentos "
        "compartidos para las actualizaciones de estado. El resultado fue más tiempo para el "
        "trabajo profundo y menos interrupciones durante el día. Los equipos remotos también "
        "aprendieron a escribir mejor."
    )
    source = Source("", text)
    options = Options(link=LINK, language="German")
    assert analyze("", text).language == "es"
    for platform in PLATFORMS:
        v = build_variant(source, platform, options)
        assert pf.validate(platform, v) == []
        assert "Read more" not in v.text and "Key points" not in v.text
    assert "Leer más: " + LINK in build_variant(source, "linkedin", options).posts[0]
    # German was asked for; the offline engine cannot translate, so it keeps Spanish.
    assert "remoto" in build_variant(source, "x", options).text


def test_tiny_and_messy_sources_still_give_valid_posts():
    for text in [
        "One sentence only.",
        "no punctuation at all just words and more words",
        "# Heading only",
        "- a list item\n- another list item here with words\n- third",
        "短い文章です。これはテストです。",
        "A" * 5000,
    ]:
        for platform in PLATFORMS:
            v = build_variant(Source("", text), platform, Options(link=LINK))
            assert pf.validate(platform, v) == [], (text[:20], platform, v)


async def _collect(engine, source, platform, options=None):
    events = []
    async for event in engine.stream(source, platform, options or Options()):
        events.append(event)
    return events


async def test_engine_streams_deltas_then_done_quickly():
    engine = OfflineEngine()
    source = Source("", ARTICLES["four-day-week"])
    started = time.perf_counter()
    for platform in PLATFORMS:
        events = await _collect(engine, source, platform)
        done = events[-1]
        assert isinstance(done, Done)
        deltas = [e for e in events[:-1] if isinstance(e, Delta)]
        assert len(deltas) == len(events) - 1 >= 2
        assert "".join(d.text for d in deltas) == done.raw
        assert prompting.parse(platform, done.raw) == done.variant
        assert done.model == engine.model == "omnipostr-offline-1"
        assert done.usage.cost_usd == 0 and done.usage.input_tokens == 0
    assert time.perf_counter() - started < 2.0


async def test_engine_delay_knob_slows_the_stream():
    engine = OfflineEngine(delay=0.01, chunk_chars=200)
    started = time.perf_counter()
    events = await _collect(engine, Source("", ARTICLES["sourdough"]), "x")
    assert time.perf_counter() - started >= 0.01 * (len(events) - 1)


async def test_engine_fails_readably_on_empty_source_or_unknown_platform():
    engine = OfflineEngine()
    [failed] = await _collect(engine, Source("", "   \n "), "x")
    assert isinstance(failed, Failed) and failed.reason == "The source has no text to repurpose."
    assert not failed.retryable
    [failed] = await _collect(engine, Source("", "Text."), "myspace")
    assert isinstance(failed, Failed) and "myspace" in failed.reason


def test_get_engine_without_a_key_is_offline():
    reset_engines()
    engine = get_engine(Settings(anthropic_api_key=None))
    assert isinstance(engine, OfflineEngine) and engine.name == "offline"
    assert get_engine(Settings(anthropic_api_key=None)) is engine
