"""Billing records outlive the account (RET-5) and the Stripe customer does not (RGT-3): when
a paying account is deleted, its Stripe customer is deleted (again and again while Stripe is
down), and its invoices stay for the tax period, pointing at no one, then go."""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe as sdk
from sqlmodel import select

from omnipostr import clock, db
from omnipostr.billing import service
from omnipostr.billing.models import BillingAccount, Invoice
from omnipostr.privacy import erasure
from tests.accounts.helpers import PASSWORD, actor_for, sign_up
from tests.billing.test_webhooks import billing, upgrade


def delete_account(user_id: int) -> None:
    db.in_session(erasure.request_deletion, user_id, password=PASSWORD)
    assert db.in_session(erasure.erase_account, user_id)


def customer(fake, customer_id: str) -> dict:
    client = sdk.StripeClient(fake.api_key, base_addresses={"api": fake.base_url})
    return client.v1.customers.retrieve(customer_id).to_dict()


@pytest.mark.promise("RET-5", "RGT-3")
def test_deleting_a_paying_account_deletes_the_stripe_customer_and_keeps_the_invoices(stripe):
    ada = sign_up(email="ada@example.com")
    actor = actor_for(ada.id)
    upgrade(stripe, actor)
    cus = billing(actor).stripe_customer_id
    assert billing(actor).billing_address and billing(actor).card_last4
    delete_account(ada.id)
    with db.session() as s:  # at once, not when the customer job runs
        acct = s.exec(select(BillingAccount)).one()
        assert (acct.workspace_id, acct.billing_address, acct.card_brand, acct.card_last4) == (None, "", "", "")

    stripe.down(True)
    try:
        assert db.in_session(service.delete_customers) == {"deleted": 0, "waiting": 1}  # tried again later
    finally:
        stripe.up()
    with db.session() as s:
        acct = s.exec(select(BillingAccount)).one()
        assert acct.workspace_id is None and acct.billing_address == "" and acct.card_last4 == ""
    assert db.in_session(service.delete_customers) == {"deleted": 1, "waiting": 0}
    assert customer(stripe, cus).get("deleted") is True
    assert db.in_session(service.delete_customers) == {"deleted": 0, "waiting": 0}

    with db.session() as s:
        inv = s.exec(select(Invoice)).one()
    assert inv.workspace_id is None and inv.amount_paid == 1900 and inv.number  # the record, with no one's name
    row = " ".join(str(v) for v in inv.model_dump().values())
    assert "ada" not in row.lower() and "Analytical" not in row


def test_invoices_go_after_the_tax_period_and_the_account_with_the_last(stripe):
    ada = sign_up(email="ada@example.com")
    actor = actor_for(ada.id)
    upgrade(stripe, actor)
    delete_account(ada.id)
    db.in_session(service.delete_customers)
    assert db.in_session(service.purge_records) == 0
    clock.advance(timedelta(days=365 * 7 - 2))
    assert db.in_session(service.purge_records) == 0
    clock.advance(timedelta(days=5))
    assert db.in_session(service.purge_records) == 2  # the invoice, then the account it belonged to
    with db.session() as s:
        assert s.exec(select(Invoice)).all() == [] and s.exec(select(BillingAccount)).all() == []


def test_a_live_workspaces_invoices_are_not_touched_by_the_customer_job(stripe):
    ada = sign_up(email="ada@example.com")
    actor = actor_for(ada.id)
    upgrade(stripe, actor)
    assert db.in_session(service.delete_customers) == {"deleted": 0, "waiting": 0}
    assert customer(stripe, billing(actor).stripe_customer_id).get("deleted") is not True


@pytest.mark.promise("RET-4")
def test_a_paying_account_is_never_deleted_for_inactivity_and_its_clock_starts_when_it_stops_paying(stripe):
    from omnipostr.accounts.models import User
    from omnipostr.retention import service as retention

    ada = sign_up(email="ada@example.com")
    actor = actor_for(ada.id)
    upgrade(stripe, actor)
    with db.session() as s:  # nobody has signed in for two years; the API or the team could be using it
        user = s.get(User, ada.id)
        user.created_at = user.last_login_at = user.last_active_at = clock.now() - timedelta(days=800)
        s.add(user)
    with db.session() as s:
        assert retention.warn_inactive_accounts(s).count == 0
    sub = billing(actor).subscription_id
    stripe.cancel_now(sub)
    stripe.flush()
    with db.session() as s:
        ended = service.account(s, actor.workspace_id).ended_at
        assert ended is not None
        assert s.get(User, ada.id).last_active_at == ended  # the free account's clock starts here
        assert retention.warn_inactive_accounts(s).count == 0
