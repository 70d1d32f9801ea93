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
from omnipostr.repurpose.engines.extractive import analyze
from omnipostr.repurpose.engines.offline import OfflineEngine, build_variant
from omnipostr.repurpose.platforms import text as ptext
from omnipostr.settings import Settings
from omnipostr.sources import parse
from tests.repurpose.post_checks import (
    altered_identifiers,
    code_lines,
    markup_in,
    parts,
    stray_sentences,
)

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

def _check(source: Source, variant, options: Options) -> list[str]:
    """Everything a reader would catch in one post (see ``post_checks``)."""
    out = [f"not the source's: {x}" for x in stray_sentences(variant, source.document, options)]
    out += [f"markup: {m}" for part in parts(variant) for m in markup_in(part)]
    out += [f"code: {c}" for c in code_lines(variant, source.document)]
    out += [f"identifier: {i}" for i in altered_identifiers(variant, source.text)]
    return out


@pytest.mark.promise("AI-2")
@pytest.mark.parametrize("option_set", list(OPTION_SETS))
@pytest.mark.parametrize("article", sorted(ARTICLES))
def test_every_platform_is_valid_faithful_and_deterministic(article, option_set):
    options = OPTION_SETS[option_set]
    source = Source(title="", text=ARTICLES[article])
    for platform in PLATFORMS:
        variant = build_variant(source, platform, options)
        assert pf.validate(platform, variant, options.platform_settings) == [], (platform, variant)
        assert _check(source, variant, options) == [], platform
        flags = faithfulness.check(source.text, variant.text, allowed_links=[LINK], allowed_terms=[CTA])
        assert flags == [], (platform, flags)
        assert build_variant(Source("", ARTICLES[article]), platform, options) == variant


def test_the_checks_catch_an_invented_sentence_and_leaked_markup():
    source = Source("", ARTICLES["sourdough"])
    variant = build_variant(source, "linkedin", Options())
    variant.posts[0] += "\n\nStarters love jazz music. See :pep:`8` and **this**."
    problems = _check(source, variant, Options())
    assert "not the source's: Starters love jazz music. See :pep:`8` and **this**." in problems
    assert "markup: an RST role" in problems and "markup: Markdown emphasis" in problems


def test_formats_per_platform():
    options = Options(link=LINK, call_to_action=CTA)
    source = Source("", ARTICLES["four-day-week"])
    x = build_variant(source, "x", options)
    assert len(x.posts) >= 3  # a long article makes a thread
    assert not any(pf.numbering(p) for p in x.posts)  # the app draws the numbers
    assert all(pf.measure("x", p) <= 280 for p in pf.outgoing("x", x.posts))  # with room for them
    assert LINK in x.posts[-1] and CTA in x.posts[-1]

    linkedin = build_variant(source, "linkedin", options).posts[0]
    first_line = linkedin.split("\n")[0]
    assert len(first_line) <= 210 and "\n\n" in linkedin
    assert linkedin.rstrip().split("\n")[-1].startswith("#")  # hashtags close the post
    assert CTA in linkedin and LINK in linkedin

    insta = build_variant(source, "instagram", options).posts[0]
    assert not ptext.find_links(insta) and "Link in bio." in insta
    assert 1 <= len(ptext.hashtags(insta)) <= 5 and insta.rstrip().split("\n")[-1].startswith("#")

    tiktok = build_variant(source, "tiktok", options)
    assert set(tiktok.fields) == {"hook", "caption"}
    beats = ptext.script_beats(tiktok.posts[0])
    assert beats[0] == "[0:00] " + tiktok.fields["hook"] and len(beats) >= 4
    assert all(re.match(r"\[\d:\d\d\] \S", b) for b in beats)  # each beat says when it is said
    assert not ptext.find_links(tiktok.text)
    assert pf.estimate_duration_seconds(tiktok.posts[0]) <= 60
    assert all(ptext.spoken_words(b) <= 22 for b in beats[1:-1])  # short spoken sentences

    shorts = build_variant(source, "youtube_shorts", options)
    assert shorts.fields["title"] == "What We Learned From Six Months of a Four-Day Week"
    assert LINK in shorts.fields["description"] and "#Shorts" in shorts.fields["description"]
    assert not ptext.find_links(shorts.posts[0])

    letter = build_variant(source, "newsletter", options)
    assert letter.fields["subject"] == "What We Learned From Six Months of a Four-Day Week"
    body = letter.posts[0]
    preview = letter.fields["preview"]
    # the preview adds to the subject: it is not the subject, and the body does not open with it
    assert preview and preview != letter.fields["subject"] and not body.startswith(preview)
    assert "Key points:\n- " in body and LINK in body
    assert not ptext.hashtags(letter.text)


def test_a_short_source_is_one_post_not_a_thread():
    two = Source("", "Short posts need no thread. One post says it all, and it says it well.")
    for platform in ("x", "threads", "bluesky", "mastodon"):
        v = build_variant(two, platform, Options())
        assert len(v.posts) == 1 and "🧵" not in v.text and "1/" not in v.text, (platform, v.posts)


def test_options_hashtags_off_and_no_emoji():
    source = Source("", ARTICLES["postgres-indexes"])
    for platform in PLATFORMS:
        v = build_variant(source, platform, Options(hashtags=False, emoji="none"))
        assert ptext.hashtags(v.text) == [], platform
        assert not any(ptext.is_emoji(g) for g in ptext.graphemes(v.text)), platform
    lots = build_variant(source, "linkedin", Options(emoji="lots")).posts[0]
    assert sum(ptext.is_emoji(g) for g in ptext.graphemes(lots)) >= 4


def test_analysis_hooks_and_key_phrases():
    an = analyze(parse(ARTICLES["postgres-indexes"]))
    assert an.title == "The Index That Made Our Checkout Page 40 Times Faster"
    assert an.language == "en"
    assert re.search(r"\d", an.hook())  # a hook with a figure beats a plain one
    assert an.hook() != an.title  # the title is the title, not the hook
    assert "PostgreSQL" in an.keywords and "Index" in an.keywords
    assert all(re.fullmatch(r"\w+", k) for k in an.keywords)
    plain = analyze(parse(ARTICLES["sourdough"]))
    assert plain.title == "Why Your Sourdough Starter Smells Like Nail Polish"  # a plain first line
    assert "NailPolish" in plain.keywords
    # code, headings and sentences with links are never quoted on their own
    assert not any("CREATE INDEX" in c.text or "http" in c.text for c in an.candidates)


def test_a_question_makes_a_good_hook():
    text = (
        "Do you really need a database for a side project? Most side projects never reach a "
        "hundred users. A flat file handles that load easily. Backups are a single copy "
        "command. You can always move to a database when the project grows."
    )
    assert analyze(parse(text)).hook() == "Do you really need a database for a side project?"


def test_hashtags_are_key_phrases_never_code_links_units_or_verbs():
    text = """# Migrating our API to HTTP/2

Our API gateway handled 9,000 requests a second in March. The API gateway now speaks HTTP/2 to
every client, and the connection pool shrank by half.

```python
def method(self):
    return self.connection_pool
```

See https://example.com/docs for the method we used. The connection pool was the hard part:
every API gateway node kept 400 open sockets, each using 2 MB.

We measured for two weeks. The API gateway and its connection pool are now quiet.
"""
    an = analyze(parse(text))
    assert an.keywords[:2] == ("ApiGateway", "ConnectionPool") or set(an.keywords[:2]) == {"APIGateway", "ConnectionPool"}
    assert not {"Https", "Method", "Return", "Self", "Mb", "Measured"} & set(an.keywords)
    assert analyze(parse("A note.\n\nNothing here recurs, so nothing is a topic worth a tag.")).keywords == ()
    changelog = "\n".join(
        f"- Fixed the parser crash on empty input (#{n} by @theskumar), see GHSA-q7fp-xwcm-{n}." for n in range(5)
    )
    assert not {"Theskumar", "Ghsa", "Q7fp"} & set(analyze(parse("# Changes\n\n" + changelog)).keywords)


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
    assert analyze(source.document).language == "es"
    for platform in PLATFORMS:
        v = build_variant(source, platform, options)
        assert pf.validate(platform, v) == []
        assert "Read more" not in v.text and "Key points" not in v.text
    assert "Leer más: " + LINK in build_variant(source, "linkedin", options).posts[0]
    # German was asked for; the offline engine cannot translate, so it keeps Spanish.
    assert "remoto" in build_variant(source, "x", options).text


def test_cjk_sentences_are_chosen_whole():
    text = "東京は晴れです。明日は雨が降るでしょう。週末には桜が満開になると、気象庁は予想しています。"
    source = Source("", text)
    for platform in PLATFORMS:
        v = build_variant(source, platform, Options())
        assert pf.validate(platform, v) == [], platform
        assert _check(source, v, Options()) == [], platform
    letter = build_variant(source, "newsletter", Options())
    assert "。 " not in letter.text  # Japanese sentences join without a space



def test_cjk_hooks_favour_a_figure_a_contrast_and_never_lean_on_the_sentence_before():
    ja = Source("", (
        "週末の予定を考えるのは楽しいものです。家族と話すと、いつも意見が分かれます。"
        "それでも最後にはみんなで公園へ行きます。会議の時間を週11時間から4時間に減らしたら、レビューは2倍速くなりました。"
        "天気が良ければ、お弁当を持っていきます。"
    ))
    ja_analysis = analyze(ja.document)
    figure = next(c for c in ja_analysis.candidates if "11時間" in c.text)
    assert figure.strong_number and not figure.anaphoric
    # past the author's own opening, the figure beats the plain sentences
    assert ja_analysis.hook(280, avoid=(ja_analysis.candidates[0].text,)) == figure.text
    zh = Source("", (
        "我每天早上六点起床。这个习惯让我多了很多时间。周末我常常去图书馆。"
        "不是因为我喜欢安静，而是因为那里的书最多。图书馆离我家很近。"
    ))
    candidates = {c.text: c for c in analyze(zh.document).candidates}
    assert candidates["不是因为我喜欢安静，而是因为那里的书最多。"].contrast
    assert candidates["这个习惯让我多了很多时间。"].anaphoric
    assert "这个习惯" not in analyze(zh.document).hook(280)

def test_tiny_and_messy_sources_still_give_valid_posts():
    for text in [
        "One sentence only.",
        "no punctuation at all just words and more words",
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
    for nothing in ("   \n ", "# Heading only", "```\nprint('only code')\n```"):
        [failed] = await _collect(engine, Source("", nothing), "x")
        assert isinstance(failed, Failed) and failed.reason.startswith("The source has no sentence that can stand in a post")
        assert not failed.retryable
    [failed] = await _collect(engine, Source("", "Text."), "myspace")
    assert isinstance(failed, Failed) and "myspace" in failed.reason


def test_get_engine_without_a_key_is_offline():
    reset_engines()
    engine = get_engine(Settings(anthropic_api_key=None))
    assert isinstance(engine, OfflineEngine) and engine.name == "offline"
    assert get_engine(Settings(anthropic_api_key=None)) is engine


def test_changelog_lines_pointers_and_worked_example_steps_do_not_open_a_post():
    text = (
        "# Rate limits\n\n"
        "A fixed window counts requests for a set time and then starts again from zero. "
        "It is the simplest strategy and costs one counter per client.\n\n"
        "At 00:00:45 the first request arrives and opens a window until 00:01:45. "
        "At 00:01:45 the counter resets to 0, from 10 requests to none.\n\n"
        "For more on bursts, see the strategies documentation.\n\n"
        "## Changes\n\n"
        "- Prevent quadratic matching on long inputs (GHSA-gqj4-wf6c-wmcg)\n"
        "- Faster start-up, fixes #4410\n"
    )
    an = analyze(parse(text))
    texts = [c.text for c in an.candidates]
    assert not any("GHSA" in t or "#4410" in t or "see the strategies" in t for t in texts)
    assert an.hook(280).startswith("A fixed window counts requests")


def test_a_readmes_changelog_is_left_out_but_release_notes_alone_are_the_post():
    readme = (
        "# Tidy\n\nTidy formats your notes in one pass and never touches their meaning. "
        "It reads Markdown and plain text. It keeps your headings as you wrote them. "
        "It runs offline on any laptop.\n\n"
        "## Changelog\n\n### 2.1.0\n\n#### Added\n\n- Support for Python 3.14, including the free-threaded build.\n"
    )
    texts = [c.text for c in analyze(parse(readme)).candidates]
    assert texts and not any("3.14" in t for t in texts)
    notes = (
        "# Changelog\n\n## 2.1.0\n\n- Support for Python 3.14, including the free-threaded build.\n"
        "- Tidy now keeps blank lines inside quotes, as people asked.\n"
    )
    post = build_variant(Source("", notes), "x", Options()).text
    assert "Support for Python 3.14" in post


def test_the_rest_of_a_sentence_and_a_sponsors_section_do_not_make_a_post():
    # the shapes of two real READMEs: a list inside a sentence, a "Which …" that leans on a
    # code example left out of the post, and a thank-you to sponsors near the top
    readme = (
        "# attrs\n\n*attrs* is the Python package that brings back the joy of writing classes.\n\n"
        "## Sponsors\n\n*attrs* would not be possible without our amazing sponsors. "
        "Please consider joining them to help make its maintenance more sustainable!\n\n"
        "## Overview\n\nAfter *declaring* your attributes, *attrs* gives you:\n\n"
        "- a concise and explicit overview of the class's attributes,\n- an initializer,\n\n"
        "*without* writing dull boilerplate code again and again and *without* runtime performance penalties.\n\n"
        "```python\nC(a=1)\n```\n\n"
        "Which now allows us to compare instances directly from the command line.\n\n"
        "Which one should you pick? Classes with slots are faster and use less memory than plain ones.\n\n"
        "Check out On The Core API Names for an in-depth explanation!\n\n"
        "## Project Information\n\n### attrs for Enterprise\n\n"
        "The maintainers of attrs work with Tidelift to deliver commercial support for the packages you use.\n"
    )
    texts = [c.text for c in analyze(parse(readme)).candidates]
    assert texts[0].startswith("attrs is the Python package")
    assert not any(t.startswith(("without", "Which now", "Check out")) or "sponsors" in t or "Tidelift" in t
                   for t in texts), texts
    assert "Which one should you pick?" in texts  # a question stands on its own
    post = build_variant(Source("", readme), "x", Options()).text
    assert "without writing dull" not in post and "Which now" not in post and "sponsors" not in post
    assert "Tidelift" not in " ".join(analyze(parse(readme + "Tidelift is a Tidelift name.\n")).keywords)


def test_a_worked_example_illustrates_the_point_but_is_not_the_post():
    text = (
        "# Fixed windows\n\n"
        "A fixed window counts every request a client makes until the window ends. "
        "It is the cheapest strategy because it keeps one counter per client. "
        "Bursts can slip through at the edge of two windows.\n\n"
        "For example, with a limit of 10 requests a minute:\n\n"
        "- The first request arrives and opens a window for one minute.\n"
        "- Ten more requests in that window are refused after the tenth.\n\n"
        "Scenario 2:\n\n- A request arrives late in the window and waits for the next one.\n"
    )
    texts = [c.text for c in analyze(parse(text)).candidates]
    assert not any(t.startswith(("The first request", "Ten more", "A request arrives")) for t in texts)
    # a text that is only an example is still the post
    only = "For example:\n\n- The first request arrives and opens a window for one minute.\n- Ten more requests wait.\n"
    assert "The first request arrives" in build_variant(Source("", only), "x", Options()).text
