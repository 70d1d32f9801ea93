"""Platform rules: lengths in each platform's unit, validation, threads and repair."""

from __future__ import annotations

import random
import re

import pytest

from omnipostr.repurpose import platforms as pf
from omnipostr.repurpose.platforms import text as ptext
from omnipostr.repurpose.platforms.rules import split_tag_block
from omnipostr.repurpose.variant import Problem, Variant

FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # ZWJ sequence: 7 code points, 11 UTF-16 units, 25 bytes
FLAG_JP = "🇯🇵"  # two regional indicators
THUMB = "👍🏽"  # emoji + skin tone modifier
E_COMBINING = "e\u0301"  # e + combining acute: one grapheme, NFC "é"
HEART_ON_FIRE = "❤️\u200d🔥"  # emoji 13.1, newer than twitter-text's emoji data

VALID_FIELDS = {
    "tiktok": {"hook": "Why we stopped charging per seat.", "caption": "Pricing lessons #saas"},
    "youtube_shorts": {"title": "Why we dropped seats", "description": "The whole story."},
    "newsletter": {"subject": "Why we dropped seats", "preview": "A year of numbers."},
}


def variant(platform: str, *posts: str, **fields: str) -> Variant:
    merged = dict(VALID_FIELDS.get(platform, {}))
    merged.update(fields)
    return Variant(platform=platform, posts=list(posts), fields=merged)


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def words(n: int, word: str = "word") -> str:
    return " ".join([word] * n)


# --- the catalogue ------------------------------------------------------------------------


def test_platforms_declared_in_order_with_their_rules():
    assert list(pf.PLATFORMS) == [
        "x",
        "linkedin",
        "instagram",
        "threads",
        "bluesky",
        "mastodon",
        "facebook",
        "tiktok",
        "youtube_shorts",
        "newsletter",
    ]
    for platform in pf.PLATFORMS.values():
        assert platform.name and platform.description and platform.unit
        assert platform.limit == pf.limit(platform.id)
        assert platform.unit == pf.unit(platform.id)
    thread = {p.id for p in pf.PLATFORMS.values() if p.thread}
    assert thread == {"x", "threads", "bluesky", "mastodon"}
    assert [(f.name, f.limit) for f in pf.PLATFORMS["tiktok"].fields] == [
        ("hook", 150),
        ("caption", 4000),
    ]
    assert [(f.name, f.limit) for f in pf.PLATFORMS["youtube_shorts"].fields] == [
        ("title", 100),
        ("description", 5000),
    ]
    assert [(f.name, f.limit) for f in pf.PLATFORMS["newsletter"].fields] == [
        ("subject", 150),
        ("preview", 150),
    ]
    caps = {p.id: p.max_hashtags for p in pf.PLATFORMS.values()}
    assert caps["x"] == 2 and caps["linkedin"] == 5 and caps["instagram"] == 5
    assert caps["threads"] == 1 and caps["bluesky"] == 3 and caps["mastodon"] == 5
    assert caps["facebook"] == 3 and caps["tiktok"] == 5
    assert not pf.PLATFORMS["instagram"].links_allowed
    with pytest.raises(TypeError):
        pf.PLATFORMS["x"] = pf.PLATFORMS["linkedin"]  # type: ignore[index]


def test_limits_units_and_settings():
    assert pf.limit("x") == 280 and pf.unit("x") == "weighted characters"
    assert pf.limit("bluesky") == 300 and pf.unit("bluesky") == "graphemes"
    assert pf.limit("mastodon") == 500
    assert pf.limit("mastodon", settings={"mastodon_limit": 11000}) == 11000
    assert pf.limit("linkedin") == 3000 and pf.limit("instagram") == 2200
    assert pf.limit("threads") == 500 and pf.limit("facebook") == 63206
    assert pf.limit("tiktok") == 60 and pf.unit("tiktok") == "seconds"
    assert pf.limit("tiktok", settings={"tiktok_seconds": 5000}) == 600  # TikTok's 10 minutes
    assert pf.limit("tiktok", "caption") == 4000
    assert pf.limit("youtube_shorts", "title") == 100
    assert pf.limit("newsletter", "subject") == 150
    assert pf.unit("newsletter", "preview") == "characters"
    assert pf.setting({"instagram_hashtag_cap": 99}, "instagram_hashtag_cap") == 30
    assert pf.setting({"instagram_hashtag_cap": "bad"}, "instagram_hashtag_cap") == 5
    assert pf.setting(None, "script_wpm") == 150
    with pytest.raises(pf.UnknownPlatform):
        pf.measure("myspace", "hi")
    with pytest.raises(KeyError):
        pf.limit("x", "title")


# --- X --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 280, 280),
        ("日本語", 6),  # CJK weighs 2
        ("한국어", 6),
        ("Ελληνικά", 8),
        ("😷", 2),
        (FAMILY, 2),  # a whole ZWJ sequence weighs 2
        (FLAG_JP, 2),
        (THUMB, 2),
        (E_COMBINING * 10, 10),  # NFC: one character each
        ("q\u0301", 2),  # no precomposed form: two characters of weight 1
        ("https://example.com/a/very/long/path/that/goes/on/and/on/and/on", 23),
        ("see example.com now", 4 + 23 + 4),  # bare domains are links too
        ("—", 1),
        ("…", 2),  # U+2026 is outside X's weight-1 ranges
        ("@someone hello", 14),
        # Cases from twitter-text's own conformance suite (validate.yml, v3 config):
        ("Hi http://test.co", 26),
        ("H🐱☺" + FAMILY, 7),
        ("🙋🏽👨\u200d🎤", 4),
        ("ÁB", 2),
        ("Aשּׁ", 4),
    ],
)
def test_x_weighted_length(text, expected):
    assert pf.measure("x", text) == expected


def test_x_counts_emoji_newer_than_its_data_conservatively():
    # The library's emoji data stops at Unicode emoji 12: a newer sequence is weighed per
    # component. Over-counting can only make a post shorter than needed, never rejected.
    assert pf.measure("x", HEART_ON_FIRE) == 5
    assert pf.measure("x", "🧑\u200d🧑\u200d🧒") == 8


def test_x_exactly_at_limit_and_one_over():
    assert pf.validate("x", variant("x", "a" * 280)) == []
    assert pf.validate("x", variant("x", "日" * 140)) == []
    url = "https://example.com/" + "p" * 200
    at_limit = "a" * 256 + " " + url  # 256 + 1 + 23
    assert pf.measure("x", at_limit) == 280
    assert pf.validate("x", variant("x", at_limit)) == []
    # a thread's post is measured as it is posted: with the " 2/2" the app adds
    assert pf.validate("x", variant("x", "ok", "a" * 276)) == []
    problems = pf.validate("x", variant("x", "ok", "a" * 277))
    assert problems == [
        Problem(
            code="too_long",
            message="Post 2 with its number 2/2 is 281 characters; X allows 280.",
            part="posts",
            index=1,
        )
    ]
    assert codes(pf.validate("x", variant("x", "日" * 140 + "a"))) == ["too_long"]
    assert codes(pf.validate("x", variant("x", "😷" * 141))) == ["too_long"]
    assert pf.validate("x", variant("x", "a" * 1000), {"x_limit": 1000}) == []


def test_x_hashtags_and_empty_posts():
    assert pf.validate("x", variant("x", "Pricing notes #saas #pricing")) == []
    problems = pf.validate("x", variant("x", "Pricing notes #saas #pricing #growth"))
    assert [p.message for p in problems] == [
        "The post has 3 hashtags; X works best with at most 2."
    ]
    # "#1" has no letter, and a URL fragment is not a hashtag
    assert pf.validate("x", variant("x", "#1 tip: https://example.com/#a #b #c")) == []
    problems = pf.validate("x", variant("x", "First.", "  ", "Third."))
    assert [(p.code, p.index, p.message) for p in problems] == [("empty", 1, "Post 2 is empty.")]
    assert codes(pf.validate("x", Variant("x", []))) == ["empty"]


def test_numbers_typed_by_hand_must_match_positions_where_the_app_does_not_number():
    good = variant("bluesky", "One. 1/3", "Two. 2/3", "Three. 3/3")
    assert pf.validate("bluesky", good) == []
    bad = variant("bluesky", "One. 1/3", "Two. 3/3", "Three.")
    messages = [p.message for p in pf.validate("bluesky", bad)]
    assert messages == [
        "Post 2 is numbered 3/3, but it is post 2 of 3.",
        "Post 3 has no number, but the other posts are numbered.",
    ]
    # "24/7" is not a thread number
    assert pf.validate("bluesky", variant("bluesky", "Support 24/7", "We answer fast.")) == []


def test_x_draws_thread_numbers_so_typed_ones_are_dropped_and_added_on_the_way_out():
    typed = ["One. 1/3", "Two. 2/3", "Three. 3/3"]
    assert pf.bare("x", typed) == ["One.", "Two.", "Three."]
    assert pf.thread_marks("x", 3) == ["1/3", "2/3", "3/3"]
    assert pf.outgoing("x", typed) == typed  # the same whether typed or drawn
    assert pf.outgoing("x", ["One.", "Two."]) == ["One. 1/2", "Two. 2/2"]
    # a moved post's stale number goes when most posts are numbered
    assert pf.bare("x", ["One. 1/3", "Three. 3/3", "Two. 2/3"]) == ["One.", "Three.", "Two."]
    # a lone number in its own place goes; one that is not a thread number stays
    assert pf.bare("x", ["Support 24/7", "We answer fast. 2/2"]) == ["Support 24/7", "We answer fast."]
    assert pf.bare("x", ["Three quarters: 3/4 of teams", "Two.", "Three."])[0] == "Three quarters: 3/4 of teams"
    # a single post, and platforms that do not number threads, are left as they are
    assert pf.outgoing("x", ["Alone."]) == ["Alone."] and pf.thread_marks("x", 1) == [""]
    assert pf.outgoing("bluesky", ["One.", "Two."]) == ["One.", "Two."]
    assert pf.bare("bluesky", typed) == typed
    assert pf.validate("x", variant("x", *typed)) == []


# --- LinkedIn -------------------------------------------------------------------------------


def test_linkedin_length_in_utf16_characters():
    hook = "Short hook.\n"
    assert pf.validate("linkedin", variant("linkedin", hook + "a" * (3000 - len(hook)))) == []
    problems = pf.validate("linkedin", variant("linkedin", hook + "a" * (3001 - len(hook))))
    assert [p.message for p in problems] == ["The post is 3,001 characters; LinkedIn allows 3,000."]
    emoji = hook + "😀" * ((3000 - len(hook)) // 2)  # every emoji counts 2
    assert pf.measure("linkedin", emoji) == 3000
    assert codes(pf.validate("linkedin", variant("linkedin", emoji + "a"))) == ["too_long"]


def test_linkedin_hook_must_end_before_the_fold():
    ok = "h" * 210 + "\n\nBody text."
    assert pf.validate("linkedin", variant("linkedin", ok)) == []
    problems = pf.validate("linkedin", variant("linkedin", "h" * 211 + "\n\nBody text."))
    assert codes(problems) == ["hook_too_long"]
    assert problems[0].message.startswith("The first line is 211 characters; LinkedIn shows")
    assert codes(pf.validate("linkedin", variant("linkedin", "One.", "Two."))) == ["not_a_thread"]


# --- Instagram ------------------------------------------------------------------------------


def test_instagram_length_hashtags_and_links():
    assert pf.validate("instagram", variant("instagram", "a" * 2200)) == []
    assert codes(pf.validate("instagram", variant("instagram", "a" * 2201))) == ["too_long"]
    tags = " ".join(f"#tag{i}x" for i in range(6))
    assert codes(pf.validate("instagram", variant("instagram", "Hi\n" + tags))) == [
        "too_many_hashtags"
    ]
    assert (
        pf.validate("instagram", variant("instagram", "Hi\n" + tags), {"instagram_hashtag_cap": 6})
        == []
    )
    thirty_one = " ".join(f"#t{i}a" for i in range(31))
    problems = pf.validate(
        "instagram", variant("instagram", thirty_one), {"instagram_hashtag_cap": 50}
    )
    assert [p.message for p in problems] == [
        "The caption has 31 hashtags; Instagram works best with at most 30."
    ]
    problems = pf.validate("instagram", variant("instagram", "Hi #a"), {"instagram_hashtag_cap": 0})
    assert (
        problems[0].message == "The caption has 1 hashtag; hashtags are turned off for Instagram."
    )
    problems = pf.validate("instagram", variant("instagram", "Read it at https://acme.io/blog"))
    assert [p.message for p in problems] == [
        "The caption contains a link (https://acme.io/blog); links are not clickable in "
        "Instagram captions, so leave it out."
    ]
    assert codes(pf.validate("instagram", variant("instagram", "More on acme.io"))) == [
        "link_not_allowed"
    ]
    # file names and ASP.NET are not links
    assert pf.validate("instagram", variant("instagram", "See README.md, main.py, ASP.NET")) == []


# --- Threads --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 500, 500),
        ("😀", 4),  # emoji count their UTF-8 bytes
        ("❤️", 6),  # U+2764 U+FE0F: 3 + 3 bytes
        (FAMILY, 25),
        (FLAG_JP, 8),
        (THUMB, 8),
        ("日本語", 3),  # other characters count 1
        ("é", 1),
        (E_COMBINING, 2),
        ("𝗯𝗼𝗹𝗱", 8),  # astral letters count 2 UTF-16 units each
    ],
)
def test_threads_length(text, expected):
    assert pf.measure("threads", text) == expected


def test_threads_limits_links_and_topic_tag():
    assert pf.validate("threads", variant("threads", "a" * 496 + "😀")) == []
    assert codes(pf.validate("threads", variant("threads", "a" * 497 + "😀"))) == ["too_long"]
    assert codes(pf.validate("threads", variant("threads", "a" * 501))) == ["too_long"]
    five = " ".join(f"https://site{i}.example.com" for i in range(5))
    assert pf.validate("threads", variant("threads", five + " " + five)) == []  # unique links
    six = five + " https://site6.example.com"
    problems = pf.validate("threads", variant("threads", six))
    assert [p.message for p in problems] == [
        "The post has 6 links; Threads allows at most 5 per post."
    ]
    problems = pf.validate("threads", variant("threads", "Hi #pricing #saas"))
    assert [p.message for p in problems] == [
        "The post has 2 hashtags; Threads takes one topic tag per post."
    ]


# --- Bluesky --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FAMILY, 1),
        (FLAG_JP, 1),
        ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", 1),  # Scotland
        ("🏳️\u200d🌈", 1),
        (THUMB, 1),
        (HEART_ON_FIRE, 1),
        (E_COMBINING, 1),
        ("q\u0301\u0323", 1),
        ("#️⃣", 1),
        ("\u1100\u1161\u11a8", 1),  # Hangul jamo make one syllable
        ("नमस्ते", 3),  # Devanagari conjuncts
        ("\r\n", 1),
        ("https://example.com/" + "x" * 100, 120),  # links count in full
    ],
)
def test_bluesky_graphemes(text, expected):
    assert pf.measure("bluesky", text) == expected


def test_bluesky_graphemes_and_bytes_limits():
    assert pf.validate("bluesky", variant("bluesky", FLAG_JP * 300)) == []  # 2,400 bytes
    problems = pf.validate("bluesky", variant("bluesky", FLAG_JP * 301))
    assert [p.message for p in problems] == ["The post is 301 characters; Bluesky allows 300."]
    assert pf.validate("bluesky", variant("bluesky", E_COMBINING * 300)) == []
    assert pf.validate("bluesky", variant("bluesky", FAMILY * 120)) == []  # 3,000 bytes
    problems = pf.validate("bluesky", variant("bluesky", FAMILY * 121))
    assert [p.message for p in problems] == ["The post is 3,025 bytes; Bluesky allows 3,000."]
    problems = pf.validate("bluesky", variant("bluesky", FAMILY * 301))
    assert codes(problems) == ["too_long", "too_long"]


# --- Mastodon -------------------------------------------------------------------------------


def test_mastodon_counts_links_and_mentions_like_mastodon():
    assert pf.measure("mastodon", "https://example.com/" + "x" * 200) == 23
    assert pf.measure("mastodon", "example.com") == 11  # no scheme: counted as text
    assert pf.measure("mastodon", "@alice@example.social") == 6
    assert pf.measure("mastodon", "@alice") == 6
    assert pf.measure("mastodon", "hi " + FAMILY) == 4
    post = "a" * 476 + " https://example.com/" + "p" * 300
    assert pf.measure("mastodon", post) == 500
    assert pf.validate("mastodon", variant("mastodon", post)) == []
    assert codes(pf.validate("mastodon", variant("mastodon", "b" + post))) == ["too_long"]
    assert pf.validate("mastodon", variant("mastodon", "a" * 900), {"mastodon_limit": 1000}) == []
    problems = pf.validate("mastodon", variant("mastodon", "a" * 901), {"mastodon_limit": 900})
    assert [p.message for p in problems] == [
        "The post is 901 characters; your Mastodon server allows 900."
    ]


# --- Facebook -------------------------------------------------------------------------------


def test_facebook_limit_and_advice():
    assert pf.validate("facebook", variant("facebook", "a" * 63206)) == []
    assert codes(pf.validate("facebook", variant("facebook", "a" * 63207))) == ["too_long"]
    assert pf.advise("facebook", variant("facebook", "a" * 500)) == []
    advice = pf.advise("facebook", variant("facebook", "a" * 501))
    assert codes(advice) == ["long_post"]


# --- scripts --------------------------------------------------------------------------------


def test_estimate_duration_seconds():
    assert pf.estimate_duration_seconds("") == 0
    assert pf.estimate_duration_seconds(words(150)) == 60
    assert pf.estimate_duration_seconds(words(151)) == 61
    assert pf.estimate_duration_seconds(words(150), wpm=300) == 30
    assert pf.estimate_duration_seconds("[B-roll of the office] " + words(150)) == 60
    assert pf.estimate_duration_seconds("日" * 300) == 60  # half a word per character
    with pytest.raises(ValueError):
        pf.estimate_duration_seconds("hi", wpm=0)
    assert pf.script_beats("Hook line.\n\nBeat one.\n\nBeat two.") == [
        "Hook line.",
        "Beat one.",
        "Beat two.",
    ]


def test_tiktok_script_duration_fields_and_caption_rules():
    assert pf.validate("tiktok", variant("tiktok", words(150))) == []
    problems = pf.validate("tiktok", variant("tiktok", words(151)))
    assert [p.message for p in problems] == [
        "The script runs about 61 seconds read aloud at 150 words a minute; the TikTok "
        "script is set to 60 seconds."
    ]
    assert pf.validate("tiktok", variant("tiktok", words(300)), {"tiktok_seconds": 120}) == []
    assert pf.validate("tiktok", variant("tiktok", words(200)), {"script_wpm": 200}) == []
    problems = pf.validate("tiktok", Variant("tiktok", [words(10)], {"hook": " "}))
    assert [(p.code, p.part) for p in problems] == [
        ("missing_field", "hook"),
        ("missing_field", "caption"),
    ]
    caption = "Watch this " + " ".join(f"#tag{i}a" for i in range(6)) + " acme.io"
    problems = pf.validate("tiktok", variant("tiktok", words(10), caption=caption))
    assert [(p.code, p.part) for p in problems] == [
        ("too_many_hashtags", "caption"),
        ("link_not_allowed", "caption"),
    ]
    problems = pf.validate("tiktok", variant("tiktok", "Go to https://acme.io now"))
    assert problems[0].message.endswith("a spoken script cannot carry a link, so leave it out.")
    assert codes(pf.validate("tiktok", variant("tiktok", "h" * 10, hook="h" * 151))) == ["too_long"]


def test_youtube_shorts_fields():
    assert pf.validate("youtube_shorts", variant("youtube_shorts", words(150))) == []
    ok = variant("youtube_shorts", words(20), title="t" * 100, description="d" * 5000)
    assert pf.validate("youtube_shorts", ok) == []
    bad = variant("youtube_shorts", words(20), title="t" * 101, description="d" * 5001)
    assert [p.message for p in pf.validate("youtube_shorts", bad)] == [
        "The title is 101 characters; YouTube Shorts allows 100.",
        "The description is 5,001 characters; YouTube Shorts allows 5,000.",
    ]
    assert codes(pf.validate("youtube_shorts", variant("youtube_shorts", words(151)))) == [
        "too_long"
    ]
    assert (
        pf.validate(
            "youtube_shorts", variant("youtube_shorts", words(300)), {"youtube_shorts_seconds": 120}
        )
        == []
    )


def test_youtube_refuses_angle_brackets_in_title_and_description_and_repair_keeps_the_meaning():
    bad = variant(
        "youtube_shorts", words(20), title="Why 3 < 5 matters -> a lesson",
        description="Latency >= 200 ms is <b>slow</b>.",
    )
    problems = pf.validate("youtube_shorts", bad)
    assert [(p.code, p.part, p.message) for p in problems] == [
        ("forbidden_character", "title",
         "The title has “<” and “>”; YouTube Shorts does not allow “<” and “>” in a title."),
        ("forbidden_character", "description",
         "The description has “>” and “<”; YouTube Shorts does not allow “>” and “<” in a description."),
    ]
    fixed = pf.repair("youtube_shorts", bad)
    assert pf.validate("youtube_shorts", fixed) == []
    assert fixed.fields["title"] == "Why 3 ＜ 5 matters → a lesson"
    assert fixed.fields["description"] == "Latency ≥ 200 ms is ＜b＞slow＜/b＞."
    # other platforms and the script itself may carry them
    assert pf.validate("x", variant("x", "3 < 5 -> true")) == []
    assert pf.validate("youtube_shorts", variant("youtube_shorts", "3 < 5 is true.", title="T", description="D")) == []


def test_newsletter_subject_preview_and_advice():
    ok = variant("newsletter", "Body.", subject="s" * 150, preview="p" * 150)
    assert pf.validate("newsletter", ok) == []
    assert [p.message for p in pf.advise("newsletter", ok)] == [
        "The subject is 150 characters; many inboxes cut it after about 60."
    ]
    assert pf.advise("newsletter", variant("newsletter", "Body.", subject="s" * 60)) == []
    bad = variant("newsletter", "Body.", subject="s" * 151, preview="p" * 151)
    assert [(p.code, p.part) for p in pf.validate("newsletter", bad)] == [
        ("too_long", "subject"),
        ("too_long", "preview"),
    ]
    assert [
        (p.code, p.part) for p in pf.validate("newsletter", Variant("newsletter", ["Body."]))
    ] == [
        ("missing_field", "subject"),
        ("missing_field", "preview"),
    ]


# --- sentences and threads ------------------------------------------------------------------


def test_sentence_splitting_respects_abbreviations_decimals_and_cjk():
    text = (
        "Dr. Smith met J. R. Tolkien at 3.5 p.m. in the U.S. office. Prices rose 4.1%! "
        "Was it worth it? Yes… mostly. 价格上涨了。我们很满意！"
    )
    assert ptext.sentences(text) == [
        "Dr. Smith met J. R. Tolkien at 3.5 p.m. in the U.S. office.",
        "Prices rose 4.1%!",
        "Was it worth it?",
        "Yes… mostly.",
        "价格上涨了。",
        "我们很满意！",
    ]


def test_a_lowercase_unit_ends_a_sentence_where_a_capitalised_title_does_not():
    text = "Latency stayed at 120 ms. The lesson is simple. Ms. Chen agreed. It is No. 5 on the list."
    assert ptext.sentences(text) == [
        "Latency stayed at 120 ms.",
        "The lesson is simple.",
        "Ms. Chen agreed.",
        "It is No. 5 on the list.",
    ]


def test_renumber_keeps_a_threads_numbers_in_step_with_its_posts():
    assert pf.renumber(["One 1/3", "Two 2/3", "Three 3/3"][1:]) == ["Two 1/2", "Three 2/2"]
    assert pf.renumber(["1/2 One", "2/2 Two", "Three"]) == ["1/3 One", "2/3 Two", "3/3 Three"]
    assert pf.renumber(["A thread", "without numbers"]) == ["A thread", "without numbers"]
    assert pf.renumber(["Only post 1/2"]) == ["Only post 1/2"]  # one post is not a thread
    assert pf.renumber(["First 1/2", "", "Third"]) == ["First 1/3", "", "Third 3/3"]


ARTICLE_SENTENCES = [
    "Our analytics showed that most seats were used less than once a week.",
    "Small teams paid for colleagues who logged in twice a quarter.",
    "Large customers negotiated discounts that made our list price meaningless.",
    "We switched to usage-based pricing in March and told every customer a month ahead.",
    "The first five hundred documents each month are free.",
    "Every further thousand documents costs twelve dollars.",
    "Revenue became harder to forecast, and finance now models three scenarios.",
    "Customers trust a price they can watch, so build the dashboard first!",
    "Would we do it again?",
    "Yes, without a doubt.",
]


def long_text(n_words: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    count = 0
    while count < n_words:
        paragraph = [rng.choice(ARTICLE_SENTENCES) for _ in range(rng.randint(2, 5))]
        count += sum(len(s.split()) for s in paragraph)
        out.append(" ".join(paragraph))
    return "\n\n".join(out)


def test_split_thread_breaks_between_sentences_and_numbers_within_limit():
    text = long_text(400)
    thread = pf.split_thread("x", text)
    n = len(thread)
    assert n > 3
    assert all(pf.numbering(p) is None for p in thread)  # the numbers are drawn, not typed
    for i, post in enumerate(pf.outgoing("x", thread), 1):
        assert post.endswith(f" {i}/{n}")
        assert pf.measure("x", post) <= 280  # room was kept for the number
    for body in thread:
        assert body[-1] in ".!?"  # every post ends on a sentence
        assert body[0].isupper()
    assert pf.validate("x", Variant("x", thread)) == []
    joined = " ".join(thread)
    assert joined.split() == text.split()  # nothing lost, nothing added

    plain = pf.split_thread("x", text, numbered=False)
    assert all(pf.numbering(p) is None for p in plain)
    assert " ".join(plain).split() == text.split()


def test_split_thread_keeps_a_short_text_whole_and_refuses_single_post_platforms():
    assert pf.split_thread("x", "  Just one post.  ") == ["Just one post."]
    assert pf.split_thread("x", "   ") == []
    with pytest.raises(ValueError):
        pf.split_thread("linkedin", "Anything.")


def test_split_thread_cuts_a_long_sentence_at_words_and_a_long_word_at_graphemes():
    sentence = " ".join(f"word{i}" for i in range(120)) + "."
    thread = pf.split_thread("bluesky", "Short intro. " + sentence)
    assert all(pf.measure("bluesky", p) <= 300 for p in thread)
    tokens = " ".join(pf.strip_numbering(p) for p in thread).split()
    assert tokens == ("Short intro. " + sentence).split()  # no word was cut

    word = (FAMILY + "ab" + E_COMBINING) * 150  # 600 graphemes, no spaces
    thread = pf.split_thread("bluesky", word, numbered=False)
    assert [pf.measure("bluesky", p) for p in thread] == [300, 300]
    assert "".join(thread) == word  # cut only between grapheme clusters

    families = FAMILY * 200  # 200 graphemes but 5,000 bytes: the byte limit decides
    thread = pf.split_thread("bluesky", families, numbered=False)
    assert thread == [FAMILY * 120, FAMILY * 80]


def test_split_thread_numbering_grows_to_two_digits():
    thread = pf.split_thread("x", long_text(900, seed=3))
    assert len(thread) >= 10
    sent = pf.outgoing("x", thread)
    assert sent[9].endswith(f" 10/{len(thread)}")
    assert all(pf.measure("x", p) <= 280 for p in sent)


@pytest.mark.parametrize("platform", ["x", "bluesky"])
def test_split_2000_words_into_a_valid_thread(platform):
    text = long_text(2000, seed=11)
    assert len(text.split()) >= 2000
    thread = pf.split_thread(platform, text)
    assert pf.validate(platform, Variant(platform, thread)) == []
    assert " ".join(pf.strip_numbering(p) for p in thread).split() == text.split()


def test_split_cjk_text_for_x_at_sentence_ends():
    text = "我们改用了按用量计费。" * 40
    thread = pf.split_thread("x", text)
    assert pf.validate("x", Variant("x", thread)) == []
    assert all(pf.strip_numbering(p).endswith("。") for p in thread)


VOCAB = [
    "pricing", "Acme", "seats", "revenue", "déjà", "vu", "naïve", "日本語", "テスト", "한국어",
    "😀", FAMILY, FLAG_JP, THUMB, HEART_ON_FIRE, E_COMBINING + "tude", "#saas", "#pricing",
    "@alice", "@bob@example.social", "https://example.com/some/long/path?x=1",
    "acme.io", "e.g.", "3.5%", "$1,200", "—", "…", "supercalifragilisticexpialidocious" * 3,
]  # fmt: skip


def random_text(rng: random.Random, n_words: int) -> str:
    out = []
    for i in range(n_words):
        out.append(rng.choice(VOCAB))
        if rng.random() < 0.12:
            out[-1] += rng.choice([".", "!", "?", "。"])
        if rng.random() < 0.03 and i:
            out[-1] += "\n\n"
    return " ".join(out)


@pytest.mark.parametrize("platform", ["x", "threads", "bluesky", "mastodon"])
def test_split_random_texts_always_fit(platform):
    rng = random.Random(platform)
    for _ in range(12):
        text = random_text(rng, rng.randint(1, 400))
        thread = pf.split_thread(platform, text)
        assert thread, text
        assert all(pf.fits(platform, p) for p in thread)
        assert " ".join(pf.strip_numbering(p) for p in thread).split() == text.split()


# --- repair ---------------------------------------------------------------------------------

BROKEN_BODY = (
    "We dropped per-seat pricing in March. "
    + " ".join(ARTICLE_SENTENCES * 12)
    + "\n\nRead the full story: https://acme.io/blog/pricing\n\n"
    + "#pricing #saas #startups #growth #b2b #founders #revenue"
)


@pytest.mark.parametrize("platform", list(pf.PLATFORMS))
def test_repair_makes_every_platform_valid(platform):
    broken = Variant(platform=platform, posts=[BROKEN_BODY, "", "Another post."], fields={})
    assert pf.validate(platform, broken)
    fixed = pf.repair(platform, broken)
    assert fixed.platform == platform
    assert pf.validate(platform, fixed) == []
    assert pf.repair(platform, broken) == fixed  # deterministic
    assert pf.repair(platform, fixed) == fixed  # a valid variant comes back unchanged
    for spec in pf.PLATFORMS[platform].fields:
        assert fixed.fields[spec.name]
    if not pf.PLATFORMS[platform].thread:
        assert len(fixed.posts) == 1
        assert fixed.posts[0].startswith("We dropped per-seat pricing in March.")


def test_repair_trims_at_a_sentence_boundary_and_keeps_the_tag_block():
    fixed = pf.repair("instagram", variant("instagram", BROKEN_BODY))
    caption = fixed.posts[0]
    body, tags = split_tag_block(caption)
    assert tags == "#pricing #saas #startups #growth #b2b"  # first five kept
    assert body[-1] in ".!?"
    assert body in BROKEN_BODY
    assert "http" not in caption and "Read the full story" not in caption


def test_repair_hashtags_inline_keep_their_word():
    fixed = pf.repair("x", variant("x", "We love #python and #rust and #go. #a #b"))
    assert fixed.posts == ["We love #python and #rust and go."]


def test_repair_removes_links_and_their_lead_in():
    text = "Big news.\nRead more: https://acme.io/a\nAlso see acme.io/b for details."
    assert pf.remove_links(text) == "Big news.\nAlso see for details."
    assert pf.remove_links("One https://a.io two https://b.io", keep=1) == "One https://a.io two"
    fixed = pf.repair("instagram", variant("instagram", "Big news 👉 https://acme.io/a"))
    assert fixed.posts == ["Big news"]
    fixed = pf.repair("instagram", variant("instagram", "Big news.\n👉 Full story: acme.io/a"))
    assert fixed.posts == ["Big news."]


def test_repair_renumbers_a_broken_thread_and_fixes_a_linkedin_hook():
    broken = variant("bluesky", "One. 1/4", "Two. 2/4", "Three. 9/9", "a" * 400)
    fixed = pf.repair("bluesky", broken)
    assert pf.validate("bluesky", fixed) == []
    assert [pf.numbering(p)[0] for p in fixed.posts] == list(range(1, len(fixed.posts) + 1))
    # on X the numbers are the app's: the repaired thread has none in its text
    fixed = pf.repair("x", variant("x", "One. 1/4", "Two. 2/4", "Three. 9/9", "a" * 300))
    assert pf.validate("x", fixed) == [] and not any(pf.numbering(p) for p in fixed.posts)
    assert fixed.posts[0].startswith("One.\n\nTwo.\n\nThree.")

    hook = " ".join(["This first sentence goes on"] * 5) + ". Second sentence here. " * 4
    fixed = pf.repair("linkedin", variant("linkedin", hook + "\n\nMore."))
    first = fixed.posts[0].split("\n")[0]
    assert len(first) <= 210 and first.endswith(".")
    assert pf.validate("linkedin", fixed) == []

    clause = "word " * 30 + "and then, " + "word " * 60
    fixed = pf.repair("linkedin", variant("linkedin", clause.strip() + "."))
    assert fixed.posts[0].split("\n")[0].endswith("then,")


def test_repair_fills_fields_from_the_body():
    body = "We dropped per-seat pricing. Revenue rose a third in a year. Here is how."
    fixed = pf.repair("newsletter", Variant("newsletter", [body]))
    assert fixed.fields == {
        "subject": "We dropped per-seat pricing.",
        "preview": "Revenue rose a third in a year. Here is how.",
    }
    fixed = pf.repair("tiktok", Variant("tiktok", [body + " Link: https://acme.io"]))
    assert fixed.fields["hook"] == "We dropped per-seat pricing."
    assert "https" not in fixed.posts[0] and "https" not in fixed.fields["caption"]
    title = "A " + "very " * 40 + "long opening sentence."
    fixed = pf.repair("youtube_shorts", Variant("youtube_shorts", [title]))
    assert len(fixed.fields["title"]) <= 100 and fixed.fields["title"].endswith("…")


def test_repair_respects_settings_and_refuses_an_empty_variant():
    text = "a" * 800
    fixed = pf.repair("mastodon", variant("mastodon", text), {"mastodon_limit": 1000})
    assert fixed.posts == [text]
    fixed = pf.repair("mastodon", variant("mastodon", text))
    assert len(fixed.posts) == 2
    with pytest.raises(ValueError, match="no text"):
        pf.repair("x", Variant("x", ["", " "]))
    with pytest.raises(ValueError, match="no text"):
        pf.repair("instagram", Variant("instagram", ["https://acme.io"]))


@pytest.mark.parametrize("platform", list(pf.PLATFORMS))
def test_repair_random_broken_variants(platform):
    rng = random.Random("repair-" + platform)
    for _ in range(8):
        posts = [random_text(rng, rng.randint(0, 250)) for _ in range(rng.randint(1, 3))]
        posts.append("Something to say.")  # text that survives link removal
        fields = {}
        for spec in pf.PLATFORMS[platform].fields:
            if rng.random() < 0.5:
                fields[spec.name] = random_text(rng, rng.randint(1, 60))
        settings = {
            "instagram_hashtag_cap": rng.randint(0, 30),
            "mastodon_limit": rng.choice([500, 1000]),
        }
        fixed = pf.repair(platform, Variant(platform, posts, fields), settings)
        assert pf.validate(platform, fixed, settings) == [], (posts, fields)


def test_problem_messages_are_sentences():
    broken = Variant("x", ["a" * 300, "", "#a #b #c"], {})
    for problem in pf.validate("x", broken):
        assert re.fullmatch(r"[A-Z].*[.]", problem.message), problem.message
