"""API keys as an owner lives them: make a key in Settings → API keys, see it once, call the
API with it from another program, revoke it, and see the next call refused."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_up
from tests.e2e.test_accessibility import serious


def set_plan(email: str, plan: str) -> None:
    from sqlmodel import select

    from omnipostr import db
    from omnipostr.accounts.models import User, Workspace
    from omnipostr.crypto import email_index

    with db.session() as s:
        uid = s.exec(select(User.id).where(User.email_index == email_index(email))).one()
        ws = s.exec(select(Workspace).where(Workspace.owner_id == uid)).one()
        ws.plan = plan
        s.add(ws)
        s.commit()


@pytest.mark.promise("API-1")
def test_an_owner_makes_a_key_uses_it_and_revokes_it(page: Page, smtp, live_app, shots):
    sign_up(page, smtp, email="dev@example.com", name="Dee Dev", team="Dev Shop")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="The REST API", level=2)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="The API is not part of the Free plan")).to_be_visible()
    expect(page.get_by_role("button", name="Create key")).to_have_count(0)
    expect(page.get_by_text("No API key yet")).to_have_count(0)  # nothing offered that cannot be done
    page.get_by_role("link", name="See the plans").click()
    expect(page.get_by_text("REST API, 60 requests a minute")).to_be_visible()  # Pro's card
    expect(page.get_by_text("No API access")).to_be_visible()  # Free's

    set_plan("dev@example.com", "pro")
    page.goto("/settings/api")
    expect(page.get_by_text("On the Pro plan, each key may make 60 requests a minute.")).to_be_visible()
    form = page.get_by_role("form", name="New API key")
    form.get_by_role("button", name="Create key").click()
    expect(form.get_by_role("alert")).to_contain_text("Give the key a name")
    form.get_by_label("Name").fill("Our CMS")
    form.get_by_role("button", name="Create key").click()
    shown = page.get_by_label("The new key")
    expect(shown).to_have_value(__import__("re").compile(r"^op_[0-9a-f]{8}_"))
    key = shown.input_value()
    row = page.get_by_role("article", name="Our CMS")
    expect(row).to_contain_text("_".join(key.split("_", 2)[:2]) + "_…")  # op_<8 hex>: the secret may hold "_"
    expect(row).to_contain_text("last used never")
    page.screenshot(path=str(shots / "api-keys.png"), full_page=True)
    assert serious(page) == []

    with httpx.Client(base_url=live_app.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as api:
        r = api.post("/api/v1/generations", json={"text": "Small teams should publish more often. Each article "
                                                          "can become six posts, and readers meet the ideas where "
                                                          "they already are.", "platforms": ["x", "bluesky"]})
        assert r.status_code == 202, r.text
        url = r.json()["url"]
        deadline = time.monotonic() + 30
        while (gen := api.get(url).json())["generation"]["status"] != "done" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert {p["platform"] for p in gen["posts"]} == {"x", "bluesky"}

    page.get_by_role("button", name="I have copied it").click()
    expect(page.get_by_label("The new key")).to_have_count(0)
    page.reload()
    expect(row).not_to_contain_text("last used never")
    expect(page.get_by_text(key)).to_have_count(0)  # shown once: never again
    # the generation the CMS started is in the library too
    page.goto("/library")
    expect(page.get_by_role("table")).to_contain_text("Small teams should publish more often")

    page.goto("/settings/api")
    row.get_by_role("button", name="Revoke Our CMS").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("article", name="Our CMS")).to_have_count(0)
    r = httpx.get(live_app.url + "/api/v1/generations", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 401 and r.json()["type"] == "urn:omnipostr:problem:invalid-key"
