"""WCAG 2.2 AA in a real browser: axe-core on every page, signed out and signed in, in light
and dark, and what a keyboard-only person meets first (the skip link, the landmarks)."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_up
from tests.e2e.test_compose import paste_and_generate

pytestmark = pytest.mark.browser

AXE = Axe()
PUBLIC = ["/", "/login", "/signup", "/reset", "/privacy", "/contact", "/subprocessors", "/privacy/requests", "/verify?token=not-a-token",
          "/no-such-page"]
SIGNED_IN = ["/app", "/library", "/settings/profile", "/settings/security", "/settings/workspace", "/settings/voices",
             "/settings/privacy"]


def serious(page: Page) -> list[str]:
    """axe-core's critical and serious violations on the page as it is now, one line each."""
    found = AXE.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): " + "; ".join(
            f"{n['target'][0]} {n['html'][:80]} {n.get('failureSummary', '')[:160]}" for n in v["nodes"][:3]
        )
        for v in found
        if v["impact"] in ("critical", "serious")
    ]


def settle(page: Page, path: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    expect(page.locator("h1").first).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_passes_axe_signed_out_and_in(new_page, smtp, scheme):
    page = new_page(color_scheme=scheme)
    problems = {}
    for path in PUBLIC:
        settle(page, path)
        if found := serious(page):
            problems[path] = found
    sign_up(page, smtp, email=f"axe-{scheme}@example.com")
    # every kind of preview: a thread, a feed's fold, a timed script, an inbox
    paste_and_generate(page, add=("TikTok", "Newsletter"), remove=("Threads", "Bluesky"))
    expect(page.locator("[data-status=done]")).to_have_count(5, timeout=30_000)
    gen_path = re.sub(r"^https?://[^/]+", "", page.url)
    for path in [*SIGNED_IN, gen_path]:
        settle(page, path)
        if found := serious(page):
            problems[path] = found
    # a dialog and an open editor, too
    settle(page, gen_path)
    page.get_by_role("button", name="Edit X post").click()
    expect(page.get_by_role("button", name="Save")).to_be_visible()
    if found := serious(page):
        problems[gen_path + " (editing)"] = found
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Versions of the X post").click()
    expect(page.get_by_role("dialog", name="Versions of the X post")).to_be_visible()
    page.wait_for_timeout(300)  # the dialog has faded in
    if found := serious(page):
        problems[gen_path + " (versions)"] = found
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Versions of the X post")).to_be_focused()
    assert problems == {}


def test_a_keyboard_user_skips_to_the_content_and_the_page_has_its_landmarks(new_page, smtp, shots):
    page = new_page()
    sign_up(page, smtp, email="keys@example.com")
    settle(page, "/app")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.screenshot(path=str(shots / "skip-link.png"))
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    # the first stop after the skip is inside the main content, not the sidebar
    assert page.evaluate("() => !!document.activeElement.closest('main')")
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    settle(page, "/no-such-page")
    expect(page.get_by_role("heading", level=1)).to_have_count(1)


def tab_to(page: Page, test: str, *, back: bool = False, most: int = 80) -> None:
    """Press Tab (Shift+Tab with ``back``) until the focused element passes ``test``, a
    JavaScript function of the element."""
    for _ in range(most):
        if page.evaluate(f"(e => ({test})(e))(document.activeElement)"):
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
    raise AssertionError(f"Tab never reached {test}")


def named(name: str) -> str:
    return f"e => e && (e.getAttribute('aria-label') === {name!r} || (e.textContent || '').trim() === {name!r})"


def test_by_keyboard_alone_sign_in_generate_edit_copy_undo_a_regenerate_and_export(new_page, smtp):
    from tests.e2e.helpers import sign_out

    page = new_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_up(page, smtp, email="keyboard@example.com")
    sign_out(page)
    page.goto("/login")
    tab_to(page, "e => e.type === 'email'")
    page.keyboard.type("keyboard@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery staple")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/app.*"))
    expect(page.get_by_role("heading", name="Compose")).to_be_visible()

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    tab_to(page, "e => e.id === 'source-text'")
    page.keyboard.insert_text("Our studio moved to a four-day week in January. Meetings fell from eleven hours a week to four. "
                              "Nobody missed a client deadline, and sick days halved. We are keeping it.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#results-heading")).to_be_focused()
    expect(page.locator("[data-status=done]")).to_have_count(5, timeout=30_000)

    tab_to(page, named("Edit Bluesky post"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("form", name="Edit Bluesky post").get_by_role("textbox").first).to_be_focused()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Typed by keyboard.")
    tab_to(page, named("Save"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Edit Bluesky post")).to_be_focused()
    tab_to(page, named("Copy Bluesky post"), back=True)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Bluesky post copied.")).to_be_visible()
    assert "Typed by keyboard." in page.evaluate("navigator.clipboard.readText()")

    # regenerate the edited post (it asks first), then undo it, by keyboard
    card = page.get_by_role("article", name="Bluesky")
    tab_to(page, named("Regenerate Bluesky post"))
    page.keyboard.press("Enter")
    ask = page.get_by_role("alertdialog")
    expect(ask).to_contain_text("Regenerate your edited Bluesky post?")
    tab_to(page, "e => e && (e.textContent || '').trim() === 'Regenerate' && !!e.closest('[role=alertdialog]')")
    page.keyboard.press("Enter")
    expect(card.get_by_text("Typed by keyboard.")).to_have_count(0, timeout=30_000)
    expect(card).to_have_attribute("data-status", "done", timeout=30_000)
    tab_to(page, named("Undo the last change to the Bluesky post"))
    page.keyboard.press("Enter")
    expect(card.get_by_text("Typed by keyboard.", exact=False)).to_be_visible()

    # and export everything, by keyboard: the menu opens on its first format
    tab_to(page, "e => e && (e.textContent || '').trim() === 'Export'", back=True)
    page.keyboard.press("Enter")
    expect(page.get_by_role("menuitem", name="Markdown (.md)")).to_be_focused()
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    assert info.value.suggested_filename.endswith(".md")


def test_a_new_page_puts_the_focus_on_its_title(new_page, smtp):
    page = new_page()
    sign_up(page, smtp, email="titles@example.com")
    for name, title in (("Library", "Library"), ("Settings", "Settings"), ("Compose", "Compose")):
        page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        expect(page.get_by_role("heading", level=1)).to_be_focused()


def test_the_phone_menu_takes_the_focus_and_gives_it_back(new_page, smtp):
    page = new_page()
    sign_up(page, smtp, email="drawer@example.com")
    page.set_viewport_size({"width": 390, "height": 844})
    opener = page.get_by_role("button", name="Open menu")
    opener.click()
    menu = page.get_by_role("dialog", name="Menu")
    expect(menu).to_be_visible()
    page.wait_for_function("() => !!document.activeElement.closest('[role=dialog]')", timeout=5_000)
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(opener).to_be_focused()
