"""Billing as a customer lives it, against the loopback Stripe: a Free workspace upgrades
through Checkout and sees Pro once Stripe's webhook says so; its owner opens the customer
portal and cancels; a failed renewal shows the past-due banner."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_up
from tests.e2e.test_accessibility import serious


@pytest.mark.promise("BIL-1")
def test_a_free_workspace_upgrades_cancels_and_sees_a_failed_payment(page: Page, smtp, stripe_app, fake_stripe, shots):
    sign_up(page, smtp, email="payer@example.com", name="Pat Payer", team="Payer Press")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing").click()
    expect(page.get_by_role("heading", name="Billing", level=1)).to_be_visible()
    plan = page.get_by_role("region", name="Your plan")
    expect(plan).to_contain_text("Free")
    expect(page.get_by_role("region", name="Usage this period")).to_contain_text("0 of 30 generations")

    page.get_by_role("button", name="Upgrade to Pro monthly").click()
    page.wait_for_url(re.compile(re.escape(fake_stripe.base_url) + r"/c/pay/"))
    expect(page.get_by_label("Card number")).to_have_value(re.compile(r"4242"))
    page.get_by_role("button", name=re.compile(r"^Pay")).click()

    page.wait_for_url(re.compile(r"/billing/?\?checkout=done"))
    expect(plan).to_contain_text("Pro", timeout=20_000)  # granted by the webhook, not by the return
    expect(page.get_by_role("status").filter(has_text="the workspace is on the Pro plan")).to_be_visible()
    expect(plan).to_contain_text(re.compile(r"Renews on \d{1,2} \w{3} \d{4}"))
    expect(page.get_by_role("region", name="Payment method")).to_contain_text("Visa ending in 4242")
    invoices = page.get_by_role("region", name="Invoices")
    expect(invoices).to_contain_text("$19")
    expect(invoices.get_by_role("link", name="View invoice")).to_have_count(1)
    page.screenshot(path=str(shots / "billing-pro.png"), full_page=True)
    assert serious(page) == []
    receipt = smtp.wait_for(lambda m: "payer@example.com" in str(m["To"]) and "Receipt" in str(m["Subject"]))
    assert "$19.00" in str(receipt["Subject"])

    page.get_by_role("button", name="Manage plan and payment").click()
    page.wait_for_url(re.compile(re.escape(fake_stripe.base_url) + r"/p/session/"))
    page.get_by_role("button", name="Cancel plan").click()
    page.get_by_role("link", name="Return to OmniPostr").click()
    page.wait_for_url(re.compile(r"/billing"))
    expect(plan).to_contain_text("Canceled: the plan ends on", timeout=20_000)
    expect(plan).to_contain_text("Pro")  # until the period's end

    sub = [e for e in fake_stripe.events if e["type"] == "customer.subscription.created"][-1]["data"]["object"]["id"]
    page.get_by_role("button", name="Manage plan and payment").click()
    page.get_by_role("button", name="Renew plan").click()
    page.get_by_role("link", name="Return to OmniPostr").click()
    expect(plan).to_contain_text("Renews on", timeout=20_000)
    fake_stripe.advance(sub, succeed=False)
    fake_stripe.flush()
    page.reload()
    banner = page.get_by_role("alert").filter(has_text="The last payment failed")
    expect(banner).to_be_visible()
    expect(banner.get_by_role("link", name="Pay the invoice")).to_be_visible()
    expect(plan).to_contain_text("Payment past due")
    page.screenshot(path=str(shots / "billing-past-due.png"), full_page=True)
