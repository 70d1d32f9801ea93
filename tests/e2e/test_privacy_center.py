"""The privacy center, as a person uses it: see what is held, download a copy, restrict
processing and see the composer honour it."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import timedelta

import jsonschema
import pytest
from playwright.sync_api import Page, expect

from omnipostr import clock
from omnipostr.privacy import routes
from tests.e2e.helpers import delete_account, sign_in_fails, sign_out, sign_up
from tests.e2e.test_compose import paste_and_generate


@pytest.mark.promise("RGT-1", "GDPR-3", "GDPR-2", "GDPR-4", "CCPA-1", "XFR-1", "GDPR-1")
def test_see_what_is_held_download_a_copy_and_restrict_processing(page: Page, smtp, tmp_path, shots):
    # someone else first: nothing of theirs may reach Ada's copy
    sign_up(page, smtp, email="other@example.com", name="Otto Other", team="Other Co")
    paste_and_generate(page, text="Otto keeps a secret ledger of harbour cranes. " * 20, remove=("Instagram", "Threads", "LinkedIn"))
    expect(page.locator("[data-status=done]")).to_have_count(2, timeout=30_000)
    sign_out(page)

    sign_up(page, smtp, email="ada@example.com")
    paste_and_generate(page, remove=("Instagram", "Threads"))
    expect(page.locator("[data-status=done]")).to_have_count(3, timeout=30_000)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings sections").get_by_role("link", name="Privacy").click()
    expect(page.get_by_role("heading", name="What we hold about you")).to_be_visible()
    held = page.get_by_role("region", name="Data we hold")
    expect(held.get_by_role("row").filter(has_text="Generated posts").first).to_contain_text("Until you delete it.")
    expect(page.get_by_text("You may also complain to a data protection supervisory authority", exact=False)).to_be_visible()
    expect(page.get_by_text("never changes your plan, its features or its price", exact=False)).to_be_visible()
    expect(page.get_by_role("region", name="Where your data is processed")).to_contain_text("Analytical Engines: United States")
    # the retention ledger: when the rules delete each thing, with the rule's reason
    ledger = page.get_by_role("region", name="Deletion dates")
    in_90_days = (clock.now() + timedelta(days=90)).strftime("%d %b %Y")
    expect(ledger.get_by_role("row").filter(has_text="Original text").first).to_contain_text(in_90_days)
    expect(ledger.get_by_role("row").filter(has_text="Generation history").first).to_contain_text("the posts stay")
    expect(ledger.get_by_role("row").filter(has_text="Your account")).to_be_visible()
    ledger.screenshot(path=str(shots / "privacy-ledger.png"))

    page.get_by_role("button", name="Prepare a download").click()
    link = page.get_by_role("link", name=re.compile(r"^Download \(ZIP"))
    expect(link).to_be_visible(timeout=30_000)
    page.screenshot(path=str(shots / "privacy-center.png"), full_page=True)
    with page.expect_download() as info:
        link.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    with zipfile.ZipFile(path) as z:
        doc = json.loads(z.read("omnipostr-data.json"))
        everything = b"".join(z.read(n) for n in z.namelist()).decode("utf-8", "replace")
    jsonschema.validate(doc, json.loads(routes.SCHEMA_FILE.read_text()))
    assert "ada@example.com" in everything and "What We Learned From Six Months" in everything
    assert "other@example.com" not in everything and "harbour" not in everything and "Otto" not in everything

    # restricted: the composer says why and where, and generates nothing
    page.get_by_label("Restrict processing").click()
    expect(page.get_by_text("Processing restricted: your content stays")).to_be_visible()
    page.goto("/app")
    callout = page.get_by_text(re.compile(r"^You restricted processing of your content"))
    expect(callout).to_be_visible()
    page.get_by_label("Your article or script").fill("A short note about our week, in more than a few words, to post.")
    page.get_by_role("button", name="Generate posts").click()
    expect(page.get_by_role("alert").filter(has_text="turn it off in Settings → Privacy")).to_be_visible()
    page.get_by_role("link", name="your privacy settings").click()
    page.get_by_label("Restrict processing").click()
    expect(page.get_by_text("Restriction lifted")).to_be_visible()
    # usage analytics: off until agreed to (this browser refused it in the cookie banner), on and
    # off again at a click
    usage = page.get_by_role("switch", name="Usage analytics")
    expect(usage).not_to_be_checked()
    usage.click()
    expect(page.get_by_text("Usage analytics on. Thank you.")).to_be_visible()
    expect(usage).to_be_checked()
    usage.click()
    expect(page.get_by_text("Usage analytics off")).to_be_visible()
    expect(usage).not_to_be_checked()


@pytest.mark.promise("RGT-3")
def test_delete_the_account_end_to_end(page: Page, smtp, shots):
    from sqlmodel import select

    from omnipostr import db
    from omnipostr.repurpose.models import Generation
    from tests.e2e.helpers import PASSWORD

    sign_up(page, smtp, email="leaving@example.com", name="Lee Leaving", team="Leaving Co")
    paste_and_generate(page, remove=("Instagram", "Threads", "LinkedIn"))
    expect(page.locator("[data-status=done]")).to_have_count(2, timeout=30_000)
    page.goto("/settings/privacy")
    form = page.get_by_role("form", name="Delete your account")
    expect(page.get_by_role("region", name="Delete your account").get_by_text("Deleted with it, as you own them alone: Leaving Co.")).to_be_visible()
    form.get_by_label("Your password").fill(PASSWORD)
    form.get_by_role("button", name="Delete my account").click()
    expect(form.get_by_role("alert")).to_contain_text("Tick the box")
    page.screenshot(path=str(shots / "delete-account.png"), full_page=True)

    uid = delete_account(page, email="leaving@example.com")
    with db.session() as s:
        assert s.exec(select(Generation).where(Generation.created_by == uid)).all() == []
    sign_in_fails(page, email="leaving@example.com")
    assert any("account is deleted" in str(m["Subject"]) for m in smtp.messages)
