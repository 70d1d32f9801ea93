"""Nothing secret where the app keeps its pages' state: after a person's session of use
(sign up, generate from an article, edit a post, the library and settings), no file the app
wrote holds their session token or a word of what they wrote (the database only as
ciphertext). ``test_storage_redis.py`` proves the same of Redis, for several processes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from omnipostr.settings import PROJECT_ROOT, get_settings
from tests.e2e.helpers import sign_up

pytestmark = pytest.mark.browser

MARK = "Brindlewort"
ARTICLE = (
    f"{MARK} Farms moved to a four-day week last spring. The {MARK} team kept the same pay and the same clients.\n\n"
    "Six months later, output was flat and sick days fell by a third. People said they came back on Monday "
    "rested, and the team stopped answering email on Friday. The owners now say they will never go back.\n\n"
    "The change took planning: meetings moved to Tuesday and Wednesday, and every client got a named contact."
)
SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".ruff_cache"}


def _session_of_use(page: Page, smtp, email: str) -> str:
    """What a person does in a few minutes; returns their session cookie's value."""
    sign_up(page, smtp, email=email, name=f"Rosa {MARK}", team=f"{MARK} Farms")
    page.get_by_label("Your article or script").fill(ARTICLE)
    page.get_by_role("button", name="Generate posts").click()
    expect(page.locator("[data-status=done]")).to_have_count(5, timeout=30_000)
    card = page.get_by_role("article", name="Bluesky")
    card.get_by_role("button", name="Edit Bluesky post").click()
    card.get_by_role("textbox", name="Post", exact=True).fill(f"{MARK} kept the pay and cut the week.")  # one post: it fits
    card.get_by_role("button", name="Save").click()
    expect(card.get_by_text("Edited")).to_be_visible()
    for path in ("/library", "/settings/profile", "/settings/workspace", "/app"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"].endswith("omnipostr_session"))
    return cookie["value"]


def _files_written_since(started: float, roots: list[Path]) -> list[Path]:
    out = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
            for name in filenames:
                path = Path(dirpath) / name
                try:
                    if path.stat().st_mtime >= started and path.stat().st_size < 300 * 1024 * 1024:
                        out.append(path)
                except OSError:
                    continue
    return out


def _needles(token: str) -> list[bytes]:
    return [token.encode(), MARK.encode(), MARK.lower().encode(), b"four-day week last spring"]


def test_no_file_the_app_wrote_holds_a_session_token_or_content(page: Page, smtp, live_app):
    token = _session_of_use(page, smtp, "rosa@example.com")
    roots = [PROJECT_ROOT, Path(get_settings().data_dir), Path(get_settings().keys_dir), live_app.log_path.parent]
    files = _files_written_since(live_app.started_at, roots)
    assert any(p.suffix == ".db" or p.name.endswith(".db-wal") for p in files)  # the database was written
    hits = []
    for path in files:
        data = path.read_bytes()
        hits += [f"{path}: {n.decode()[:12]}…" for n in _needles(token) if n in data]
    assert hits == []
    states = Path(live_app.env["REFLEX_STATES_WORKDIR"])
    assert not states.exists() or not any(states.rglob("*")), "the pages' state went to disk"
