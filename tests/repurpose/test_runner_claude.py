"""The runner with the real Claude engine (official SDK) against the loopback Anthropic API:
every platform of a generation reads the prompt prefix the first one cached, "Regenerate"
sends the post as it is and asks for another take, outages fail one platform readably while
the others finish, retry finishes the job, a broken answer is repaired, usage and cost are
recorded, and restricted content is never sent."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from omnipostr import db
from omnipostr.accounts.models import User
from omnipostr.library import service as library
from omnipostr.repurpose import platforms, runner
from omnipostr.repurpose.engines import prompting
from omnipostr.repurpose.engines.base import Source
from omnipostr.repurpose.engines.claude import ClaudeEngine
from omnipostr.repurpose.models import Generation, Variant
from omnipostr.settings import Settings
from tests.repurpose.helpers import ARTICLES, member, request, start

KEY = "sk-ant-test-runner-key"


@pytest.fixture
async def claude(fake):
    engine = ClaudeEngine(
        Settings(anthropic_api_key=KEY, anthropic_base_url=fake.base_url, claude_max_retries=2, claude_timeout_seconds=5),
        backoff_base=0.01,
        backoff_cap=0.05,
    )
    yield engine
    await engine.aclose()


def by_platform(gen_id: int) -> dict[str, Variant]:
    with db.session() as s:
        return {v.platform: v for v in s.exec(select(Variant).where(Variant.generation_id == gen_id)).all()}


@pytest.mark.promise("AI-2")
async def test_all_platforms_through_claude_are_valid_and_usage_is_recorded(fake, claude):
    ada = member()
    gen = start(ada, request(platforms=list(platforms.PLATFORMS)), engine="claude", model=claude.model)
    assert await runner.run(gen.id, engine=claude) == "done"
    view = db.in_session(library.get_generation, ada, gen.id)
    for v in view.variants:
        assert v.status == "done" and platforms.validate(v.platform, v.post) == []
    with db.session() as s:
        g = s.get(Generation, gen.id)
    assert len(fake.requests) == 10
    assert g.input_tokens + g.cache_read_tokens + g.cache_write_tokens > 0 and g.output_tokens > 0
    assert g.cost_usd > 0 and g.model == claude.model


async def test_every_platform_after_the_first_reads_the_cached_document(fake, claude):
    ada = member()
    text = (ARTICLES / "postgres-indexes.md").read_text()
    gen = start(ada, request(text=text, platforms=list(platforms.PLATFORMS)), engine="claude", model=claude.model)
    assert await runner.run(gen.id, engine=claude) == "done"
    sent = fake.requests
    assert sorted(r.platform for r in sent) == sorted(platforms.PLATFORMS)
    # One prefix for all ten: the system prompt and the document block, byte for byte.
    prefixes = {json.dumps([r.body["system"], r.body["messages"][0]["content"][0]]) for r in sent}
    assert len(prefixes) == 1
    document = Source("", text).document
    system = sent[0].body["system"][0]["text"]
    assert all(b.text not in system for b in document.prose)
    # The first request wrote the cache; the 2nd to the 10th read all of it.
    first, *rest = sorted(sent, key=lambda r: r.usage["cache_read_input_tokens"])
    written = first.usage["cache_creation_input_tokens"]
    assert written > 1024 and first.usage["cache_read_input_tokens"] == 0
    assert [r.usage["cache_read_input_tokens"] for r in rest] == [written] * 9
    assert all(r.usage["cache_creation_input_tokens"] == 0 for r in rest)
    with db.session() as s:
        g = s.get(Generation, gen.id)
    assert (g.cache_write_tokens, g.cache_read_tokens) == (written, 9 * written)


async def test_regenerate_sends_the_post_as_it_is_and_asks_for_another_take(fake, claude):
    ada = member()
    gen = start(ada, request(platforms=["x", "linkedin"]), engine="claude", model=claude.model)
    assert await runner.run(gen.id, engine=claude) == "done"
    x = by_platform(gen.id)["x"]
    shown = db.in_session(library.get_variant, ada, x.id).post
    fake.clear_requests()
    assert await runner.run(gen.id, engine=claude, variant_ids=[x.id], kind="regenerate") == "done"
    [sent] = fake.requests
    after = sent.body["messages"][0]["content"][1]["text"]
    assert f"<previous_take>\n{prompting.render(shown).strip()}\n</previous_take>" in after
    assert '<another_take number="2">' in after and "Write a clearly different one" in after
    assert sent.usage["cache_read_input_tokens"] > 0  # the same prefix as the first run
    again = db.in_session(library.get_variant, ada, x.id).post
    assert again.posts != shown.posts and platforms.validate("x", again) == []


async def test_an_outage_fails_one_platform_readably_and_retry_finishes(fake, claude):
    ada = member()
    gen = start(ada, request(platforms=["x", "linkedin", "bluesky"]), engine="claude", model=claude.model)
    fake.fail_next("overloaded", 10, platform="linkedin")
    assert await runner.run(gen.id, engine=claude) == "partial"
    rows = by_platform(gen.id)
    assert rows["x"].status == rows["bluesky"].status == "done"
    assert rows["linkedin"].status == "failed"
    assert "overloaded" in rows["linkedin"].error.lower() and "Traceback" not in rows["linkedin"].error
    with db.session() as s:
        g = s.get(Generation, gen.id)
        assert "1 of 3" in g.error
    fake.clear_faults()
    assert await runner.run(gen.id, engine=claude) == "done"
    assert by_platform(gen.id)["linkedin"].status == "done"
    assert by_platform(gen.id)["x"].version == rows["x"].version  # finished posts were not redone


async def test_a_rate_limit_storm_is_waited_out(fake, claude):
    ada = member()
    gen = start(ada, request(platforms=["x", "threads"]), engine="claude", model=claude.model)
    fake.fail_next("rate_limit", 2, retry_after_ms=50)
    assert await runner.run(gen.id, engine=claude) == "done"


async def test_an_answer_over_the_limit_is_asked_again_then_repaired(fake, claude):
    ada = member()
    gen = start(ada, request(platforms=["bluesky"]), engine="claude", model=claude.model)
    fake.responder = (lambda call: "### POST 1\n" + "Small teams win by publishing more often. " * 20)
    assert await runner.run(gen.id, engine=claude) == "done"
    v = by_platform(gen.id)["bluesky"]
    assert v.repaired and v.attempts == 2
    post = db.in_session(library.get_variant, ada, v.id).post
    assert platforms.validate("bluesky", post) == []
    assert "Fix these problems" in str(fake.requests[-1].body)


async def test_an_invented_claim_is_flagged(fake, claude):
    ada = member()
    gen = start(ada, request(platforms=["linkedin"]), engine="claude", model=claude.model)
    fake.responder = (lambda call: "### POST\nSmall teams that repurpose see 97% more visits, says Dr. Helen Marsh of Acme Research.")
    await runner.run(gen.id, engine=claude)
    flags = by_platform(gen.id)["linkedin"].flags
    assert {f["kind"] for f in flags} >= {"number", "name"}


@pytest.mark.promise("AI-4", "GDPR-2")
async def test_restricted_content_is_never_sent_to_claude(fake, claude):
    ada = member()
    gen = start(ada, request(platforms=["x", "linkedin"]), engine="claude", model=claude.model)
    with db.session() as s:
        u = s.get(User, ada.user_id)
        u.restrict_processing = True
        s.add(u)
    assert await runner.run(gen.id, engine=claude) == "failed"
    assert fake.requests == []
    with db.session() as s:
        assert "restricted" in s.get(Generation, gen.id).error
