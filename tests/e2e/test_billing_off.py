"""Without Stripe keys (the embedded default) billing is off: the billing page says so and
shows the Free plan's limits with no upgrade button, and the pricing page is public."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_up
from tests.e2e.test_accessibility import serious


def test_without_stripe_billing_is_off_and_the_limits_are_shown(page: Page, smtp, shots):
    sign_up(page, smtp, email="free@example.com")
    page.goto("/billing")
    expect(page.get_by_text("Billing is not set up on this server")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Upgrade"))).to_have_count(0)
    expect(page.get_by_role("region", name="Plans")).to_contain_text("500 generations a month")
    page.goto("/pricing")
    expect(page.get_by_role("heading", name="Pricing", level=1)).to_be_visible()
    expect(page.get_by_text("$19", exact=True)).to_be_visible()
    page.screenshot(path=str(shots / "pricing.png"), full_page=True)
    assert serious(page) == []
