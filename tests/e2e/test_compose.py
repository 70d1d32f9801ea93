"""The main job in a real browser: paste an article, generate, edit, copy, find it in the
library, and make sure another workspace can neither see nor touch it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from omnipostr import db
from omnipostr.repurpose import platforms
from omnipostr.repurpose.models import Generation, Variant
from omnipostr.repurpose.variant import Variant as Post
from tests.e2e.helpers import sign_out, sign_up

pytestmark = pytest.mark.browser

ARTICLE = (Path(__file__).resolve().parent.parent / "fixtures" / "articles" / "four-day-week.md").read_text()


def paste_and_generate(page: Page, text: str = ARTICLE, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> None:
    page.goto("/app")
    page.get_by_label("Your article or script").fill(text)
    for name in add + remove:
        page.get_by_role("group", name="Platforms").get_by_role("button", name=name, exact=True).click()
    expect(page.get_by_text(re.compile(r"^\d[\d,]* words"))).not_to_have_text("0 words · 0 min read")
    page.get_by_role("button", name="Generate posts").click()


@pytest.mark.promise("SVC-2", "AI-2", "AI-3", "CON-1")
def test_paste_generate_edit_copy_and_find_in_library(page: Page, smtp, live_app):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_up(page, smtp, email="creator@example.com", name="Cleo Creator", team="Cleo Media")
    paste_and_generate(page, add=("Mastodon",), remove=("Instagram",))
    # without an Anthropic key the drafts say honestly what they are
    expect(page.get_by_text(re.compile(r"Engine: extractive drafts \(your own sentences"))).to_be_visible()
    cards = page.get_by_role("article")
    expect(cards).to_have_count(5)
    expect(page.locator("[data-status=done]")).to_have_count(5, timeout=30_000)
    for name in ("X", "LinkedIn", "Threads", "Bluesky", "Mastodon"):
        expect(page.get_by_role("article", name=name, exact=True)).to_be_visible()
    expect(page.locator(".op-meter[data-level=over]")).to_have_count(0)
    assert re.search(r"/app\?g=\d+$", page.url)

    # every stored variant passes its platform's rules
    gen_id = int(page.url.rsplit("=", 1)[1])
    with db.session() as s:
        rows = s.exec(select(Variant).where(Variant.generation_id == gen_id)).all()
        assert {v.platform for v in rows} == {"x", "linkedin", "threads", "bluesky", "mastodon"}
        for v in rows:
            body = json.loads(v.body)
            assert platforms.validate(v.platform, Post(v.platform, body["posts"], body["fields"])) == []

    # edit the Bluesky post: the meter follows the edit, going red over the limit
    card = page.get_by_role("article", name="Bluesky")
    card.get_by_role("button", name="Edit Bluesky post").click()
    box = card.get_by_role("textbox", name="Post 1")
    box.fill("Four days, same pay, same clients. " * 10)
    expect(card.locator(".op-meter").first).to_have_attribute("data-level", "over")
    box.fill("Six months of a four-day week at our 42-person studio: same pay, same clients, less burnout.")
    expect(card.locator(".op-meter").first).to_have_attribute("data-level", "ok")
    card.get_by_role("button", name="Save").click()
    expect(card.get_by_text("Edited")).to_be_visible()
    card.get_by_role("button", name="Copy Bluesky post").click()
    expect(page.get_by_text("Bluesky post copied.")).to_be_visible()
    assert "four-day week at our 42-person studio" in page.evaluate("navigator.clipboard.readText()")
    # each post of a thread, and each field, copies on its own (one box each on the platform)
    x = page.get_by_role("article", name="X", exact=True)
    x.get_by_role("button", name="Copy Post 2").click()
    expect(page.get_by_text("Post 2 copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()").strip() == x.locator(".op-post-text").nth(1).inner_text().strip()
    expect(x.get_by_role("button", name="Copy Post 1")).to_be_visible()
    expect(page.get_by_role("article", name="LinkedIn").get_by_role("button", name="Copy Post", exact=True)).to_have_count(0)

    # a reload loses nothing
    page.reload()
    expect(page.get_by_role("article", name="Bluesky").get_by_text("four-day week at our 42-person studio")).to_be_visible()

    # the library lists it, search finds the edited words, the detail shows the edit
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    expect(page.get_by_role("link", name=re.compile("Four-Day Week"))).to_be_visible()
    page.get_by_role("textbox", name="Search").fill("burnout studio")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("link", name=re.compile("Four-Day Week"))).to_be_visible()
    page.get_by_role("textbox", name="Search").fill("zeppelin")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text("Nothing matches")).to_be_visible()
    page.reload()  # a new visit starts from the whole library, not from the last search
    expect(page.get_by_role("textbox", name="Search")).to_have_value("")
    expect(page.get_by_role("link", name=re.compile("Four-Day Week"))).to_be_visible()
    page.get_by_role("textbox", name="Search").fill("zeppelin")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text("Nothing matches")).to_be_visible()
    page.get_by_role("button", name="Clear filters").click()
    page.get_by_role("link", name=re.compile("Four-Day Week")).click()
    detail = page.get_by_role("article", name="Bluesky")
    expect(detail.get_by_text("four-day week at our 42-person studio")).to_be_visible()

    # regenerating one platform gives another take (offline too: it opens differently)
    detail.get_by_role("button", name="Regenerate Bluesky post").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Regenerate").click()  # it was edited: asked first
    expect(detail.get_by_text("four-day week at our 42-person studio")).to_have_count(0, timeout=30_000)
    expect(detail).to_have_attribute("data-status", "done")
    expect(detail.get_by_text("Edited")).to_have_count(0)
    second_take = detail.locator(".op-post-text").first.inner_text()
    detail.get_by_role("button", name="Regenerate Bluesky post").click()
    expect(detail.locator(".op-post-text").first).not_to_have_text(second_take, timeout=30_000)

    # delete one post, then reuse the source in the composer
    page.get_by_role("button", name="Delete Threads post").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("article", name="Threads")).to_have_count(0)
    page.get_by_role("button", name="Reuse in composer").click()
    page.wait_for_url(re.compile(r".*/app/?\?reuse=\d+"))
    expect(page.get_by_label("Your article or script")).to_have_value(re.compile("Four-Day Week"))


def test_bad_input_is_explained_and_nothing_is_lost(page: Page, smtp, live_app):
    sign_up(page, smtp, email="bad@example.com", name="Bea", team="Bea Co")
    page.goto("/app")
    page.get_by_role("button", name="Generate posts").click()
    expect(page.get_by_role("alert")).to_contain_text("empty")
    script = "<script>window.hacked = true</script> Hello <b>world</b>, this is 42% bold. " * 3
    page.get_by_label("Your article or script").fill(script)
    page.get_by_role("button", name="None", exact=True).click()
    expect(page.get_by_role("button", name="Generate posts")).to_be_disabled()
    page.get_by_role("group", name="Platforms").get_by_role("button", name="X", exact=True).click()
    page.get_by_role("button", name="Generate posts").click()
    expect(page.locator("[data-status=done]")).to_have_count(1, timeout=30_000)
    # the post is written from the words, never the markup, and nothing of it runs
    expect(page.get_by_role("article", name="X")).to_contain_text("Hello world, this is 42% bold.")
    expect(page.get_by_role("article", name="X")).not_to_contain_text("<b>")
    assert page.evaluate("window.hacked === undefined")
    expect(page.get_by_label("Your article or script")).to_have_value(re.compile("<script>"))


def test_a_draft_is_kept_across_pages_reloads_and_a_quick_new_draft_but_not_a_sign_in(page: Page, smtp, live_app):
    sign_up(page, smtp, email="dora@example.com", name="Dora", team="Dora Co")
    draft = "Drafts are kept while you look something up. The box keeps every word of them."
    page.get_by_label("Your article or script").fill(draft)
    expect(page.get_by_text("15 words · 1 min read")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    expect(page.get_by_role("heading", name="Library", level=1)).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Compose").click()
    expect(page.get_by_label("Your article or script")).to_have_value(draft)
    page.reload()
    expect(page.get_by_label("Your article or script")).to_have_value(draft)
    expect(page.get_by_text("15 words · 1 min read")).to_be_visible()

    # Ctrl+Enter in the box generates.
    page.get_by_label("Your article or script").press("Control+Enter")
    expect(page.locator("[data-status=done]")).to_have_count(5, timeout=30_000)
    # "New draft" and pasting at once: the box keeps what was pasted.
    page.get_by_role("button", name="New draft").click()
    page.get_by_label("Your article or script").fill(ARTICLE)
    page.wait_for_timeout(1500)  # the answer to "New draft" has arrived by now
    expect(page.get_by_label("Your article or script")).to_have_value(ARTICLE)

    # Someone else signing in on this tab starts with an empty composer.
    sign_out(page)
    sign_up(page, smtp, email="eli@example.com", name="Eli", team="Eli Co")
    expect(page.get_by_label("Your article or script")).to_have_value("")
    expect(page.get_by_text("0 words · 0 min read")).to_be_visible()


def test_a_thread_is_edited_beside_its_preview_and_its_numbers_are_drawn_not_typed(page: Page, smtp, live_app, shots):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_up(page, smtp, email="thea@example.com", name="Thea Thread", team="Thread Co")
    paste_and_generate(page)
    x = page.get_by_role("article", name="X", exact=True)
    expect(x).to_have_attribute("data-status", "done", timeout=30_000)
    n = x.locator(".op-thread-post").count()
    assert n >= 3
    # the numbers are drawn beside the posts, not part of their text
    expect(x.locator(".op-thread-mark")).to_have_text([f" {k}/{n}" for k in range(1, n + 1)])
    # LinkedIn folds where its feed does
    linkedin = page.get_by_role("article", name="LinkedIn", exact=True)
    expect(linkedin.locator(".op-more")).to_have_text("…see more")
    expect(linkedin.locator(".op-folded-rest")).not_to_be_visible()
    linkedin.locator(".op-fold > summary").click()
    expect(linkedin.locator(".op-folded-rest")).to_be_visible()

    x.get_by_role("button", name="Edit X post").click()
    boxes = x.get_by_role("textbox", name=re.compile(r"^Post \d+$"))
    expect(boxes).to_have_count(n)
    for k in range(n):
        assert not re.search(r"\d+/\d+\s*$", boxes.nth(k).input_value())
    live = x.locator(".op-live-preview")
    expect(live.get_by_role("heading", name="Preview")).to_be_visible()
    # the preview follows the boxes as they are typed in, before anything is saved
    x.get_by_role("button", name="Remove Post 1").click()
    expect(boxes).to_have_count(n - 1)
    expect(live.locator(".op-thread-mark")).to_have_text([f" {k}/{n - 1}" for k in range(1, n)])
    x.get_by_role("textbox", name="Post 1").fill("The short version: we kept it.")
    expect(live.locator(".op-post-text").first).to_have_text("The short version: we kept it. 1/" + str(n - 1))
    x.get_by_role("button", name="Add post").click()
    x.get_by_role("textbox", name=f"Post {n}").fill(f"We are keeping the four-day week. {n}/{n}")  # typed anyway
    expect(live.locator(".op-thread-mark")).to_have_text([f" {k}/{n}" for k in range(1, n + 1)])
    page.screenshot(path=str(shots / "edit-beside-preview.png"))
    x.get_by_role("button", name="Save").click()
    expect(x.get_by_text("Edited")).to_be_visible()
    texts = [t.strip() for t in x.locator(".op-post-text").all_inner_texts()]
    assert texts[0] == f"The short version: we kept it. 1/{n}"
    assert texts[-1] == f"We are keeping the four-day week. {n}/{n}"  # one number, not two
    expect(x.get_by_text("Breaks a platform rule")).to_have_count(0)
    expect(x.get_by_text(re.compile(r"\d+/\d+.*not found|not in your source"))).to_have_count(0)
    # what goes out carries the numbers once, in X's style
    x.get_by_role("button", name="Copy X post").click()
    expect(page.get_by_text("X post copied.")).to_be_visible()  # the clipboard is written by then
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"The short version: we kept it. 1/{n}\n\n---\n\n")
    assert copied.endswith(f"We are keeping the four-day week. {n}/{n}")


def test_another_workspace_cannot_see_or_touch_a_generation(page: Page, new_page, smtp, live_app):
    sign_up(page, smtp, email="alice@example.com", name="Alice", team="Alice Inc")
    paste_and_generate(page)
    expect(page.locator("[data-status=done]")).to_have_count(5, timeout=30_000)
    gen_id = int(page.url.rsplit("=", 1)[1])
    with db.session() as s:
        alice_variants = [v.id for v in s.exec(select(Variant).where(Variant.generation_id == gen_id)).all()]

    # Mallory, in her own workspace, records the events her page sends...
    mallory = new_page()
    sent: list[str] = []
    server_holder: dict = {}

    def route(ws):
        server = ws.connect_to_server()
        server_holder["server"] = server
        ws.on_message(lambda m: (sent.append(m), server.send(m)))
        server.on_message(lambda m: ws.send(m))

    mallory.route_web_socket(re.compile(r".*/_event.*"), route)
    sign_up(mallory, smtp, email="mallory@example.com", name="Mallory", team="Mallory Ltd")

    # ...cannot open Alice's generation in the composer or the library...
    mallory.goto(f"/app?g={gen_id}")
    expect(mallory.get_by_role("heading", name="Compose")).to_be_visible()
    expect(mallory.get_by_role("article")).to_have_count(0)
    mallory.goto(f"/library/{gen_id}")
    expect(mallory.get_by_text("Generation not found")).to_be_visible()
    mallory.goto("/library")
    expect(mallory.get_by_text("Your library is empty")).to_be_visible()

    # ...and replaying her own delete event with Alice's variant id deletes nothing.
    paste_and_generate(mallory, remove=("Instagram", "Threads", "Bluesky", "LinkedIn"))
    expect(mallory.locator("[data-status=done]")).to_have_count(1, timeout=30_000)
    mallory.get_by_role("button", name="Delete X post").click()
    mallory.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(mallory.get_by_role("article", name="X")).to_have_count(0)
    delete_frame = next(m for m in sent if "delete_variant" in str(m))
    own_id = re.search(r'"variant_id":\s*(\d+)', str(delete_frame)).group(1)
    for victim in alice_variants:
        forged = str(delete_frame).replace(f'"variant_id":{own_id}', f'"variant_id":{victim}').replace(
            f'"variant_id": {own_id}', f'"variant_id": {victim}'
        )
        assert str(victim) in forged
        server_holder["server"].send(forged)
    mallory.wait_for_timeout(1500)
    with db.session() as s:
        left = [v.id for v in s.exec(select(Variant).where(Variant.generation_id == gen_id)).all()]
        assert left == alice_variants
        assert s.get(Generation, gen_id) is not None


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}])
def test_generate_brings_the_results_into_view_and_says_when_they_are_ready(new_page, smtp, shots, viewport):
    page = new_page()
    sign_up(page, smtp, email=f"inview-{viewport['width']}@example.com")
    page.set_viewport_size(viewport)
    paste_and_generate(page, remove=("Instagram", "Threads"))
    heading = page.locator("#results-heading")
    expect(heading).to_be_focused()
    expect(heading).to_be_in_viewport()
    page.wait_for_timeout(800)  # the scroll is smooth
    page.screenshot(path=str(shots / f"results-in-view-{viewport['width']}.png"))
    expect(page.get_by_role("status").filter(has_text="All 3 posts are ready.")).to_have_count(1, timeout=30_000)


def test_escape_closes_the_editor_and_the_focus_goes_back_to_its_edit_button(page: Page, smtp):
    sign_up(page, smtp, email="escape@example.com")
    paste_and_generate(page, remove=("Instagram", "Threads", "LinkedIn"))
    expect(page.locator("[data-status=done]")).to_have_count(2, timeout=30_000)
    page.get_by_role("button", name="Edit Bluesky post").click()
    editor = page.get_by_role("form", name="Edit Bluesky post")
    box = editor.get_by_role("textbox").first
    expect(box).to_be_focused()
    box.press("End")
    box.press_sequentially(" and a draft nobody keeps")
    page.keyboard.press("Escape")
    expect(editor).to_have_count(0)
    expect(page.get_by_role("button", name="Edit Bluesky post")).to_be_focused()
    expect(page.get_by_role("article", name="Bluesky")).not_to_contain_text("a draft nobody keeps")
    # Save gives the focus back too
    page.get_by_role("button", name="Edit Bluesky post").click()
    expect(editor.get_by_role("textbox").first).to_be_focused()
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_have_count(0)
    expect(page.get_by_role("button", name="Edit Bluesky post")).to_be_focused()
    expect(page.get_by_text("Saved.", exact=True)).to_be_visible()  # with Undo, for a while
    expect(page.get_by_text("Saved.", exact=True)).to_have_count(0, timeout=15_000)
    # a post over the platform's limit is kept, and said to be one the platform would refuse
    page.get_by_role("button", name="Edit Bluesky post").click()
    editor.get_by_role("textbox").first.fill("Four days, same pay, same clients. " * 12)
    editor.get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile(r"^Saved as a draft that Bluesky would not take: "))).to_be_visible()
    expect(page.get_by_text("Saved.", exact=True)).to_have_count(0)


def test_copy_all_and_export_each_format_from_the_composer_and_the_library(page: Page, smtp, tmp_path, shots):
    import csv
    import io
    import zipfile

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_up(page, smtp, email="handover@example.com")
    paste_and_generate(page, remove=("Instagram", "Threads"))
    expect(page.locator("[data-status=done]")).to_have_count(3, timeout=30_000)
    page.get_by_role("button", name="Copy all").click()
    expect(page.get_by_text("All 3 posts copied.")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert all(name in copied for name in ("X", "LinkedIn", "Bluesky")) and "1/" in copied

    def download(label: str) -> bytes:
        page.get_by_role("button", name="Export").click()
        with page.expect_download() as info:
            page.get_by_role("menuitem", name=label).click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        return path.read_bytes()

    page.get_by_role("button", name="Export").click()
    page.screenshot(path=str(shots / "export-menu.png"))
    page.keyboard.press("Escape")
    md = download("Markdown (.md)").decode("utf-8")
    assert md.startswith("# What We Learned") and "## LinkedIn" in md
    rows = list(csv.DictReader(io.StringIO(download("Spreadsheet (.csv)").decode("utf-8-sig"), newline="")))
    assert {r["platform"] for r in rows} == {"x", "linkedin", "bluesky"}
    doc = json.loads(download("JSON (.json)"))
    assert [p["platform"] for p in doc["posts"]] == ["x", "linkedin", "bluesky"]
    with zipfile.ZipFile(io.BytesIO(download("Plain text per platform (.zip)"))) as z:
        assert sorted(z.namelist()) == ["bluesky.txt", "linkedin.txt", "x.txt"]
    # the same from the library
    page.get_by_role("link", name="Open in library").click()
    expect(page).to_have_url(re.compile(r"/library/\d+$"))
    expect(page.get_by_role("heading", name="Original")).to_be_visible()
    expect(page.locator("[data-status=done]")).to_have_count(3)
    expect(page.get_by_role("button", name="Export")).to_be_visible()
    assert json.loads(download("JSON (.json)")) == doc


def test_a_disabled_generate_says_why_and_counts_read_as_sentences(page: Page, smtp):
    sign_up(page, smtp, email="why@example.com")
    page.get_by_label("Your article or script").fill("Hello")
    expect(page.get_by_text("1 word · 1 min read")).to_be_visible()
    page.get_by_role("button", name="None", exact=True).click()
    generate = page.get_by_role("button", name="Generate posts")
    expect(generate).to_be_disabled()
    expect(generate).to_have_accessible_description("Pick at least one platform to generate.")
    page.get_by_role("group", name="Platforms").get_by_role("button", name="X", exact=True).click()
    expect(generate).to_be_enabled()
    expect(page.get_by_text("Pick at least one platform to generate.")).to_have_count(0)


def test_a_failed_email_link_says_so_in_its_heading(page: Page):
    page.goto("/verify?token=not-a-real-token")
    expect(page.get_by_role("heading", level=1)).to_have_text("That link did not work")


def test_an_edited_post_asks_before_regenerating_and_undo_brings_the_edit_back(page: Page, smtp, shots):
    sign_up(page, smtp, email="undo@example.com")
    paste_and_generate(page, remove=("Instagram", "Threads", "LinkedIn", "X"))
    card = page.get_by_role("article", name="Bluesky")
    expect(card).to_have_attribute("data-status", "done", timeout=30_000)
    card.get_by_role("button", name="Edit Bluesky post").click()
    box = page.get_by_role("form", name="Edit Bluesky post").get_by_role("textbox").first
    box.fill("Our studio works four days a week, and we keep it.")
    page.get_by_role("form", name="Edit Bluesky post").get_by_role("button", name="Save").click()
    expect(card.get_by_text("Our studio works four days a week, and we keep it.")).to_be_visible()

    card.get_by_role("button", name="Regenerate Bluesky post").click()
    ask = page.get_by_role("alertdialog")
    expect(ask).to_contain_text("Regenerate your edited Bluesky post?")
    ask.get_by_role("button", name="Keep it").click()
    expect(card.get_by_text("Our studio works four days a week, and we keep it.")).to_be_visible()
    card.get_by_role("button", name="Regenerate Bluesky post").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Regenerate").click()
    expect(card.get_by_text("Our studio works four days a week, and we keep it.")).to_have_count(0, timeout=30_000)
    expect(card).to_have_attribute("data-status", "done", timeout=30_000)

    # the new take says it has landed, and its toast takes it back
    toast = page.locator("[data-sonner-toast]").filter(has_text="New take on the Bluesky post.")
    toast.get_by_role("button", name="Undo").click()
    expect(card.get_by_text("Our studio works four days a week, and we keep it.")).to_be_visible()
    # every take and edit is listed, and any can be restored
    card.get_by_role("button", name="Versions of the Bluesky post").click()
    dialog = page.get_by_role("dialog", name="Versions of the Bluesky post")
    expect(dialog.get_by_text(re.compile(r"^Version \d · "))).to_have_count(4)
    expect(dialog.get_by_text("Version 3 · Regenerated")).to_be_visible()
    page.screenshot(path=str(shots / "versions.png"))
    dialog.get_by_role("button", name="Restore version 1").click()
    expect(dialog).to_have_count(0)
    expect(card.get_by_text("Our studio works four days a week, and we keep it.")).to_have_count(0)
    page.locator("[data-sonner-toast]").filter(has_text="Version 1 restored.").get_by_role("button", name="Undo").click()
    expect(card.get_by_text("Our studio works four days a week, and we keep it.")).to_be_visible()
    # the card's own Undo does the same
    card.get_by_role("button", name="Undo the last change to the Bluesky post").click()
    expect(card.get_by_text("Our studio works four days a week, and we keep it.")).to_have_count(0)


def test_on_a_phone_generate_is_in_reach_without_scrolling_past_the_options(page: Page, smtp, shots):
    sign_up(page, smtp, email="phone@example.com")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/app")
    page.get_by_label("Your article or script").fill(ARTICLE)
    generate = page.get_by_role("button", name="Generate posts")
    expect(generate).to_be_in_viewport()
    page.get_by_label("Your article or script").scroll_into_view_if_needed()
    expect(generate).to_be_in_viewport()
    page.screenshot(path=str(shots / "phone-generate.png"))
    # the options are folded away, said in a line, and open when asked for
    expect(page.get_by_label("Audience (optional)")).to_be_hidden()
    expect(page.get_by_text("Conversational · English · a few emoji · hashtags")).to_be_visible()
    show = page.get_by_role("button", name="Show options")
    expect(show).to_have_attribute("aria-expanded", "false")
    show.click()
    expect(page.get_by_label("Audience (optional)")).to_be_visible()
    expect(page.get_by_role("button", name="Hide options")).to_have_attribute("aria-expanded", "true")
    page.get_by_label("Audience (optional)").fill("founders of small studios")
    generate.click()
    expect(page.locator("#results-heading")).to_be_focused()


def test_on_a_phone_every_main_action_is_a_44_pixel_target(page: Page, smtp, shots):
    sign_up(page, smtp, email="thumbs@example.com")
    page.set_viewport_size({"width": 390, "height": 844})
    paste_and_generate(page, remove=("Instagram", "Threads"))
    expect(page.locator("[data-status=done]")).to_have_count(3, timeout=30_000)
    small = page.evaluate("""() => {
        const main = ['.op-platform-card button', '#results button', '.op-generate button', '.op-topbar button',
                      '[role=group][aria-label=Platforms] button'];
        const out = [];
        for (const b of document.querySelectorAll(main.join(','))) {
            const r = b.getBoundingClientRect();
            if (r.width === 0 && r.height === 0) continue;  // not shown
            if (r.width < 44 || r.height < 44) out.push(`${b.getAttribute('aria-label') || b.textContent.trim()}: ${r.width}x${r.height}`);
        }
        return out;
    }""")
    page.get_by_role("article", name="X", exact=True).get_by_role("button", name="Edit X post").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "phone-card-actions.png"))
    assert small == []
