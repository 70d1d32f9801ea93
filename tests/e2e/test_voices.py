"""Brand voices in a real browser: create one in Settings, edit it, write with it in the
composer, delete it; bad input is explained; a voice deleted in another tab is not used."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from omnipostr import db
from omnipostr.repurpose.models import BrandVoice, Generation
from tests.e2e.helpers import sign_up

pytestmark = pytest.mark.browser

ARTICLE = (
    "Our studio moved to a four-day week in March. Six months later, the team ships the same work, "
    "clients renewed at the same rate, and sick days fell by a third. Here is what we changed, "
    "what broke along the way, and what we would do differently if we started again tomorrow."
)


def open_voices(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings sections").get_by_role("link", name="Brand voices").click()
    page.wait_for_url(re.compile(r".*/settings/voices"))
    expect(page.get_by_role("heading", name="Brand voices")).to_be_visible()


def generate_x(page: Page) -> None:
    page.get_by_role("button", name="None", exact=True).click()
    page.get_by_role("group", name="Platforms").get_by_role("button", name="X", exact=True).click()
    page.get_by_role("button", name="Generate posts").click()


def test_create_edit_use_and_delete_a_brand_voice(page: Page, smtp, live_app, shots):
    sign_up(page, smtp, email="voice@example.com", name="Vera Voice", team="Vera Studio")
    open_voices(page)
    voices = page.get_by_role("region", name="Brand voices")
    expect(voices.get_by_text("No brand voice yet")).to_be_visible()
    form = page.get_by_role("form", name="Brand voice")

    # a voice without a name is explained, and what was typed stays
    form.get_by_label("Description").fill("Warm, direct, no jargon.")
    form.get_by_role("button", name="Save brand voice").click()
    expect(form.get_by_role("alert")).to_have_text("Give the brand voice a name.")
    expect(form.get_by_label("Description")).to_have_value("Warm, direct, no jargon.")

    form.get_by_label("Name").fill("Studio Calm")
    form.get_by_label("Sample posts (separate them with a line of ---)").fill(
        "We shipped the new booking page today. Quieter, faster, kinder to thumbs.\n"
        "---\n"
        "Four days a week, same clients, same pay. Six months in, nobody wants to go back."
    )
    form.get_by_role("button", name="Save brand voice").click()
    expect(page.get_by_text("Brand voice saved.").last).to_be_visible()
    row = voices.get_by_role("article", name="Studio Calm")
    expect(row).to_contain_text("Warm, direct, no jargon.")
    expect(row).to_contain_text("2 sample posts")
    expect(form.get_by_label("Name")).to_have_value("")  # the form is ready for the next one
    page.screenshot(path=str(shots / "voices-list.png"), full_page=True)

    # edit: the form fills in; a third sample after a dash line with spaces around it
    row.get_by_role("button", name="Edit Studio Calm").click()
    expect(form.get_by_label("Name")).to_have_value("Studio Calm")
    expect(form.get_by_role("status")).to_contain_text("Editing “Studio Calm”.")
    samples = form.get_by_label("Sample posts (separate them with a line of ---)")
    expect(samples).to_have_value(re.compile(r"kinder to thumbs\.\n---\nFour days"))
    form.get_by_label("Name").fill("Studio Bright")
    samples.fill(samples.input_value() + "\n ---  \nThree sample posts beat two. Short ones beat long ones.")
    page.screenshot(path=str(shots / "voices-edit.png"), full_page=True)
    form.get_by_role("button", name="Save brand voice").click()
    expect(page.get_by_text("Brand voice saved.").last).to_be_visible()
    expect(voices.get_by_role("article", name="Studio Calm")).to_have_count(0)
    expect(voices.get_by_role("article", name="Studio Bright")).to_contain_text("3 sample posts")
    with db.session() as s:
        voice = s.exec(select(BrandVoice)).one()
        assert voice.name == "Studio Bright" and voice.samples.count('"') == 6  # three samples

    # the composer offers it; a generation with it records it
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Compose").click()
    page.get_by_label("Your article or script").fill(ARTICLE)
    page.get_by_role("combobox", name="Brand voice").click()
    page.get_by_role("option", name="Studio Bright").click()
    expect(page.get_by_role("combobox", name="Brand voice")).to_have_text("Studio Bright")
    generate_x(page)
    expect(page.locator("[data-status=done]")).to_have_count(1, timeout=30_000)
    gen_id = int(re.search(r"g=(\d+)", page.url).group(1))
    with db.session() as s:
        options = s.get(Generation, gen_id).options
        assert options["brand_voice_id"] == voice.id
        assert options["brand_voice"]["name"] == "Studio Bright"
        assert len(options["brand_voice"]["samples"]) == 3

    # deleted in another tab while the composer still has it selected: the next generation
    # says so instead of silently writing without it
    page.get_by_role("button", name="New draft").click()
    expect(page.get_by_role("article")).to_have_count(0)
    expect(page.get_by_label("Your article or script")).to_have_value("")
    page.get_by_label("Your article or script").fill(ARTICLE)
    other = page.context.new_page()
    other.goto("/settings/voices")
    other.get_by_role("button", name="Delete Studio Bright").click()
    other.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(other.get_by_text("Brand voice deleted.")).to_be_visible()
    expect(other.get_by_text("No brand voice yet")).to_be_visible()
    other.close()
    expect(page.get_by_role("combobox", name="Brand voice")).to_have_text("Studio Bright")
    page.get_by_role("button", name="Generate posts").click()
    expect(page.get_by_role("alert").filter(has_text="That brand voice no longer exists.")).to_be_visible()
    expect(page.get_by_role("combobox", name="Brand voice")).to_have_text("No brand voice")
    expect(page.get_by_label("Your article or script")).to_have_value(ARTICLE)
    with db.session() as s:
        assert s.exec(select(BrandVoice)).all() == []
        assert len(s.exec(select(Generation)).all()) == 1
