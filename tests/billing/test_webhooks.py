"""Stripe's webhooks as Stripe sends them (signed, at least once, in any order) turned into
each workspace's plan: a bad or stale signature changes nothing, a replay has no second
effect, the state always ends as Stripe holds it, and no event reaches another workspace."""

from __future__ import annotations

import dataclasses
import json
import re

import httpx
import pytest
from sqlmodel import select

from omnipostr import db
from omnipostr.accounts.models import Workspace
from omnipostr.billing import service
from omnipostr.billing.models import BillingAccount, Invoice, StripeEvent
from tests.accounts.helpers import actor_for, mails, sign_up


def owner(email: str = "ada@example.com", team: str = "Analytical Engines"):
    user = sign_up(email=email, team=team)
    return actor_for(user.id)


def pay(url: str, card: str = "4242 4242 4242 4242") -> httpx.Response:
    """What a person does on Stripe's Checkout page: the card is filled in, then Pay."""
    page = httpx.get(url)
    assert page.status_code == 200 and "Pay" in page.text
    return httpx.post(url, data={"email": "ada@example.com", "cardNumber": card, "cardExpiry": "12 / 34",
                                 "cardCvc": "123", "billingName": "Ada Lovelace"})


def upgrade(fake, actor, plan: str = "pro", interval: str = "month") -> str:
    url = db.in_session(service.start_checkout, actor, plan, interval)
    assert url.startswith(fake.base_url)
    pay(url)
    fake.flush()
    return url


def plan_of(actor) -> str:
    with db.session() as s:
        return s.get(Workspace, actor.workspace_id).plan


def billing(actor) -> BillingAccount:
    with db.session() as s:
        return service.account(s, actor.workspace_id)


def applied_events() -> list[StripeEvent]:
    with db.session() as s:
        return list(s.exec(select(StripeEvent)).all())


def test_an_upgrade_through_checkout_is_granted_by_the_webhook(stripe):
    ada = owner()
    url = db.in_session(service.start_checkout, ada, "pro", "month")
    assert plan_of(ada) == "free"  # opening Checkout grants nothing
    stripe.configure(webhook_auto=False)
    assert pay(url).status_code in (200, 303)
    assert plan_of(ada) == "free"  # neither does paying, until Stripe's event arrives
    stripe.flush()
    assert plan_of(ada) == "pro"
    acct = billing(ada)
    assert acct.status == "active" and acct.interval == "month" and acct.current_period_end > acct.current_period_start
    assert acct.card_brand == "visa" and acct.card_last4 == "4242"
    assert {d.type for d in stripe.deliveries if d.ok} >= {"checkout.session.completed", "invoice.paid"}
    with db.session() as s:
        inv = s.exec(select(Invoice)).one()
    assert inv.status == "paid" and inv.amount_paid == 1900 and inv.hosted_invoice_url.startswith(stripe.base_url)
    kinds = [m.kind for m in mails("ada@example.com")]
    assert kinds.count("billing_receipt") == 1 and kinds.count("billing_plan_changed") == 1


def test_checkout_sells_only_the_prices_of_the_plans_file(stripe):
    ada = owner()
    for plan, interval in (("free", "month"), ("pro", "week"), ("enterprise", "month")):
        with pytest.raises(service.BillingError, match="cannot be bought"):
            db.in_session(service.start_checkout, ada, plan, interval)
    db.in_session(service.start_checkout, ada, "business", "year")
    sessions = [r for r in stripe.requests if r.path == "/v1/checkout/sessions"]
    assert sessions[-1].params["line_items"][0]["price"] == "price_business_yearly"
    assert sessions[-1].params["client_reference_id"] == str(ada.workspace_id)


def test_the_customer_is_created_once_per_workspace(stripe):
    ada = owner()
    db.in_session(service.start_checkout, ada, "pro", "month")
    db.in_session(service.start_checkout, ada, "pro", "year")
    customers = [r for r in stripe.requests if r.method == "POST" and r.path == "/v1/customers"]
    assert len(customers) == 1
    assert billing(ada).stripe_customer_id.startswith("cus_")


def test_a_member_who_is_not_owner_or_admin_cannot_buy_or_open_the_portal(stripe):
    ada = owner()
    member = dataclasses.replace(ada, role="member")
    with pytest.raises(service.BillingError, match="owner or an admin"):
        db.in_session(service.start_checkout, member, "pro", "month")
    with pytest.raises(service.BillingError, match="owner or an admin"):
        db.in_session(service.open_portal, member)


@pytest.mark.promise("BIL-1")
def test_no_billing_column_can_hold_a_card_number_and_none_reaches_us(stripe):
    """Card numbers are typed on Stripe's page only: no billing column is wide enough for
    one, and after a payment the database holds the brand and the last four digits only."""
    from sqlmodel import SQLModel

    import omnipostr.tables  # noqa: F401

    ada = owner()
    upgrade(stripe, ada)
    for t in SQLModel.metadata.sorted_tables:
        for c in t.columns:
            if "card" in c.name or "pan" == c.name:
                assert getattr(c.type, "length", None) is not None and c.type.length <= 32, (t.name, c.name)
    with db.engine().connect() as conn:
        for t in SQLModel.metadata.sorted_tables:
            for row in conn.execute(t.select()).all():
                assert "4242424242424242" not in " ".join(str(v) for v in row), t.name
    assert billing(ada).card_last4 == "4242"


def test_a_bad_signature_is_refused_and_changes_nothing(stripe):
    ada = owner()
    upgrade(stripe, ada)
    sub = billing(ada).subscription_id
    stripe.configure(webhook_auto=False)
    stripe.cancel_now(sub)
    deleted = [e for e in stripe.events if e["type"] == "customer.subscription.deleted"][-1]
    out = stripe.deliver([deleted["id"]], secret="whsec_someone_else")
    assert [d.status for d in out] == [400]
    assert plan_of(ada) == "pro"
    assert deleted["id"] not in {e.id for e in applied_events()}


def test_a_webhook_signed_past_the_tolerance_is_refused(stripe):
    ada = owner()
    upgrade(stripe, ada)
    stripe.configure(webhook_auto=False)
    stripe.cancel_now(billing(ada).subscription_id)
    deleted = [e for e in stripe.events if e["type"] == "customer.subscription.deleted"][-1]
    assert [d.status for d in stripe.deliver_stale(deleted["id"], age_seconds=301)] == [400]
    assert plan_of(ada) == "pro"
    assert [d.status for d in stripe.redeliver(deleted["id"])] == [200]  # a fresh signature is taken
    assert plan_of(ada) == "free"


def test_an_unsigned_or_forged_body_is_refused(stripe, app_url):
    ada = owner()
    upgrade(stripe, ada)
    forged = {"id": "evt_forged", "type": "customer.subscription.deleted", "created": 1,
              "data": {"object": {"customer": billing(ada).stripe_customer_id}}}
    r = httpx.post(app_url + "/billing/webhook", content=json.dumps(forged))
    assert r.status_code == 400
    r = httpx.post(app_url + "/billing/webhook", content=json.dumps(forged),
                   headers={"Stripe-Signature": "t=1,v1=" + "0" * 64})
    assert r.status_code == 400
    assert plan_of(ada) == "pro"


def test_a_replayed_event_has_one_effect(stripe):
    ada = owner()
    upgrade(stripe, ada)
    paid = [e for e in stripe.events if e["type"] == "invoice.paid"][-1]
    before = len(mails("ada@example.com", "billing_receipt"))
    for _ in range(3):
        assert [d.status for d in stripe.redeliver(paid["id"])] == [200]
    assert len(mails("ada@example.com", "billing_receipt")) == before == 1
    assert [e.id for e in applied_events()].count(paid["id"]) == 1


def test_deleted_before_updated_ends_canceled(stripe):
    """Stripe does not promise order: the subscription is deleted, and an older "updated"
    (still active) arrives after. Each event re-fetches the subscription, so the end is true."""
    ada = owner()
    upgrade(stripe, ada)
    sub = billing(ada).subscription_id
    stripe.configure(webhook_auto=False)
    import stripe as sdk

    client = sdk.StripeClient(stripe.api_key, base_addresses={"api": stripe.base_url})
    client.v1.subscriptions.update(sub, params={"cancel_at_period_end": True})
    stripe.cancel_now(sub)
    held = [e for e in stripe.events if e["type"] in ("customer.subscription.updated", "customer.subscription.deleted")]
    held = [e for e in held if e["id"] in stripe.held]
    assert [e["type"] for e in held][-2:] == ["customer.subscription.updated", "customer.subscription.deleted"]
    stripe.deliver([e["id"] for e in held], order="reverse")
    assert plan_of(ada) == "free"
    acct = billing(ada)
    assert acct.status == "canceled" and acct.ended_at is not None


def test_a_webhook_for_another_workspaces_customer_cannot_change_ours(stripe):
    ada, grace = owner(), owner("grace@example.com", "Grace's Compilers")
    upgrade(stripe, ada)
    upgrade(stripe, grace)
    assert plan_of(ada) == plan_of(grace) == "pro"
    stripe.cancel_now(billing(grace).subscription_id)
    stripe.flush()
    assert plan_of(grace) == "free" and plan_of(ada) == "pro"
    # a Checkout completed by Grace's customer that names Ada's workspace changes nothing of Ada's
    done = [e for e in stripe.events if e["type"] == "checkout.session.completed"
            and e["data"]["object"]["customer"] == billing(grace).stripe_customer_id][-1]
    forged = json.loads(json.dumps(done))
    forged["id"] = "evt_forged_reference"
    forged["data"]["object"]["client_reference_id"] = str(ada.workspace_id)
    with db.session() as s:
        assert service.handle_event(s, forged) == "mismatch"
    assert plan_of(ada) == "pro" and billing(ada).status == "active"


def test_an_event_for_a_customer_that_is_not_ours_is_acknowledged_and_ignored(stripe):
    with db.session() as s:
        outcome = service.handle_event(s, {"id": "evt_x", "type": "customer.subscription.updated", "created": 1,
                                           "data": {"object": {"id": "sub_x", "customer": "cus_nobody"}}})
    assert outcome == "unknown"


def test_a_failed_renewal_shows_past_due_then_paying_clears_it(stripe):
    ada = owner()
    upgrade(stripe, ada)
    sub = billing(ada).subscription_id
    stripe.advance(sub, succeed=False)
    stripe.flush()
    acct = billing(ada)
    assert acct.status == "past_due" and acct.attention == "payment_failed" and acct.attention_url
    assert plan_of(ada) == "pro"  # kept while Stripe retries the card
    assert len(mails("ada@example.com", "billing_payment_problem")) == 1
    with db.session() as s:
        open_invoice = s.exec(select(Invoice).where(Invoice.status == "open")).one()
    stripe.pay_invoice(open_invoice.stripe_invoice_id)
    stripe.flush()
    acct = billing(ada)
    assert acct.status == "active" and acct.attention == ""


def test_action_required_and_trial_ending_are_mailed_once(stripe):
    ada = owner()
    upgrade(stripe, ada)
    sub = billing(ada).subscription_id
    stripe.advance(sub, succeed=False, action_required=True)
    stripe.flush()
    assert billing(ada).attention == "action_required"
    problem = mails("ada@example.com", "billing_payment_problem")
    assert len(problem) == 1 and "confirm" in problem[0].subject.lower()


def test_stripe_down_while_a_webhook_is_handled_means_stripe_delivers_again(stripe):
    ada = owner()
    upgrade(stripe, ada)
    stripe.configure(webhook_auto=False)
    stripe.cancel_now(billing(ada).subscription_id)
    deleted = [e for e in stripe.events if e["type"] == "customer.subscription.deleted"][-1]
    stripe.down(True)
    try:
        first = stripe.deliver([deleted["id"]])
        assert first and first[0].status == 503  # not acknowledged: Stripe delivers it again
        with db.session() as s:
            assert s.get(StripeEvent, deleted["id"]) is None  # rolled back with its effect
        assert plan_of(ada) == "pro"
    finally:
        stripe.up()
    assert [d.status for d in stripe.redeliver(deleted["id"])] == [200]  # Stripe's next attempt
    assert plan_of(ada) == "free"
    assert [e.id for e in applied_events()].count(deleted["id"]) == 1


def test_the_nightly_reconciliation_acts_on_events_the_webhook_missed(stripe):
    ada = owner()
    stripe.configure(webhook_auto=False)
    url = db.in_session(service.start_checkout, ada, "pro", "month")
    pay(url)
    assert plan_of(ada) == "free"  # the webhooks never came
    with db.session() as s:
        counts = service.reconcile(s)
    assert counts.get("applied", 0) >= 1
    assert plan_of(ada) == "pro"
    with db.session() as s:
        assert service.reconcile(s) == {}  # nothing left to do, and nothing done twice
    assert {e.source for e in applied_events()} == {"reconcile"}


def test_upgrading_while_stripe_is_down_says_so_and_changes_nothing(stripe):
    ada = owner()
    stripe.down(True)
    try:
        with pytest.raises(service.BillingError, match="not answering"):
            db.in_session(service.start_checkout, ada, "pro", "month")
    finally:
        stripe.up()
    acct = billing(ada)
    assert acct is None or acct.stripe_customer_id is None
    assert plan_of(ada) == "free"


def test_the_portal_opens_for_the_workspaces_own_customer(stripe):
    ada = owner()
    with pytest.raises(service.BillingError, match="choose a plan first"):
        db.in_session(service.open_portal, ada)
    upgrade(stripe, ada)
    url = db.in_session(service.open_portal, ada)
    assert url.startswith(stripe.base_url)
    portal = [r for r in stripe.requests if r.path == "/v1/billing_portal/sessions"][-1]
    assert portal.params["customer"] == billing(ada).stripe_customer_id
    # the portal cancels at the period's end: the plan stays until then
    page = httpx.get(url)
    assert "Cancel" in page.text


def test_a_replayed_webhook_does_not_reset_usage_and_the_quota_follows_the_plan(stripe):
    from omnipostr.billing import quota

    ada = owner()
    with db.session() as s:
        for _ in range(3):
            quota.consume(s, ada.workspace_id)
    upgrade(stripe, ada)
    use = db.in_session(quota.usage, ada.workspace_id)
    acct = billing(ada)
    assert use.limit == 500 and use.period_start == acct.current_period_start  # the subscription's period now
    with db.session() as s:
        for _ in range(2):
            quota.consume(s, ada.workspace_id)
    stripe.deliver([e["id"] for e in stripe.events], order="shuffle", seed=7)  # every event again, in any order
    assert db.in_session(quota.usage, ada.workspace_id).used == 2
    assert plan_of(ada) == "pro"


def test_a_trial_is_offered_once_and_its_end_is_announced(stripe, tmp_path, monkeypatch):
    from omnipostr.billing import plans

    custom = tmp_path / "plans.toml"
    custom.write_text(_with_trial(plans.DEFAULT_FILE.read_text()))
    monkeypatch.setenv("OMNIPOSTR_BILLING_PLANS_FILE", str(custom))
    from omnipostr.settings import reset_settings

    reset_settings()
    plans.reset()
    ada = owner()
    upgrade(stripe, ada)
    acct = billing(ada)
    assert acct.status == "trialing" and acct.trial_end is not None and acct.had_trial and plan_of(ada) == "pro"
    stripe.trial_will_end(acct.subscription_id)
    stripe.flush()
    ending = mails("ada@example.com", "billing_trial_ending")
    assert len(ending) == 1 and "trial ends on" in ending[0].subject
    stripe.cancel_now(acct.subscription_id)
    stripe.flush()
    db.in_session(service.start_checkout, ada, "pro", "month")  # a second subscription: no second trial
    sessions = [r for r in stripe.requests if r.path == "/v1/checkout/sessions"]
    assert sessions[0].params["subscription_data"].get("trial_period_days") in (14, "14")
    assert "trial_period_days" not in sessions[-1].params["subscription_data"]


def _with_trial(text: str) -> str:
    """The shipped plans with a 14-day trial on Pro."""
    head, pro = text.split("[plans.pro]", 1)
    pro, rest = pro.split("[plans.business]", 1)
    return head + "[plans.pro]" + pro.replace("trial_days = 0", "trial_days = 14") + "[plans.business]" + rest


def test_a_plan_change_in_the_portal_takes_effect_as_stripe_says(stripe):
    from omnipostr.billing import quota

    ada = owner()
    upgrade(stripe, ada)
    portal = db.in_session(service.open_portal, ada)
    page = httpx.get(portal)
    form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>((?:(?!</form>).)*Switch to Business monthly(?:(?!</form>).)*)</form>',
                     page.text, re.S)
    assert form, page.text
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
    httpx.post(httpx.URL(portal).join(form.group(1)), data=fields)
    stripe.flush()
    assert plan_of(ada) == "business"
    assert db.in_session(quota.usage, ada.workspace_id).limit == 5000
    changed = [m.subject for m in mails("ada@example.com", "billing_plan_changed")]
    assert changed[-1].endswith("Business plan")
