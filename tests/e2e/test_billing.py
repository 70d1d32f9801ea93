"""Billing as a customer lives it, against the loopback Stripe: a Free workspace upgrades
through Checkout and sees Pro once Stripe's webhook says so; its owner opens the customer
portal and cancels; a failed renewal shows the past-due banner."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import delete_account, sign_in_fails, sign_up
from tests.e2e.test_accessibility import serious


def pay_for_pro(page: Page, fake_stripe) -> None:
    """From the billing page: upgrade to Pro through Checkout, pay with the test card, and
    wait until the webhook has granted the plan."""
    page.get_by_role("button", name="Upgrade to Pro monthly").click()
    page.wait_for_url(re.compile(re.escape(fake_stripe.base_url) + r"/c/pay/"))
    expect(page.get_by_label("Card number")).to_have_value(re.compile(r"4242"))
    page.get_by_role("button", name=re.compile(r"^Pay")).click()
    page.wait_for_url(re.compile(r"/billing/?\?checkout=done"))
    # granted by the webhook, not by the return
    expect(page.get_by_role("region", name="Your plan")).to_contain_text("Pro", timeout=20_000)


@pytest.mark.promise("BIL-1")
def test_a_free_workspace_upgrades_cancels_and_sees_a_failed_payment(page: Page, smtp, stripe_app, fake_stripe, shots):
    sign_up(page, smtp, email="payer@example.com", name="Pat Payer", team="Payer Press")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing").click()
    expect(page.get_by_role("heading", name="Billing", level=1)).to_be_visible()
    plan = page.get_by_role("region", name="Your plan")
    expect(plan).to_contain_text("Free")
    expect(page.get_by_role("region", name="Usage this period")).to_contain_text("0 of 30 generations")

    pay_for_pro(page, fake_stripe)
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


@pytest.mark.promise("RET-5", "RGT-3")
def test_a_paying_owner_deletes_the_account_and_only_the_stripped_invoice_stays(page: Page, smtp, stripe_app, fake_stripe):
    from sqlmodel import select

    from omnipostr import db
    from omnipostr.billing.models import BillingAccount, Invoice

    sign_up(page, smtp, email="leaving-payer@example.com", name="Lou Leaving", team="Leaving Press")
    page.goto("/billing")
    pay_for_pro(page, fake_stripe)
    expect(page.get_by_role("region", name="Invoices").get_by_role("link", name="View invoice")).to_have_count(1, timeout=20_000)
    with db.session() as s:
        invoice = s.exec(select(Invoice).order_by(Invoice.id.desc())).first()
        account = s.get(BillingAccount, invoice.billing_account_id)
        workspace_id, customer = invoice.workspace_id, account.stripe_customer_id
    assert workspace_id is not None and customer

    page.goto("/settings/privacy")
    expect(page.get_by_role("region", name="Delete your account")).to_contain_text(
        "Invoices of your paid plans, kept for the tax period")
    delete_account(page, email="leaving-payer@example.com")
    sign_in_fails(page, email="leaving-payer@example.com")
    with db.session() as s:
        kept = s.get(Invoice, invoice.id)
        assert kept is not None  # the billing record stays for the tax period ...
        assert kept.workspace_id is None  # ... linked to no workspace and no person
        assert (kept.number, kept.amount_paid) == (invoice.number, invoice.amount_paid)
        stripped = s.get(BillingAccount, invoice.billing_account_id)
        assert stripped.workspace_id is None
        assert stripped.stripe_customer_id == customer  # until Stripe confirms the customer is deleted
        assert (stripped.billing_address, stripped.card_brand, stripped.card_last4) == ("", "", "")
