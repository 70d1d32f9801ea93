"""The one way to Stripe: the official SDK, pointed at ``stripe_api_base`` (Stripe itself, or
the loopback Stripe of the tests and the demo). Everything it returns is a plain ``dict``,
so the billing service never handles SDK objects.

Outages become :class:`StripeUnavailable` (the caller says so and changes nothing); a request
Stripe refuses becomes :class:`StripeRefused`. The SDK retries connection errors and 5xx
answers itself (``max_network_retries``), with idempotency keys on every POST."""

from __future__ import annotations

import functools
import json
from typing import Any

import stripe

from omnipostr.settings import get_settings


class StripeError(Exception):
    pass


class StripeUnavailable(StripeError):
    """Stripe could not be reached or failed (a network error, a 5xx, rate limited)."""


class StripeRefused(StripeError):
    """Stripe refused the request (a 4xx other than 429): a bug or stale data, not an outage."""


class BadSignature(StripeError):
    """A webhook whose signature does not verify, or was signed too long ago."""


def enabled() -> bool:
    return get_settings().stripe_secret_key is not None


@functools.cache
def _client(key: str, base: str) -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": base.rstrip("/")}, max_network_retries=2)


def client() -> stripe.StripeClient:
    c = get_settings()
    if c.stripe_secret_key is None:
        raise StripeUnavailable("Billing is not set up on this server.")
    return _client(c.stripe_secret_key.get_secret_value(), c.stripe_api_base)


def _plain(obj: Any) -> Any:
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def _call(fn, *args, **kwargs) -> Any:
    try:
        return _plain(fn(*args, **kwargs))
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as e:
        raise StripeUnavailable(f"Stripe is not answering ({type(e).__name__}).") from e
    except stripe.StripeError as e:
        if (e.http_status or 0) >= 500:
            raise StripeUnavailable(f"Stripe failed ({e.http_status}).") from e
        raise StripeRefused(getattr(e, "user_message", None) or str(e)) from e


def create_customer(*, email: str, name: str, workspace_id: int, once: str) -> str:
    """A new Stripe customer for a workspace. ``once`` (unique to the workspace's billing
    account) is the idempotency key: two clicks or two processes that race here get the same
    customer, and no other install or later workspace with the same id ever does."""
    c = client()
    cust = _call(c.v1.customers.create,
                 params={"email": email, "name": name, "metadata": {"workspace_id": str(workspace_id)}},
                 options={"idempotency_key": f"omnipostr-customer-{once}"})
    return str(cust["id"])


def get_customer(customer_id: str) -> dict:
    return _call(client().v1.customers.retrieve, customer_id)


def delete_customer(customer_id: str) -> None:
    try:
        _call(client().v1.customers.delete, customer_id)
    except StripeRefused:
        pass  # already gone


def create_checkout(*, customer_id: str, price_id: str, workspace_id: int, success_url: str, cancel_url: str,
                    idempotency_key: str, trial_days: int = 0) -> dict:
    subscription: dict[str, Any] = {"metadata": {"workspace_id": str(workspace_id)}}
    if trial_days:
        subscription["trial_period_days"] = trial_days
    return _call(client().v1.checkout.sessions.create, params={
        "mode": "subscription",
        "customer": customer_id,
        "line_items": [{"price": price_id, "quantity": 1}],
        "client_reference_id": str(workspace_id),
        "metadata": {"workspace_id": str(workspace_id)},
        "subscription_data": subscription,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }, options={"idempotency_key": idempotency_key})


def create_portal(*, customer_id: str, return_url: str) -> str:
    portal = _call(client().v1.billing_portal.sessions.create,
                   params={"customer": customer_id, "return_url": return_url})
    return str(portal["url"])


def list_subscriptions(customer_id: str) -> list[dict]:
    page = _call(client().v1.subscriptions.list, params={"customer": customer_id, "status": "all", "limit": 20})
    return list(page.get("data", []))


def get_invoice(invoice_id: str) -> dict:
    return _call(client().v1.invoices.retrieve, invoice_id)


def list_invoices(customer_id: str, limit: int = 24) -> list[dict]:
    page = _call(client().v1.invoices.list, params={"customer": customer_id, "limit": limit})
    return list(page.get("data", []))


def get_payment_method(pm_id: str) -> dict:
    return _call(client().v1.payment_methods.retrieve, pm_id)


def list_events(created_after: int, limit: int = 100) -> list[dict]:
    """Events created at or after ``created_after`` (Unix seconds), every page."""
    c = client()
    params: dict[str, Any] = {"limit": limit, "created": {"gte": created_after}}
    out: list[dict] = []
    while True:
        page = _call(c.v1.events.list, params=params)
        data = list(page.get("data", []))
        out.extend(data)
        if not page.get("has_more") or not data:
            return out
        params = {**params, "starting_after": data[-1]["id"]}


def verify_webhook(payload: bytes, signature: str) -> dict:
    """The event in a webhook request, after Stripe's own signature check with our signing
    secret and tolerance; :class:`BadSignature` otherwise."""
    c = get_settings()
    if c.stripe_webhook_secret is None:
        raise BadSignature("No webhook signing secret is configured.")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, c.stripe_webhook_secret.get_secret_value(),
            tolerance=c.stripe_webhook_tolerance_seconds,
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as e:
        raise BadSignature(str(e)) from e
    try:
        event = json.loads(payload)
    except ValueError as e:
        raise BadSignature("The body is not JSON.") from e
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise BadSignature("The body is not a Stripe event.")
    return event
