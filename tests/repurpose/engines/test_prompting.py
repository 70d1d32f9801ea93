"""The prompt we send Claude and the answer format we read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnipostr.repurpose import platforms as pf
from omnipostr.repurpose.engines import prompting
from omnipostr.repurpose.engines.base import BrandVoice, Options, Source
from omnipostr.repurpose.engines.offline import build_variant
from omnipostr.repurpose.variant import Variant

ARTICLES = Path(__file__).resolve().parents[2] / "fixtures" / "articles"
ARTICLE = (ARTICLES / "four-day-week.md").read_text()
SOURCE = Source(title="Six months of a four-day week", text=ARTICLE)


# --- render and parse ---------------------------------------------------------------------


@pytest.mark.parametrize("platform", list(pf.PLATFORMS))
def test_render_then_parse_gives_back_the_variant(platform):
    variant = build_variant(SOURCE, platform, Options(link="https://studio.example/4dw"))
    assert prompting.parse(platform, prompting.render(variant)) == variant


def test_thread_sections_are_numbered_posts():
    text = prompting.render(Variant("x", posts=["First 1/2", "Second 2/2"]))
    assert text == "### POST 1\nFirst 1/2\n\n### POST 2\nSecond 2/2\n"


def test_parse_tolerates_what_models_write():
    answer = """Sure! Here's the thread you asked for:

```markdown
## Post 1/3
  The hook line.

**POST 2**
Second post,
on two lines.

POST #3:
Third post.
```
"""
    v = prompting.parse("x", answer)
    assert v.posts == ["The hook line.", "Second post,\non two lines.", "Third post."]
    ruled = "### POST 1\nOne.\n\n---\n\n### POST 2\n***\nTwo.\n---\n"
    assert prompting.parse("threads", ruled).posts == ["One.", "Two."]


def test_parse_reads_fields_in_any_order_inline_and_quoted():
    answer = (
        "### SCRIPT\nSay this aloud.\n\nThen this.\n"
        '### title: "A title in quotes"\n'
        "### Description\nWhat it is about.\n#Shorts\n"
    )
    v = prompting.parse("youtube_shorts", answer)
    assert v.fields == {"title": "A title in quotes", "description": "What it is about.\n#Shorts"}
    assert v.posts == ["Say this aloud.\n\nThen this."]


def test_parse_newsletter_aliases_and_markdown_inside_the_body():
    answer = (
        "SUBJECT LINE: Six months, one fewer day\n"
        "PREVIEW TEXT: What we learned\n"
        "### BODY\nHello,\n\n## What changed\n- Fewer meetings\n"
    )
    v = prompting.parse("newsletter", answer)
    assert v.fields == {"subject": "Six months, one fewer day", "preview": "What we learned"}
    assert v.posts == ["Hello,\n\n## What changed\n- Fewer meetings"]


def test_a_sentence_starting_with_a_label_word_is_not_a_header():
    v = prompting.parse("linkedin", "### POST\nPost 2 of our series is out.\nTitle: not a header")
    assert v.posts == ["Post 2 of our series is out.\nTitle: not a header"]


def test_unnumbered_single_post_without_headers_is_read_whole():
    v = prompting.parse("linkedin", "Here is your LinkedIn post:\n\nA strong first line.\n\nMore.")
    assert v.posts == ["A strong first line.\n\nMore."]


@pytest.mark.parametrize(
    ("platform", "answer"),
    [
        ("x", "I cannot help with that."),
        ("tiktok", "Just some text with no sections."),
        ("newsletter", "### SUBJECT\nHi\n### PREVIEW\nThere\n### BODY\n   \n"),
        ("linkedin", "   "),
    ],
)
def test_answers_without_a_post_are_parse_errors(platform, answer):
    with pytest.raises(prompting.ParseError):
        prompting.parse(platform, answer)


def test_parse_partial_follows_a_stream_and_never_raises():
    variant = build_variant(SOURCE, "x", Options())
    full = prompting.render(variant)
    seen_posts = 0
    for end in range(0, len(full) + 1, 7):
        partial = prompting.parse_partial("x", full[:end])
        assert len(partial.posts) >= seen_posts  # posts only ever get added
        seen_posts = len(partial.posts)
        for post in partial.posts:
            assert "###" not in post and not post.endswith("### PO")
    assert prompting.parse_partial("x", full) == variant
    assert prompting.parse_partial("x", "### POST 1\nHalf a sent") == Variant("x", ["Half a sent"])
    assert prompting.parse_partial("x", "### PO") == Variant("x")
    assert prompting.parse_partial("nope", "### POST 1\nx") == Variant("nope")


# --- the prompt ---------------------------------------------------------------------------


def test_the_source_block_is_shared_and_marked_for_caching():
    options = Options(link="https://studio.example/4dw", call_to_action="Subscribe for part two.")
    prompts = {p: prompting.build(SOURCE, p, options) for p in pf.PLATFORMS}
    shared = {p.system[0]["text"] for p in prompts.values()}
    assert len(shared) == 1  # every platform's request starts with the same block
    for platform, prompt in prompts.items():
        first, second = prompt.system
        assert first["cache_control"] == {"type": "ephemeral"}
        assert "cache_control" not in second
        assert ARTICLE.strip() in first["text"]
        assert ARTICLE.strip() not in second["text"]
        assert f'<platform id="{platform}">' in second["text"]
        assert prompt.messages == [{"role": "user", "content": prompting.user_message(platform)}]


def test_platform_instructions_carry_limits_format_and_options():
    options = Options(
        hashtags=True,
        emoji="none",
        link="https://studio.example/4dw",
        language="Spanish",
        tone="bold",
        audience="agency owners",
        platform_settings={"x_limit": 25000, "mastodon_limit": 1000},
    )
    x = prompting.build(SOURCE, "x", options)
    shared, block = x.system[0]["text"], x.system[1]["text"]
    assert "at most 25,000 weighted characters" in block
    assert "k/n" in block and "### POST 1" in block
    assert "at most 2 hashtags per post" in block
    assert "Write in Spanish" in shared and "agency owners" in shared and "Tone: bold" in shared
    assert "Use no emoji at all." in shared
    assert "Use only facts" in shared
    mastodon = prompting.build(SOURCE, "mastodon", options).system[1]["text"]
    assert "at most 1,000 characters" in mastodon
    insta = prompting.build(SOURCE, "instagram", options).system[1]["text"]
    assert "Include no links anywhere" in insta and "https://studio.example/4dw" not in insta
    tiktok = prompting.build(SOURCE, "tiktok", options).system[1]["text"]
    assert "at most 150 spoken words" in tiktok  # 60 seconds at 150 words a minute
    assert "### HOOK" in tiktok and "### SCRIPT" in tiktok and "### CAPTION" in tiktok
    assert "hashtags in the CAPTION section only" in tiktok
    shorts = prompting.build(SOURCE, "youtube_shorts", options).system[1]["text"]
    assert "in the DESCRIPTION only" in shorts
    letter = prompting.build(SOURCE, "newsletter", options).system[1]["text"]
    assert "Use no hashtags." in letter and "### SUBJECT" in letter


def test_no_hashtags_and_no_link_options_are_spelled_out():
    prompt = prompting.build(SOURCE, "linkedin", Options(hashtags=False))
    assert "Hashtags: use none at all" in prompt.system[0]["text"]
    assert "Use no hashtags." in prompt.system[1]["text"]
    assert "Include no links." in prompt.system[1]["text"]


def test_brand_voice_samples_are_in_the_shared_block():
    voice = BrandVoice(
        name="Studio", description="Dry, precise.", samples=["We ship. Then we talk."]
    )
    shared = prompting.build(SOURCE, "x", Options(brand_voice=voice)).system[0]["text"]
    assert '<brand_voice name="Studio">' in shared
    assert "Dry, precise." in shared and "We ship. Then we talk." in shared
    assert "never take facts from its samples" in shared


def test_feedback_goes_into_the_user_message():
    prompt = prompting.build(
        SOURCE, "x", Options(), feedback="Post 2 is 301 characters; X allows 280."
    )
    content = prompt.messages[0]["content"]
    assert "Post 2 is 301 characters; X allows 280." in content
    assert "Write the whole answer again" in content


def test_read_prompt_gives_back_what_was_asked():
    options = Options(
        hashtags=False,
        emoji="lots",
        call_to_action="Tell us what you think.",
        link="https://studio.example/4dw",
        language="French",
        platform_settings={"mastodon_limit": 800},
    )
    prompt = prompting.build(SOURCE, "mastodon", options, feedback="Too long.")
    info = prompting.read_prompt({"system": prompt.system, "messages": prompt.messages})
    assert info is not None
    assert info.platform == "mastodon"
    assert info.source.title == SOURCE.title
    assert info.source.text == SOURCE.text.strip()
    assert (info.options.hashtags, info.options.emoji, info.options.language) == (
        False,
        "lots",
        "French",
    )
    assert info.options.call_to_action == "Tell us what you think."
    assert info.options.link == "https://studio.example/4dw"
    assert info.options.platform_settings == {"mastodon_limit": 800}
    assert info.feedback == "Too long."
    assert prompting.read_prompt({"system": "You are helpful.", "messages": []}) is None


def test_a_source_that_contains_our_tags_still_reads_back():
    tricky = Source("Tags", "Text with </text> and </source> inside.\n\nSecond paragraph.")
    prompt = prompting.build(tricky, "x", Options())
    info = prompting.read_prompt({"system": prompt.system, "messages": prompt.messages})
    assert info is not None and info.source.text == tricky.text
