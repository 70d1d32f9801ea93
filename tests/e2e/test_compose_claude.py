"""The composer with Claude configured (the loopback Anthropic API at 800 ms to first token and
60 tokens a second): cards fill in as they stream, a reload mid-generation loses nothing, an
outage fails one platform honestly until "Retry failed" finishes it, and an invented claim is
flagged until "Rewrite grounded" removes it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from fakes.anthropic_server import Call, default_responder
from tests.e2e.helpers import sign_up

pytestmark = pytest.mark.browser

ARTICLE = (Path(__file__).resolve().parent.parent / "fixtures" / "articles" / "postgres-indexes.md").read_text()
FIVE = ("X", "LinkedIn", "Instagram", "Threads", "Bluesky")


def generate(page: Page) -> None:
    page.goto("/app")
    expect(page.get_by_text("Engine: Claude")).to_be_visible()
    page.get_by_label("Your article or script").fill(ARTICLE)
    expect(page.get_by_text("0 words")).to_have_count(0)
    page.get_by_role("button", name="Generate posts").click()


@pytest.mark.promise("AI-1", "SVC-2")
def test_cards_stream_in_and_a_reload_loses_nothing(page: Page, smtp, claude_app, fake_claude):
    fake_claude.reset()
    fake_claude.configure(ttft=0.8, tps=60)
    sign_up(page, smtp, email="stream@example.com", name="Sam Stream", team="Stream Co")
    generate(page)
    # text appears while the posts are still being written
    expect(page.locator("[data-status=streaming] .op-post-text").first).to_be_visible(timeout=10_000)
    expect(page.locator("[data-status=done]")).not_to_have_count(5)
    page.reload()
    expect(page.get_by_role("article")).to_have_count(5)
    expect(page.locator("[data-status=done]")).to_have_count(5, timeout=60_000)
    for name in FIVE:
        expect(page.get_by_role("article", name=name, exact=True).get_by_text("Grounded")).to_be_visible()
    # the reload did not start the generation again
    assert len(fake_claude.requests) == 5


def test_an_outage_fails_one_platform_honestly_and_retry_finishes(page: Page, smtp, claude_app, fake_claude):
    fake_claude.reset()
    fake_claude.configure(ttft=0.05, tps=0)
    fake_claude.fail_next("overloaded", 20, platform="linkedin")
    sign_up(page, smtp, email="outage@example.com", name="Olga Outage", team="Outage Co")
    generate(page)
    linkedin = page.get_by_role("article", name="LinkedIn")
    expect(linkedin).to_have_attribute("data-status", "failed", timeout=30_000)
    expect(linkedin.get_by_role("alert")).to_contain_text(re.compile("overloaded", re.I))
    expect(page.locator("[data-status=done]")).to_have_count(4)
    expect(page.get_by_text(re.compile("1 of 5 platforms failed"))).to_be_visible()
    fake_claude.clear_faults()
    page.get_by_role("button", name="Retry failed").click()
    expect(linkedin).to_have_attribute("data-status", "done", timeout=30_000)
    expect(page.locator("[data-status=done]")).to_have_count(5)


@pytest.mark.promise("BIL-1")
def test_a_generation_that_fails_whole_gives_its_unit_back_and_its_retry_takes_one(page: Page, smtp, claude_app, fake_claude):
    fake_claude.reset()
    fake_claude.configure(ttft=0.05, tps=0)
    fake_claude.fail_next("overloaded", 200)  # every platform, every attempt
    sign_up(page, smtp, email="whole@example.com", name="Wanda Whole", team="Whole Co")
    generate(page)
    used = page.get_by_text(re.compile(r"\d+ of 30 generations used this period"))
    expect(page.locator("[data-status=failed]")).to_have_count(5, timeout=60_000)
    expect(used).to_have_text("0 of 30 generations used this period")  # given back: nothing was written
    fake_claude.clear_faults()
    page.get_by_role("button", name="Retry failed").click()
    expect(used).to_have_text("1 of 30 generations used this period")
    expect(page.locator("[data-status=done]")).to_have_count(5, timeout=60_000)


@pytest.mark.promise("AI-4", "GDPR-2")
def test_restricted_processing_sends_nothing_to_claude_and_the_composer_says_why(page: Page, smtp, claude_app, fake_claude):
    fake_claude.reset()
    sign_up(page, smtp, email="quiet@example.com", name="Quinn Quiet", team="Quiet Co")
    page.goto("/settings/privacy")
    page.get_by_label("Restrict processing").click()
    expect(page.get_by_text("Processing restricted: your content stays")).to_be_visible()
    fake_claude.clear_requests()
    generate(page)  # the composer says why before and after the click
    expect(page.get_by_text(re.compile(r"^You restricted processing of your content")).first).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="turn it off in Settings → Privacy")).to_be_visible()
    page.wait_for_timeout(1500)  # time enough for a request to have reached Claude, were one sent
    assert fake_claude.requests == []
    expect(page.get_by_role("article")).to_have_count(0)


def test_an_invented_claim_is_flagged_and_a_grounded_rewrite_removes_it(page: Page, smtp, claude_app, fake_claude):
    fake_claude.reset()
    fake_claude.configure(ttft=0.05, tps=0)

    def responder(call: Call) -> str:
        # LinkedIn's first answer invents a figure and an expert; the rewrite is grounded
        if call.platform == "linkedin" and call.prompt is not None and not call.prompt.feedback:
            return "### POST\nAn index makes pages 97% faster, says Dr. Helen Marsh of Acme Research."
        return default_responder(call)

    fake_claude.responder = responder
    try:
        sign_up(page, smtp, email="grounded@example.com", name="Gus Grounded", team="Grounded Co")
        generate(page)
        expect(page.locator("[data-status=done]")).to_have_count(5, timeout=30_000)
        linkedin = page.get_by_role("article", name="LinkedIn")
        expect(linkedin.get_by_text("Not found in your source — check before you publish:")).to_be_visible()
        expect(linkedin.get_by_text("Grounded", exact=True)).to_have_count(0)

        linkedin.get_by_role("button", name="Rewrite LinkedIn post grounded in the source").click()
        expect(linkedin.get_by_text("Not found in your source — check before you publish:")).to_have_count(0, timeout=30_000)
        expect(linkedin).to_have_attribute("data-status", "done")
        expect(linkedin.get_by_text("Grounded", exact=True)).to_be_visible()
        expect(linkedin.get_by_text("Helen Marsh")).to_have_count(0)
        rewrite = fake_claude.requests[-1]
        assert rewrite.platform == "linkedin" and "Some details are not in the source" in str(rewrite.body)
    finally:
        fake_claude.reset()
