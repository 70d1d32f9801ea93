"""The loopback Stripe server speaks Stripe's protocol to the real ``stripe`` SDK: form-encoded
requests, objects, lists, errors, idempotency, hosted Checkout and the portal as HTML forms,
and webhooks that the SDK's own signature check accepts."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
import stripe
from pypdf import PdfReader
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fakes.loopback import LoopbackServer
from fakes.stripe_server import DEFAULT_API_KEY, FakeStripe, parse_form

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_loopback_test_secret"
SUCCESS = "http://localhost:3000/billing/done?session={CHECKOUT_SESSION_ID}"
CANCEL = "http://localhost:3000/pricing"


class Receiver(LoopbackServer):
    """The app's webhook endpoint: keeps what arrives, answers the statuses it is told to."""

    thread_name = "webhook-receiver"

    def __init__(self) -> None:
        self.host, self.port = "127.0.0.1", 0
        self.received: list[tuple[bytes, str]] = []
        self.answers: list[int] = []
        self._lock = threading.Lock()
        self._init_server()

    @property
    def url(self) -> str:
        return self.base_url + "/billing/webhook"

    def _asgi_app(self):
        return Starlette(routes=[Route("/billing/webhook", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.received.append((body, request.headers.get("stripe-signature", "")))
            status = self.answers.pop(0) if self.answers else 200
        return Response(status_code=status)

    def verified(self) -> list[stripe.Event]:
        """Every event received, checked by the SDK's own signature verification."""
        return [stripe.Webhook.construct_event(body, sig, SECRET) for body, sig in self.received]

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self.answers.clear()


@pytest.fixture(scope="module")
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture(scope="module")
def server(receiver):
    with FakeStripe(
        webhook_url=receiver.url, webhook_secret=SECRET, webhook_retries=(0.01, 0.02, 0.05)
    ) as fake:
        yield fake


@pytest.fixture
def fake(server, receiver):
    server.reset()
    receiver.reset()
    yield server
    server.reset()


@pytest.fixture
def client(fake):
    return stripe.StripeClient(
        DEFAULT_API_KEY, base_addresses={"api": fake.base_url}, max_network_retries=0
    )


def api(fake, method, path, **kwargs):
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}", **kwargs.pop("headers", {})}
    return httpx.request(method, fake.base_url + path, headers=headers, timeout=10, **kwargs)


def checkout(client, customer=None, price="price_pro_monthly", **more):
    params = {
        "mode": "subscription",
        "line_items": [{"price": price, "quantity": 1}],
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "client_reference_id": "user-42",
        "metadata": {"user_id": "42"},
        "subscription_data": {"metadata": {"user_id": "42"}},
        "allow_promotion_codes": True,
        **more,
    }
    if customer is not None:
        params["customer"] = customer
    return client.v1.checkout.sessions.create(params)


def pay(session_url, card="4242 4242 4242 4242", **form):
    page = httpx.get(session_url)
    fields = dict(re.findall(r'name="(\w+)"[^>]*?value="([^"]*)"', page.text))
    return httpx.post(
        session_url, data={**fields, "cardNumber": card, **form}, follow_redirects=False
    )


def subscribe(client, fake, **more):
    customer = client.v1.customers.create({"email": "grace@example.com", "name": "Grace Hopper"})
    session = checkout(client, customer.id, **more)
    assert pay(session.url).status_code == 303
    session = client.v1.checkout.sessions.retrieve(session.id)
    return customer, client.v1.subscriptions.retrieve(session.subscription)


# --- the wire protocol -------------------------------------------------------------------------


def test_form_encoding_is_parsed_into_nested_values():
    pairs = parse_qsl(
        "mode=subscription&line_items[0][price]=price_a&line_items[0][quantity]=2&line_items[1][price]=price_b"
        "&expand[]=subscription&expand[]=customer&metadata[0]=zero&metadata[user]=42&lookup_keys[0]=a&empty=",
        keep_blank_values=True,
    )
    assert parse_form(pairs) == {
        "mode": "subscription",
        "line_items": [{"price": "price_a", "quantity": "2"}, {"price": "price_b"}],
        "expand": ["subscription", "customer"],
        "metadata": {"0": "zero", "user": "42"},
        "lookup_keys": ["a"],
        "empty": "",
    }


def test_a_missing_or_wrong_key_is_401_in_stripes_error_shape(fake):
    r = httpx.get(fake.base_url + "/v1/prices/price_pro_monthly")
    assert r.status_code == 401
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert "did not provide an API key" in r.json()["error"]["message"]
    assert r.headers["request-id"].startswith("req_")
    wrong = stripe.StripeClient(
        "sk_test_not_the_right_key_1234",
        base_addresses={"api": fake.base_url},
        max_network_retries=0,
    )
    with pytest.raises(stripe.AuthenticationError) as caught:
        wrong.v1.prices.retrieve("price_pro_monthly")
    assert caught.value.http_status == 401 and caught.value.user_message.endswith("1234")
    assert "not_the_right" not in caught.value.user_message  # the key is masked


def test_prices_are_seeded_retrievable_and_filterable(fake, client):
    price = client.v1.prices.retrieve("price_pro_monthly")
    assert price.object == "price" and price.unit_amount == 1900 and price.currency == "usd"
    assert (
        price.recurring.interval == "month"
        and price.product == "prod_pro"
        and price.livemode is False
    )
    assert isinstance(price.created, int) and price.type == "recurring"
    found = client.v1.prices.list(
        {"lookup_keys": ["pro_yearly", "business_monthly"], "active": True}
    )
    assert sorted(p.id for p in found.data) == ["price_business_monthly", "price_pro_yearly"]
    assert found.object == "list" and found.url == "/v1/prices" and found.has_more is False
    expanded = client.v1.prices.retrieve("price_pro_yearly", {"expand": ["product"]})
    assert expanded.product.name == "Pro" and expanded.product.object == "product"
    fake.add_price(
        id="price_old",
        unit_amount=900,
        recurring={"interval": "month"},
        product="prod_pro",
        active=False,
    )
    assert "price_old" not in [
        p.id for p in client.v1.prices.list({"active": True, "limit": 100}).data
    ]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.prices.retrieve("price_nope")
    error = caught.value
    assert error.http_status == 404 and error.code == "resource_missing" and error.param == "id"
    assert error.json_body["error"]["type"] == "invalid_request_error"
    assert error.json_body["error"]["message"] == "No such price: 'price_nope'"


def test_customers_are_created_updated_and_deleted(fake, client):
    customer = client.v1.customers.create(
        {"email": "ada@example.com", "name": "Ada", "metadata": {"user_id": "7", "plan": "free"}}
    )
    assert customer.id.startswith("cus_") and customer.object == "customer"
    assert customer.metadata.to_dict() == {"user_id": "7", "plan": "free"}
    assert customer.invoice_settings.default_payment_method is None
    updated = client.v1.customers.update(
        customer.id, {"name": "Ada Lovelace", "metadata": {"plan": ""}}
    )
    assert updated.name == "Ada Lovelace" and updated.metadata.to_dict() == {"user_id": "7"}
    assert client.v1.customers.retrieve(customer.id).email == "ada@example.com"
    deleted = client.v1.customers.delete(customer.id)
    assert deleted.deleted is True and deleted.id == customer.id and deleted.object == "customer"
    assert client.v1.customers.retrieve(customer.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create({"email": "x@example.com", "nickname": "x"})
    assert caught.value.http_status == 400 and caught.value.param == "nickname"
    assert "Received unknown parameter: nickname" in caught.value.user_message
    assert [e["type"] for e in fake.events] == ["customer.deleted"]


def test_unrecognized_urls_and_expansions_are_refused(fake):
    r = api(fake, "GET", "/v1/coupons")
    assert (
        r.status_code == 404
        and "Unrecognized request URL (GET: /v1/coupons)" in r.json()["error"]["message"]
    )
    r = api(fake, "GET", "/v1/prices/price_pro_monthly", params={"expand[]": "currency"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "expand"
    r = api(fake, "POST", "/v1/customers", json={"email": "a@example.com"})
    assert r.status_code == 400 and "Content-Type" in r.json()["error"]["message"]


def test_an_idempotency_key_replays_the_first_answer(fake, client):
    first = client.v1.customers.create(
        {"email": "once@example.com"}, {"idempotency_key": "signup-42"}
    )
    again = client.v1.customers.create(
        {"email": "once@example.com"}, {"idempotency_key": "signup-42"}
    )
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert again.last_response.headers["Original-Request"] == first.last_response.request_id
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create({"email": "other@example.com"}, {"idempotency_key": "signup-42"})
    raw = [
        api(
            fake,
            "POST",
            "/v1/customers",
            data={"email": "raw@example.com"},
            headers={"Idempotency-Key": "k1"},
        )
        for _ in range(2)
    ]
    assert (
        raw[0].json() == raw[1].json()
        and raw[0].headers["request-id"] != raw[1].headers["request-id"]
    )
    assert (
        len(
            [
                r
                for r in fake.requests
                if r.path == "/v1/customers" and not r.replayed and r.status == 200
            ]
        )
        == 2
    )


def test_lists_page_newest_first(fake, client):
    for n in range(5):
        fake.add_price(
            id=f"price_extra_{n}",
            unit_amount=100 * n,
            recurring={"interval": "month"},
            product="prod_extra",
        )
    first = client.v1.prices.list({"product": "prod_extra", "limit": 2})
    assert [p.id for p in first.data] == [
        "price_extra_4",
        "price_extra_3",
    ] and first.has_more is True
    second = client.v1.prices.list(
        {"product": "prod_extra", "limit": 2, "starting_after": first.data[-1].id}
    )
    assert [p.id for p in second.data] == [
        "price_extra_2",
        "price_extra_1",
    ] and second.has_more is True
    last = client.v1.prices.list(
        {"product": "prod_extra", "limit": 2, "starting_after": second.data[-1].id}
    )
    assert [p.id for p in last.data] == ["price_extra_0"] and last.has_more is False
    back = client.v1.prices.list(
        {"product": "prod_extra", "limit": 2, "ending_before": "price_extra_1"}
    )
    assert [p.id for p in back.data] == ["price_extra_3", "price_extra_2"] and back.has_more is True
    every = [
        p.id
        for p in client.v1.prices.list({"product": "prod_extra", "limit": 2}).auto_paging_iter()
    ]
    assert every == [f"price_extra_{n}" for n in range(4, -1, -1)]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.prices.list({"limit": 101})


def test_an_outage_surfaces_as_the_sdks_errors(fake, client):
    fake.down(1)
    with pytest.raises(stripe.APIError) as caught:
        client.v1.prices.retrieve("price_pro_monthly")
    assert (
        caught.value.http_status == 500 and caught.value.json_body["error"]["type"] == "api_error"
    )
    assert client.v1.prices.retrieve("price_pro_monthly").id == "price_pro_monthly"
    fake.down(how="unavailable")
    with pytest.raises(stripe.APIError) as caught:
        client.v1.customers.create({"email": "x@example.com"})
    assert caught.value.http_status == 503
    fake.down(how="drop")
    with pytest.raises(stripe.APIConnectionError):
        client.v1.prices.retrieve("price_pro_monthly")
    fake.up()
    # The SDK retries a 500 with the same idempotency key, and the retry goes through.
    retrying = stripe.StripeClient(
        DEFAULT_API_KEY, base_addresses={"api": fake.base_url}, max_network_retries=1
    )
    fake.down(1)
    customer = retrying.v1.customers.create({"email": "retry@example.com"})
    attempts = [r for r in fake.requests if r.path == "/v1/customers"][-2:]
    assert [r.status for r in attempts] == [500, 200] and attempts[0].outage == "error"
    assert attempts[0].idempotency_key == attempts[1].idempotency_key
    assert customer.email == "retry@example.com"


# --- checkout, subscriptions and webhooks -----------------------------------------------------


def test_checkout_creates_a_subscription_and_sends_signed_webhooks(fake, client, receiver):
    customer = client.v1.customers.create({"email": "grace@example.com", "name": "Grace Hopper"})
    session = checkout(client, customer.id)
    assert session.id.startswith("cs_test_") and session.object == "checkout.session"
    assert (
        session.status == "open"
        and session.payment_status == "unpaid"
        and session.subscription is None
    )
    assert session.url == f"{fake.base_url}/c/pay/{session.id}"
    assert session.amount_total == 1900 and session.client_reference_id == "user-42"
    assert session.metadata.to_dict() == {"user_id": "42"} and session.allow_promotion_codes is True

    page = httpx.get(session.url)
    assert page.status_code == 200 and "<main>" in page.text
    assert re.search(r"<h1>Subscribe to Pro <span[^>]*>\$19\.00 per month</span></h1>", page.text)
    assert '<label for="cardNumber">Card number</label>' in page.text
    assert (
        'value="4242 4242 4242 4242"' in page.text
        and '<label for="cardCvc">CVC</label>' in page.text
    )
    assert (
        '<label for="cardExpiry">' in page.text
        and '<button type="submit">Pay</button>' in page.text
    )
    assert f'<a href="{CANCEL}">Cancel</a>' in page.text

    paid = pay(session.url)
    assert paid.status_code == 303
    assert paid.headers["location"] == SUCCESS.replace("{CHECKOUT_SESSION_ID}", session.id)

    done = client.v1.checkout.sessions.retrieve(
        session.id, {"expand": ["subscription", "line_items"]}
    )
    assert done.status == "complete" and done.payment_status == "paid" and done.url is None
    assert (
        done.line_items.data[0].price.id == "price_pro_monthly"
        and done.line_items.data[0].quantity == 1
    )
    sub = done.subscription
    assert sub.id.startswith("sub_") and sub.status == "active" and sub.customer == customer.id
    assert sub.metadata.to_dict() == {"user_id": "42"} and sub.cancel_at_period_end is False
    item = sub["items"].data[0]
    assert item.price.id == "price_pro_monthly" and item.quantity == 1
    start, end = item.current_period_start, item.current_period_end
    assert (sub.current_period_start, sub.current_period_end) == (start, end)
    assert 28 * 86400 <= end - start <= 31 * 86400 and abs(start - time.time()) < 60

    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.id.startswith("in_") and invoice.status == "paid" and invoice.number
    assert invoice.amount_due == invoice.amount_paid == 1900 and invoice.currency == "usd"
    assert invoice.customer == customer.id and invoice.subscription == sub.id
    assert invoice.parent.subscription_details.subscription == sub.id
    assert invoice.billing_reason == "subscription_create"
    assert invoice.lines.data[0].period.start == start and invoice.lines.data[0].period.end == end
    assert invoice.hosted_invoice_url == f"{fake.base_url}/i/{invoice.id}"
    invoice_page = httpx.get(invoice.hosted_invoice_url)
    assert (
        invoice_page.status_code == 200
        and "$19.00" in invoice_page.text
        and "Paid on" in invoice_page.text
    )
    pdf = httpx.get(invoice.invoice_pdf)
    assert pdf.headers["content-type"] == "application/pdf"
    assert invoice.number in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()

    customer = client.v1.customers.retrieve(
        customer.id, {"expand": ["invoice_settings.default_payment_method"]}
    )
    method = customer.invoice_settings.default_payment_method
    assert (
        method.id.startswith("pm_") and method.card.brand == "visa" and method.card.last4 == "4242"
    )
    assert client.v1.payment_methods.retrieve(method.id).customer == customer.id

    fake.flush()
    events = receiver.verified()  # raises unless the SDK accepts every signature
    assert [e.type for e in events] == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
    ]
    completed = events[0]
    assert completed.id.startswith("evt_") and completed.livemode is False and completed.api_version
    assert completed.data.object.id == session.id and completed.data.object.subscription == sub.id
    assert events[1].data.object.status == "active" and events[2].data.object.id == invoice.id
    assert [(d.type, d.status, d.attempt) for d in fake.deliveries] == [
        (e.type, 200, 1) for e in events
    ]

    listed = client.v1.events.list({"types": ["invoice.paid", "checkout.session.completed"]})
    assert [e.type for e in listed.data] == [
        "invoice.paid",
        "checkout.session.completed",
    ]  # newest first
    assert client.v1.events.retrieve(completed.id).data.object.id == session.id
    assert (
        client.v1.events.list({"type": "customer.subscription.*"}).data[0].type
        == "customer.subscription.created"
    )
    recent = client.v1.events.list({"created": {"gte": int(time.time()) - 60}, "limit": 1})
    assert len(recent.data) == 1 and recent.has_more is True
    assert client.v1.subscriptions.list({"customer": customer.id}).data[0].id == sub.id
    assert [i.id for i in client.v1.invoices.list({"customer": customer.id, "limit": 3}).data] == [
        invoice.id
    ]


def test_a_declined_card_is_refused_on_the_page(fake, client):
    session = checkout(client, customer_email="new@example.com")
    declined = pay(session.url, card="4000 0000 0000 0002")
    assert declined.status_code == 402
    assert (
        '<p role="alert" id="form-error" class="error">Your card was declined.</p>' in declined.text
    )
    assert 'aria-invalid="true"' in declined.text
    bad = pay(session.url, card="4242 4242 4242 4241")
    assert bad.status_code == 400 and "Your card number is invalid." in bad.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert fake.events == [] and client.v1.subscriptions.list({"status": "all"}).data == []
    # Then a good card: a customer is made from the email the session was given.
    assert pay(session.url).status_code == 303
    done = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["customer"]})
    assert (
        done.customer.email == "new@example.com"
        and done.customer_details.email == "new@example.com"
    )
    assert httpx.get(session.url).status_code == 410  # a completed session's page is gone


def test_checkout_parameters_are_checked(fake, client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        checkout(client, price="price_nope")
    assert caught.value.http_status == 400 and caught.value.param == "line_items[0][price]"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(
            {"line_items": [{"price": "price_pro_monthly", "quantity": 1}], "success_url": SUCCESS}
        )
    assert caught.value.param == "mode" and caught.value.code == "parameter_missing"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        checkout(client, "cus_missing")
    assert caught.value.param == "customer"


def test_the_portal_cancels_renews_and_switches(fake, client, receiver):
    customer, sub = subscribe(client, fake)
    portal = client.v1.billing_portal.sessions.create(
        {"customer": customer.id, "return_url": "http://localhost:3000/settings/billing"}
    )
    assert portal.id.startswith("bps_") and portal.object == "billing_portal.session"
    assert portal.url == f"{fake.base_url}/p/session/{portal.id}"
    page = httpx.get(portal.url).text
    assert (
        "<main>" in page
        and "Pro monthly" in page
        and "Status: Active" in page
        and "Renews on" in page
    )
    assert '<a href="http://localhost:3000/settings/billing">Return to OmniPostr</a>' in page
    assert ">Cancel plan</button>" in page and ">Renew plan</button>" not in page
    switches = re.findall(r">Switch to ([^<]+)</button>", page)
    assert switches == ["Pro yearly", "Business monthly", "Business yearly"]
    assert "Visa ending in 4242" in page
    fake.flush()
    receiver.reset()

    def post(action, **extra):
        return httpx.post(
            portal.url,
            data={"action": action, "subscription": sub.id, **extra},
            follow_redirects=True,
        )

    canceled = post("cancel")
    assert (
        canceled.status_code == 200
        and '<p role="status">Your plan will be canceled on' in canceled.text
    )
    assert ">Renew plan</button>" in canceled.text and "Cancels on" in canceled.text
    after = client.v1.subscriptions.retrieve(sub.id)
    assert after.cancel_at_period_end is True and after.cancel_at == after.current_period_end
    assert after.status == "active"
    renewed = post("renew")
    assert ">Cancel plan</button>" in renewed.text
    assert client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False

    switched = post("switch", price="price_business_monthly")
    assert "You switched to Business monthly." in switched.text
    now = client.v1.subscriptions.retrieve(sub.id)
    assert now["items"].data[0].price.id == "price_business_monthly"
    assert now.current_period_end == sub.current_period_end  # same interval: the period stays

    fake.flush()
    updates = receiver.verified()
    assert [e.type for e in updates] == ["customer.subscription.updated"] * 3
    assert updates[0].data.previous_attributes.cancel_at_period_end is False
    assert updates[0].data.object.cancel_at_period_end is True
    assert updates[1].data.object.cancel_at_period_end is False
    assert updates[2].data.object["items"].data[0].price.id == "price_business_monthly"
    assert updates[2].data.previous_attributes["items"].data[0].price.id == "price_pro_monthly"


def test_switching_to_a_yearly_price_restarts_the_period_and_invoices_the_difference(fake, client):
    customer, sub = subscribe(client, fake)
    updated = client.v1.subscriptions.update(
        sub.id,
        {
            "items": [{"id": sub["items"].data[0].id, "price": "price_pro_yearly"}],
            "proration_behavior": "create_prorations",
        },
    )
    assert updated["items"].data[0].price.id == "price_pro_yearly"
    assert 365 * 86400 <= updated.current_period_end - updated.current_period_start <= 366 * 86400
    invoice = client.v1.invoices.retrieve(updated.latest_invoice)
    assert invoice.billing_reason == "subscription_update" and invoice.status == "paid"
    assert [line.amount for line in invoice.lines.data] == [-1900, 19000]  # unused month credited
    assert invoice.amount_paid == 19000 - 1900
    assert [e["type"] for e in fake.events][-2:] == [
        "customer.subscription.updated",
        "invoice.paid",
    ]
    # Back to monthly: the unused year is worth more than a month, so it becomes a credit...
    item = updated["items"].data[0].id
    back = client.v1.subscriptions.update(
        sub.id, {"items": [{"id": item, "price": "price_pro_monthly"}]}
    )
    credit = client.v1.invoices.retrieve(back.latest_invoice)
    assert credit.total == -19000 + 1900 and credit.amount_due == 0 and credit.status == "paid"
    assert client.v1.customers.retrieve(customer.id).balance == credit.ending_balance == -17100
    # ...that pays the next renewals.
    renewal = fake.advance(sub.id)
    assert renewal["amount_due"] == 0 and renewal["starting_balance"] == -17100
    assert client.v1.customers.retrieve(customer.id).balance == -17100 + 1900


def test_renewals_succeed_fail_and_need_action(fake, client, receiver):
    _, sub = subscribe(client, fake)
    fake.flush()
    receiver.reset()

    invoice = fake.advance(sub.id)
    renewed = client.v1.subscriptions.retrieve(sub.id)
    assert renewed.status == "active" and renewed.current_period_start == sub.current_period_end
    assert (
        renewed["items"].data[0].current_period_end
        == renewed.current_period_end
        > sub.current_period_end
    )
    assert invoice["status"] == "paid" and invoice["billing_reason"] == "subscription_cycle"
    assert (invoice["period_start"], invoice["period_end"]) == (
        sub.current_period_start,
        sub.current_period_end,
    )
    assert invoice["lines"]["data"][0]["period"] == {
        "start": renewed.current_period_start,
        "end": renewed.current_period_end,
    }
    assert renewed.latest_invoice == invoice["id"]

    failed = fake.fail_invoice(sub.id)
    past_due = client.v1.subscriptions.retrieve(sub.id)
    assert (
        failed["status"] == "open"
        and failed["amount_remaining"] == 1900
        and failed["attempt_count"] == 1
    )
    assert past_due.status == "past_due" and past_due.latest_invoice == failed["id"]
    assert (
        client.v1.invoices.list({"subscription": sub.id, "status": "open"}).data[0].id
        == failed["id"]
    )
    # While the card on file declines, a change that must be paid now is refused with a 402.
    with pytest.raises(stripe.CardError) as caught:
        client.v1.subscriptions.update(
            sub.id,
            {
                "items": [{"id": sub["items"].data[0].id, "price": "price_business_yearly"}],
                "payment_behavior": "error_if_incomplete",
            },
        )
    assert caught.value.http_status == 402 and caught.value.code == "card_declined"
    assert client.v1.subscriptions.retrieve(sub.id)["items"].data[0].price.id == "price_pro_monthly"

    # The customer pays the open invoice on its hosted page with another card.
    page = httpx.get(failed["hosted_invoice_url"])
    assert "Pay $19.00</button>" in page.text
    paid = httpx.post(
        failed["hosted_invoice_url"],
        data={"cardNumber": "5555 5555 5555 4444", "cardExpiry": "12 / 40", "cardCvc": "123"},
        follow_redirects=True,
    )
    assert paid.status_code == 200 and "Paid on" in paid.text
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"

    action = fake.advance(sub.id, action_required=True)
    assert (
        action["status"] == "open" and client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    )
    fake.pay_invoice(action["id"])
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"

    fake.flush()
    assert [e.type for e in receiver.verified()] == [
        "customer.subscription.updated", "invoice.paid",
        "invoice.payment_failed", "customer.subscription.updated",
        "invoice.paid", "customer.subscription.updated",
        "invoice.payment_action_required", "customer.subscription.updated",
        "invoice.paid", "customer.subscription.updated",
    ]  # fmt: skip


def test_cancellation_at_period_end_and_at_once(fake, client):
    customer, sub = subscribe(client, fake)
    client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    assert fake.advance(sub.id) is None  # the period ends, and so does the subscription
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert ended.status == "canceled" and ended.ended_at == sub.current_period_end
    assert fake.events[-1]["type"] == "customer.subscription.deleted"
    assert client.v1.subscriptions.list({"customer": customer.id}).data == []
    assert [
        s.id for s in client.v1.subscriptions.list({"customer": customer.id, "status": "all"}).data
    ] == [sub.id]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": False})
    assert "A canceled subscription can only update" in caught.value.user_message

    _, other = subscribe(client, fake)
    canceled = client.v1.subscriptions.cancel(other.id)
    assert canceled.status == "canceled" and canceled.canceled_at and canceled.ended_at
    assert fake.events[-1]["type"] == "customer.subscription.deleted"
    assert fake.events[-1]["request"]["id"] == canceled.last_response.request_id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.subscriptions.cancel(other.id)
    assert caught.value.http_status == 404


def test_a_trial_ends_into_the_first_paid_period(fake, client):
    _, sub = subscribe(client, fake, subscription_data={"trial_period_days": 14})
    assert sub.status == "trialing" and sub.trial_end - sub.trial_start == 14 * 86400
    assert sub.current_period_end == sub.trial_end
    first = client.v1.invoices.retrieve(sub.latest_invoice)
    assert first.amount_due == 0 and first.status == "paid"
    event = fake.trial_will_end(sub.id)
    assert (
        event["type"] == "customer.subscription.trial_will_end"
        and event["data"]["object"]["id"] == sub.id
    )
    invoice = fake.advance(sub.id)
    active = client.v1.subscriptions.retrieve(sub.id)
    assert active.status == "active" and active.current_period_start == sub.trial_end
    assert invoice["amount_paid"] == 1900
    with pytest.raises(ValueError):
        fake.trial_will_end(sub.id)


# --- delivery ----------------------------------------------------------------------------------


def test_deliveries_are_retried_until_the_endpoint_answers_2xx(fake, client, receiver):
    fake.configure(webhook_auto=False)
    subscribe(client, fake)
    first = fake.events[0]
    assert first["pending_webhooks"] == 1
    receiver.answers = [500, 503]
    fake.deliver([first["id"]])
    assert [(d.event_id, d.attempt, d.status, d.ok) for d in fake.deliveries] == [
        (first["id"], 1, 500, False),
        (first["id"], 2, 503, False),
        (first["id"], 3, 200, True),
    ]
    assert fake.events[0]["pending_webhooks"] == 0
    # A failing delivery does not hold up the others (the two events still held).
    receiver.answers = [500]
    held = fake.held
    assert [(d.event_id, d.attempt, d.status) for d in fake.flush()] == [
        (held[0], 1, 500),
        (held[1], 1, 200),
        (held[0], 2, 200),
    ]
    receiver.answers = [500] * 10
    fake.redeliver(fake.events[0]["id"])
    assert [d.status for d in fake.deliveries[-4:]] == [500] * 4  # gives up after the retries


def test_redelivery_keeps_the_id_and_held_events_go_out_in_any_order(fake, client, receiver):
    fake.configure(webhook_auto=False)
    subscribe(client, fake)
    assert len(fake.held) == 3 and receiver.received == []
    ids = [e["id"] for e in fake.events]
    fake.deliver(ids, order="reverse")
    assert [e.id for e in receiver.verified()] == ids[::-1] and fake.held == []
    assert fake.flush() == []

    receiver.reset()
    fake.redeliver(ids[0])
    [again] = receiver.verified()
    assert again.id == ids[0] and again.type == "checkout.session.completed"
    assert json.loads(receiver.received[0][0])["data"] == fake.events[0]["data"]

    receiver.reset()
    fake.deliver_stale(ids[0], age_seconds=900)
    body, signature = receiver.received[0]
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(body, signature, SECRET)
    stripe.WebhookSignature.verify_header(body, signature, SECRET, tolerance=None)  # only stale
    receiver.reset()
    fake.redeliver(ids[0], secret="whsec_someone_else")
    with pytest.raises(stripe.SignatureVerificationError):
        receiver.verified()
    assert len(receiver.received) == 1  # deliberate bad signatures are not retried


def test_the_control_endpoints_drive_it_from_another_process(fake, client, receiver):
    _, sub = subscribe(client, fake)
    base = fake.base_url + "/_fake"
    r = httpx.post(f"{base}/advance", json={"subscription_id": sub.id, "succeed": False})
    assert r.status_code == 200 and r.json()["status"] == "open"
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    assert httpx.post(f"{base}/advance", json={"subscription_id": "sub_nope"}).status_code == 404
    assert httpx.post(f"{base}/down", json={"how": "nonsense"}).status_code == 400
    assert httpx.post(f"{base}/down", json={"requests": 1}).json() == {"ok": True}
    assert api(fake, "GET", "/v1/prices").status_code == 500
    assert api(fake, "GET", "/v1/prices").status_code == 200
    events = httpx.get(f"{base}/events").json()
    assert events[-1]["type"] == "customer.subscription.updated"
    deliveries = httpx.post(f"{base}/redeliver", json={"event_id": events[0]["id"]}).json()
    assert deliveries[0]["event_id"] == events[0]["id"] and deliveries[0]["ok"] is True
    assert httpx.post(f"{base}/flush").status_code == 200
    logged = httpx.get(f"{base}/requests").text
    assert DEFAULT_API_KEY not in logged and "/v1/checkout/sessions" in logged
    assert json.loads(logged)[0]["params"]["email"] == "grace@example.com"
    assert httpx.get(f"{base}/config").json()["webhook_url"] == receiver.url
    assert httpx.delete(f"{base}/requests").json() == [] and fake.requests == []
    assert httpx.post(f"{base}/reset").status_code == 200 and fake.events == []


def test_command_line_server_for_trying_billing(tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps(
            [
                {
                    "id": "price_solo",
                    "unit_amount": 500,
                    "currency": "eur",
                    "recurring": {"interval": "month"},
                    "product": "prod_solo",
                }
            ]
        )
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakes.stripe_server", "--port", "0", "--prices-file", str(prices)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        base = line.rsplit(" ", 1)[1].strip()
        cli = stripe.StripeClient(
            "sk_test_anything", base_addresses={"api": base}, max_network_retries=0
        )
        assert [p.id for p in cli.v1.prices.list().data] == ["price_solo"]
        session = checkout(cli, price="price_solo")
        assert "€5.00 per month" in httpx.get(session.url).text
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
