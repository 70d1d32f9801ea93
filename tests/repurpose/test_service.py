from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import select

from omnipostr import db
from omnipostr.accounts.models import User
from omnipostr.billing import quota
from omnipostr.billing.models import UsagePeriod
from omnipostr.repurpose import service
from omnipostr.repurpose.models import Generation, Source, Variant
from omnipostr.usage.models import UsageEvent
from tests.repurpose.helpers import member, request, start


def rows(model):
    with db.session() as s:
        return list(s.exec(select(model)).all())


@pytest.mark.promise("CON-1")
def test_start_stores_source_generation_and_one_queued_variant_per_platform():
    ada = member()
    gen = start(ada, request(platforms=["x", "linkedin", "x", "newsletter"], title="  My   title "))
    assert gen.platforms == ["x", "linkedin", "newsletter"]
    assert gen.status == "queued" and gen.title == "My title"
    src = rows(Source)[0]
    assert src.text.startswith("Why small teams") and src.words > 150 and src.workspace_id == ada.workspace_id
    assert sorted(v.platform for v in rows(Variant)) == ["linkedin", "newsletter", "x"]
    assert all(v.status == "queued" and v.workspace_id == ada.workspace_id for v in rows(Variant))


@pytest.mark.promise("SEC-2")
def test_source_and_title_are_encrypted_at_rest():
    start(member())
    with db.engine().connect() as c:
        raw = str(c.execute(text("SELECT title, text FROM sources")).all())
        raw += str(c.execute(text("SELECT title FROM generations")).all())
    assert "small teams" not in raw and "412 customer" not in raw


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("# A heading line\n\nThen the body of the article, which goes on.", "A heading line"),
        ("Intro words first.\n\n# The real title\n\nBody.", "The real title"),
        ("Title: From a header field\nAuthor: Someone\n\nThe body of the article goes on here.", "From a header field"),
        ("<html><head><title>Page title</title></head><body><p>Some text here for the body.</p></body></html>", "Page title"),
        ("The Zen\n=======\n\nBeautiful is better than ugly, and explicit is better than implicit.", "The Zen"),
        # no title: the first sentence, shortened at a word boundary
        ("Our studio tried a four-day week for six months, and nobody expected the clients to notice "
         "how much faster the replies became. More follows.",
         "Our studio tried a four-day week for six months, and nobody expected the clients to…"),
    ],
)
def test_title_defaults_to_the_sources_own(text, title):
    gen = start(member(), request(text=text))
    assert gen.title == title


@pytest.mark.parametrize(
    ("req", "field", "words"),
    [
        (request(text=""), "text", "empty"),
        (request(text="   \n\t "), "text", "empty"),
        (request(text="x" * 1_000_001), "text", "limit"),
        (request(platforms=["myspace"]), "platforms", "Unknown platform"),
        (request(platforms=[]), "platforms", "at least one"),
        (request(link="javascript:alert(1)"), "link", "http"),
        (request(audience="a" * 500), "audience", "under 200"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_stores_nothing(req, field, words):
    ada = member()
    with pytest.raises(service.ComposeError) as e:
        start(ada, req)
    assert e.value.field == field
    assert words.lower() in e.value.message.lower()
    assert rows(Source) == [] and rows(Generation) == []


def test_html_and_script_are_kept_as_plain_text():
    evil = "<script>alert('x')</script> <b>Bold claim</b> about 42 things."
    gen = start(member(), request(text=evil, title=evil))
    assert rows(Source)[0].text == evil
    assert gen.title.startswith("<script>")


@pytest.mark.promise("AI-4", "GDPR-2")
def test_restricted_processing_refuses_to_start():
    ada = member()
    with db.session() as s:
        u = s.get(User, ada.user_id)
        u.restrict_processing = True
        s.add(u)
    with pytest.raises(service.ComposeError) as e:
        start(ada)
    assert e.value.field == "restricted"
    assert rows(Generation) == []


def test_the_periods_limit_is_counted_and_enforced():
    ada = member()
    used = db.in_session(quota.usage, ada.workspace_id)
    assert (used.used, used.limit, used.plan) == (0, 30, "Free")
    with db.session() as s:
        start_, end = quota.current_period(s, ada.workspace_id)
        s.add(UsagePeriod(workspace_id=ada.workspace_id, period_start=start_, period_end=end, generations=used.limit - 1))
    gen = start(ada)
    assert gen.quota_period_start == start_ and not gen.quota_refunded
    with pytest.raises(service.ComposeError) as e:
        start(ada)
    assert e.value.field == "quota"
    assert e.value.message == (
        "This workspace has used all 30 generations of the Free plan for this period. "
        f"The count starts again on {end.day} {end:%b %Y}."
    )
    assert db.in_session(quota.usage, ada.workspace_id).used == 30
    assert len(rows(Generation)) == 1 and len(rows(Source)) == 1  # the refused one stored nothing


@pytest.mark.promise("USE-1")
def test_starting_records_a_usage_event_without_content():
    ada = member(analytics=True)
    gen = start(ada)
    ev = [e for e in rows(UsageEvent) if e.kind == "generation.created"]
    assert len(ev) == 1 and ev[0].user_id == ada.user_id and ev[0].detail["generation_id"] == gen.id
    assert ev[0].created_at is not None
    assert "small teams" not in str(ev[0].detail)


def test_brand_voices_belong_to_their_workspace():
    ada = member()
    bob = member("bob@example.com", "Bob's team")
    voice = db.in_session(service.save_voice, ada, name="Calm expert", description="Short and warm.", samples=["One.", " ", "Two."])
    assert [v.name for v in db.in_session(service.list_voices, ada)] == ["Calm expert"]
    assert db.in_session(service.list_voices, bob) == []
    with pytest.raises(service.NotFound):
        db.in_session(service.delete_voice, bob, voice.id)
    with pytest.raises(service.ComposeError):  # bob cannot use ada's voice
        start(bob, request(brand_voice_id=voice.id))
    gen = start(ada, request(brand_voice_id=voice.id))
    assert gen.options["brand_voice"]["samples"] == ["One.", "Two."]


def test_options_round_trip():
    opts = service.options_from(request(tone="witty", hashtags=False, emoji="none", link="https://example.com/a"), None)
    back = service.options_from_dict(service.options_to_dict(opts))
    assert back == opts
