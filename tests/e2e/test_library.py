"""The library in a real browser: pages of generations, a platform filter, and one generation's
page, where the original text is shown, then deleted (the posts stay), then the whole
generation is deleted.

The generations are made the way the composer makes them (the composer service and the
runner with the offline engine), straight into the database the app reads, so the test need
not click Generate 23 times.
"""

from __future__ import annotations

import asyncio
import re
import threading

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from omnipostr import db
from omnipostr.accounts import service as accounts
from omnipostr.accounts.models import User
from omnipostr.crypto import email_index
from omnipostr.repurpose import runner
from omnipostr.repurpose import service as compose
from omnipostr.repurpose.engines.offline import MODEL, OfflineEngine
from omnipostr.repurpose.models import Generation, Source
from tests.e2e.helpers import sign_up
from tests.e2e.test_first_minute import PUBLIC_PAGES

pytestmark = pytest.mark.browser

COUNT = 23  # more than the library's page of 20


def article(i: int) -> str:
    return (
        f"Article {i:02d}\n\n"
        f"Our team shipped release {i} this week after a month of testing. The release makes "
        f"exports faster for every customer. Support tickets about slow exports fell sharply. "
        f"We will keep measuring how people use the new export screen."
    )


def make_generations(email: str) -> None:
    """``COUNT`` finished generations for the member: odd ones for X and Mastodon, even ones
    for LinkedIn."""
    with db.session() as s:
        user = s.exec(select(User).where(User.email_index == email_index(email))).one()
        token, _ = accounts.start_session(s, user, accounts.ClientInfo())
        actor = accounts.resolve_session(s, token).actor
    ids = []
    for i in range(1, COUNT + 1):
        plats = ["x", "mastodon"] if i % 2 else ["linkedin"]
        req = compose.ComposeRequest(text=article(i), platforms=plats)
        ids.append(db.in_session(compose.start_generation, actor, req, engine="offline", model=MODEL).id)

    async def run_all() -> None:
        for gid in ids:
            assert await runner.run(gid, engine=OfflineEngine()) == "done"

    # the runner is asyncio; Playwright's sync API owns this thread's event loop
    worker = threading.Thread(target=lambda: asyncio.run(run_all()))
    worker.start()
    worker.join()


def listed(page: Page):
    return page.get_by_role("region", name="Generations").get_by_role("link")


@pytest.mark.promise("NOT-3")
def test_pages_filters_and_deleting_text_then_the_generation(page: Page, smtp, live_app, shots, new_page):
    sign_up(page, smtp, email="lib@example.com", name="Liv Library", team="Library Co")
    make_generations("lib@example.com")

    # newest first, twenty to a page
    page.goto("/library")
    expect(listed(page)).to_have_count(20)
    expect(listed(page).first).to_have_text(f"Article {COUNT}")
    expect(page.get_by_role("button", name="Newer")).to_be_disabled()
    page.get_by_role("button", name="Older").click()
    expect(listed(page)).to_have_count(COUNT - 20)
    expect(listed(page).last).to_have_text("Article 01")
    expect(page.get_by_role("button", name="Older")).to_be_disabled()
    page.get_by_role("button", name="Newer").click()
    expect(listed(page)).to_have_count(20)

    # on a phone the list stays readable: title, platforms, when, engine and cost, no sideways scroll
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("columnheader", name="Cost")).to_be_hidden()
    first = page.get_by_role("row").nth(1)
    expect(first.get_by_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC · Extractive draft$"))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    region = page.get_by_role("region", name="Generations")
    assert page.evaluate("(el) => el.scrollWidth <= el.clientWidth", region.element_handle())
    page.screenshot(path=str(shots / "phone-library-list.png"))
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.get_by_role("columnheader", name="Cost")).to_be_visible()

    # only the generations with a Mastodon post
    page.get_by_role("combobox", name="Platform").click()
    page.get_by_role("option", name="Mastodon").click()
    expect(listed(page)).to_have_count((COUNT + 1) // 2)
    expect(page.get_by_text("LinkedIn", exact=True)).to_have_count(0)
    page.get_by_role("button", name="Clear filters").click()
    expect(listed(page)).to_have_count(20)

    # one generation: its original text, shown, then deleted; the posts stay
    listed(page).first.click()
    page.wait_for_url(re.compile(r".*/library/\d+$"))
    gen_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_text(re.compile(r"^The original text is kept until \w+ \d{1,2}, \d{4} \(90 days"))).to_be_visible()
    page.get_by_role("button", name="Show text").click()
    expect(page.locator(".op-source-text")).to_contain_text("Our team shipped release 23 this week")
    page.get_by_role("button", name="Hide text").click()
    expect(page.locator(".op-source-text")).to_have_count(0)
    page.get_by_role("button", name="Delete original text").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete text").click()
    expect(page.get_by_text("Original text deleted", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Reuse in composer")).to_have_count(0)
    expect(page.get_by_role("article", name="X", exact=True)).to_be_visible()
    with db.session() as s:
        gen = s.get(Generation, gen_id)
        assert gen.source_id is None or s.get(Source, gen.source_id).text is None

    # permission to feature the posts: off until given, given with its time, withdrawn
    allow = page.get_by_role("switch", name="OmniPostr may feature these posts")
    expect(allow).not_to_be_checked()
    allow.click()
    expect(page.get_by_text(re.compile(r"Allowed on \d{2} \w{3} \d{4}"))).to_be_visible()
    expect(allow).to_be_checked()
    page.wait_for_timeout(600)
    page.screenshot(path=str(shots / "library-may-feature.png"))
    with db.session() as s:
        assert s.get(Generation, gen_id).may_feature_at is not None
    allow.click()
    expect(page.get_by_text("Permission withdrawn")).to_be_visible()
    with db.session() as s:
        assert s.get(Generation, gen_id).may_feature_at is None
    # and nothing without the permission is shown to the public
    post = page.get_by_role("article", name="X", exact=True).locator(".op-post-text").first.inner_text()[:40]
    visitor = new_page()
    for path in PUBLIC_PAGES:
        visitor.goto(path)
        expect(visitor.get_by_role("heading", level=1)).to_be_visible()
        visitor.wait_for_load_state("networkidle")
        assert post not in visitor.content(), path

    # the whole generation
    page.get_by_role("button", name="Delete generation").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(r".*/library/?$"))
    expect(listed(page).first).to_have_text(f"Article {COUNT - 1}")
    with db.session() as s:
        assert s.get(Generation, gen_id) is None
