"""A loopback stand-in for Stripe: the API, hosted Checkout, the customer portal and signed
webhooks, speaking Stripe's wire protocol over HTTP.

    with FakeStripe(webhook_url="http://127.0.0.1:3000/billing/webhook") as fake:
        client = stripe.StripeClient(fake.api_key, base_addresses={"api": fake.base_url})
        session = client.v1.checkout.sessions.create({...})  # session.url: a page on the fake
        httpx.post(session.url, data={"email": "a@example.com", "cardNumber": "4242424242424242",
                                      "cardExpiry": "12 / 34", "cardCvc": "123"})   # "Pay"
        fake.flush()                                        # webhooks sent, retries done
        fake.advance(subscription_id, succeed=False)        # the renewal fails: past_due
        fake.down(2)                                        # the next two API calls get a 500

The API, under ``/v1``: form-encoded parameters as the SDKs send them (``a[b]=c``,
``items[0][price]=...``, ``expand[]=...`` or ``expand[0]=...``, ``metadata[k]=`` to unset);
JSON objects with Stripe's id prefixes, ``created`` in Unix seconds and ``livemode: false``;
lists newest first (``limit``, ``starting_after``, ``ending_before``); ``expand`` of the ids of
stored objects, up to four levels (and ``line_items`` on a Checkout Session); Stripe's error
shape and statuses: 400 for a missing, malformed or unknown parameter (the fake refuses what it
does not model rather than ignoring it), 401 without a valid ``Authorization: Bearer`` key, 402
for a declined charge, 404 for a missing object or URL. Every answer has a ``Request-Id``; a
POST with an ``Idempotency-Key`` seen before gets the first answer again
(``Idempotent-Replayed: true``), or an ``idempotency_error`` if its parameters differ.

Endpoints: prices (retrieve; list by ``active``, ``lookup_keys``, ``product``, ``type``,
``currency``), customers (create, retrieve, update, delete), Checkout Sessions in subscription
mode with one line item (create, with ``subscription_data[trial_period_days]`` for a trial;
retrieve), billing portal sessions (create), subscriptions (retrieve; list by
``customer``, ``price``, ``status``; update ``cancel_at_period_end``, ``items``, ``metadata``;
cancel), invoices (retrieve; list by ``customer``, ``subscription``, ``status``), events
(retrieve; list by ``type`` with a ``.*`` wildcard, ``types``, ``created``), payment methods
(retrieve).

Pages, plain HTML forms without scripts: hosted Checkout ``/c/pay/{cs_id}`` (the card
4242 4242 4242 4242 is prefilled; the cards in :data:`DECLINED_CARDS` are refused; paying
creates the customer if the session had none, the card as its default payment method, the
subscription and its first invoice, paid, then redirects to ``success_url``); the portal
``/p/session/{bps_id}`` (cancel at the period's end, renew, switch to another recurring price);
the hosted invoice page ``/i/{in_id}`` (an open invoice can be paid there) and its PDF.

Objects follow API version 2026-10-28: a subscription's period is on its item
(``items.data[0].current_period_start/end``, copied onto the subscription too); an invoice names
its subscription in ``parent.subscription_details.subscription`` (copied to ``subscription``);
an invoice's ``period_start``/``period_end`` look back one period as Stripe's do, and the
service period is on its lines. Changing to a price with another interval restarts the period
and invoices at once, less the unused time of the old price; ``proration_behavior:
always_invoice`` invoices the difference for the rest of the period; other prorations are not
computed. A credit larger than the charge goes to the customer's ``balance`` and pays later
invoices. Timestamps stay on the wall clock: ``advance()`` starts the next period at once, as a
test clock would at the period's end.

Events (``checkout.session.completed``, ``customer.subscription.created``, ``.updated`` with
``previous_attributes``, ``.deleted``, ``.trial_will_end``, ``invoice.paid``,
``invoice.payment_failed``, ``invoice.payment_action_required``, ``customer.deleted``) carry a
snapshot of the object and the request that caused them. They are posted to ``webhook_url`` by
a background thread, one at a time in order, signed as Stripe signs
(``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>``), and retried after
each delay in ``webhook_retries`` while the answer is not 2xx. With ``webhook_auto=False`` they
wait for ``flush()``.

Test control, in Python and as ``POST /_fake/<name>`` with the keyword arguments as a JSON
object: ``advance``, ``fail_invoice``, ``pay_invoice``, ``trial_will_end``, ``cancel_now``,
``down``/``up``, ``flush``, ``redeliver``, ``deliver``, ``deliver_stale``, ``add_price``,
``configure``, ``reset``. ``GET /_fake/events``, ``/_fake/requests`` (``/v1`` only, never the
key), ``/_fake/deliveries``, ``/_fake/held``, ``/_fake/config``; ``DELETE /_fake/requests``.

Run it to try billing on one machine::

    python -m fakes.stripe_server --port 12111 --webhook-url http://localhost:3000/billing/webhook
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import calendar
import copy
import datetime as dt
import hashlib
import heapq
import hmac
import json
import math
import operator
import random
import re
import secrets
import signal
import string
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from fakes.loopback import Drop, LoopbackServer, QuietDrops

__all__ = [
    "API_VERSION",
    "DECLINED_CARDS",
    "DEFAULT_API_KEY",
    "DEFAULT_PRICES",
    "Delivery",
    "FakeStripe",
    "RecordedRequest",
    "StripeError",
    "parse_form",
]

API_VERSION = "2026-10-28.endive"
DEFAULT_API_KEY = "sk_test_omnipostr_loopback"  # noqa: S105 (a test credential)


def _seed(tier: str, name: str, interval: str, amount: int) -> dict[str, Any]:
    adjective = {"month": "monthly", "year": "yearly"}[interval]
    return {
        "id": f"price_{tier}_{adjective}",
        "unit_amount": amount,
        "currency": "usd",
        "recurring": {"interval": interval},
        "product": f"prod_{tier}",
        "product_name": name,
        "lookup_key": f"{tier}_{adjective}",
        "nickname": f"{name} {adjective}",
    }


DEFAULT_PRICES: list[dict[str, Any]] = [
    _seed("pro", "Pro", "month", 1900),
    _seed("pro", "Pro", "year", 19000),
    _seed("business", "Business", "month", 9900),
    _seed("business", "Business", "year", 99000),
]

# Stripe's test cards that are refused: code, decline code, the message the page shows.
DECLINED_CARDS: dict[str, tuple[str, str | None, str]] = {
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "4000000000000069": ("expired_card", None, "Your card has expired."),
}

_INTERVALS = ("day", "week", "month", "year")
_ENDED = ("canceled", "incomplete_expired")
_PAGING = ("limit", "starting_after", "ending_before")
_BOUNDS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
_NOUNS = {"payment_method": "PaymentMethod"}
_ALNUM = string.ascii_letters + string.digits
_ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$"}
_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)
_OUTAGES: dict[str, tuple[int, str] | None] = {
    "error": (500, "Sorry, something went wrong. We've already been notified of the problem."),
    "unavailable": (503, "Stripe is temporarily unavailable. Please try again shortly."),
    "drop": None,  # the connection is cut halfway through the answer
}
_STATUSES = "active past_due unpaid canceled incomplete incomplete_expired trialing paused all ended".split()
_CUSTOMER_FIELDS = ("email", "name", "description", "phone", "metadata", "invoice_settings")


# --- wire format ------------------------------------------------------------------------------


class StripeError(Exception):
    """An error answered in Stripe's shape: ``{"error": {"type", "message", "code", "param"}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - Stripe's field name
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type = status, message, type
        self.code, self.param, self.decline_code = code, param, decline_code

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        if self.decline_code:
            error["decline_code"] = self.decline_code
        return {"error": error}


def _missing(param: str) -> StripeError:
    return StripeError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


def _invalid(param: str, message: str) -> StripeError:
    return StripeError(400, message, code="parameter_invalid", param=param)


_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding to nested values: ``a[b]=c`` is ``{"a": {"b": "c"}}``,
    ``a[0][b]=c`` and ``a[]=c`` make lists (except under ``metadata``); values stay strings."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.fullmatch(key)
        if match is None:
            raise _invalid(key, f"Invalid parameter name: {key}")
        parts = [match[1], *re.findall(r"\[([^\[\]]*)\]", match[2])]
        node = root
        for i, part in enumerate(parts):
            part = part or str(len(node))
            if i == len(parts) - 1:
                node[part] = value
            else:
                if not isinstance(node.get(part), dict):
                    node[part] = {}
                node = node[part]
    return _listify(root)


def _listify(node: Any, key: str = "") -> Any:
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v, k) for k, v in node.items()}
    if node and key != "metadata" and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


def _allow(params: dict[str, Any], *names: str, prefix: str = "") -> None:
    for key in params:
        if key not in names:
            name = f"{prefix}[{key}]" if prefix else key
            raise StripeError(
                400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
            )


def _text(params: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = params.get(key)
    if value is None:
        if required:
            raise _missing(key)
        return None
    if not isinstance(value, str):
        raise _invalid(key, f"Invalid string: {key} must be a string")
    if required and not value:
        raise _missing(key)
    return value


def _bool(value: Any, param: str) -> bool:
    if value in ("true", "false"):
        return value == "true"
    raise _invalid(param, f"Invalid boolean: {value}")


def _int(value: Any, param: str, low: int | None = None, high: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid(param, f"Invalid integer: {value}") from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise _invalid(param, f"Invalid {param}: must be between {low} and {high}")
    return number


def _dict(value: Any, param: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(param, f"Invalid object: {param}")
    return value


def _strings(value: Any, param: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise _invalid(param, f"Invalid array: {param}")


def _url(params: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = _text(params, key, required=required)
    if value is not None and not re.match(r"https?://[^\s/]+", value):
        raise _invalid(key, "Not a valid URL")
    return value


def _set_metadata(target: dict[str, str], value: Any, param: str = "metadata") -> None:
    if value == "":
        target.clear()
        return
    for key, item in _dict(value, param).items():
        if not isinstance(item, str):
            raise _invalid(f"{param}[{key}]", "Metadata values must be strings.")
        if len(key) > 40 or len(item) > 500:
            raise _invalid(
                f"{param}[{key}]",
                "Metadata keys can have up to 40 characters and values up to 500.",
            )
        if item == "":
            target.pop(key, None)
        else:
            target[key] = item
    if len(target) > 50:
        raise _invalid(param, "Metadata can have up to 50 keys.")


def _sign(secret: str, timestamp: int, payload: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


# --- small things -------------------------------------------------------------------------------


def _id(prefix: str, n: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(n))


def _now() -> int:
    return int(time.time())


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy without the fake's own bookkeeping (keys starting with ``_``)."""
    return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}


def _shift(ts: int, interval: str, steps: int) -> int:
    """``ts`` moved on ``steps`` intervals, months clamped to their last day as Stripe does."""
    if interval in ("day", "week"):
        return ts + steps * 86400 * (7 if interval == "week" else 1)
    start = dt.datetime.fromtimestamp(ts, dt.UTC)
    months = start.month - 1 + steps * (12 if interval == "year" else 1)
    year, month = start.year + months // 12, months % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def _money(amount: int, currency: str) -> str:
    currency = currency.lower()
    value = f"{amount:,}" if currency in _ZERO_DECIMAL else f"{amount / 100:,.2f}"
    if amount < 0:
        value = value.lstrip("-")
    symbol = _SYMBOLS.get(currency)
    text = f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"
    return f"-{text}" if amount < 0 else text


def _per(price: dict[str, Any]) -> str:
    recurring = price["recurring"]
    if recurring is None:
        return ""
    count = recurring["interval_count"]
    return (
        f"per {recurring['interval']}" if count == 1 else f"every {count} {recurring['interval']}s"
    )


def _date(ts: int) -> str:
    day = dt.datetime.fromtimestamp(ts, dt.UTC)
    return f"{day.day} {day:%B %Y}"


def _brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("34", "37"):
        return "amex"
    if 51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    if number.startswith(("6011", "65")):
        return "discover"
    return "unknown"


def _luhn(number: str) -> bool:
    total = 0
    for i, digit in enumerate(reversed(number)):
        d = int(digit) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


@dataclass
class _Card:
    number: str
    exp_month: int
    exp_year: int


class _FormError(Exception):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message, self.field = message, field


def _read_card(form: dict[str, str]) -> _Card:
    number = re.sub(r"[\s-]", "", form.get("cardNumber", ""))
    if not number.isdigit() or len(number) < 12:
        raise _FormError("Your card number is incomplete.", "cardNumber")
    if len(number) > 19 or not _luhn(number):
        raise _FormError("Your card number is invalid.", "cardNumber")
    expiry = re.fullmatch(r"\s*(\d{1,2})\s*/?\s*(\d{4}|\d{2})\s*", form.get("cardExpiry", ""))
    if expiry is None or not 1 <= int(expiry[1]) <= 12:
        raise _FormError("Your card's expiration date is incomplete.", "cardExpiry")
    month, year = int(expiry[1]), int(expiry[2])
    year += 2000 if year < 100 else 0
    today = dt.datetime.now(dt.UTC)
    if (year, month) < (today.year, today.month):
        raise _FormError("Your card's expiration date is in the past.", "cardExpiry")
    cvc = form.get("cardCvc", "").strip()
    if not cvc.isdigit() or len(cvc) not in (3, 4):
        raise _FormError("Your card's security code is incomplete.", "cardCvc")
    return _Card(number, month, year)




class _Cut(Response):
    def __init__(self, request_id: str) -> None:
        super().__init__(status_code=200)
        self.request_id = request_id

    async def __call__(self, scope, receive, send) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"256"),
            (b"request-id", self.request_id.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{\n  "id": "', "more_body": True})
        await asyncio.sleep(0.01)
        raise Drop("connection cut on purpose")


# --- records ------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """An API request: its parameters as parsed, never its key."""

    id: str
    method: str
    path: str
    params: dict[str, Any]
    status: int | None = None  # None: the connection was cut
    idempotency_key: str | None = None
    replayed: bool = False
    outage: str | None = None
    received_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Delivery:
    """One attempt at posting an event to the webhook URL."""

    event_id: str
    type: str
    attempt: int
    status: int | None  # None: no answer (``error`` says why)
    signed_at: int  # the ``t`` of the signature
    error: str | None = None
    at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    event_id: str = field(compare=False)
    attempt: int = field(default=1, compare=False)
    secret: str | None = field(default=None, compare=False)
    age: int = field(default=0, compare=False)
    retry: bool = field(default=True, compare=False)


@dataclass
class _Saved:
    fingerprint: str
    status: int
    body: bytes
    request_id: str


_API_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(pattern), handler)
    for method, pattern, handler in [
        ("GET", r"/v1/prices", "_list_prices"),
        ("GET", r"/v1/prices/([^/]+)", "_get_price"),
        ("POST", r"/v1/customers", "_create_customer"),
        ("GET", r"/v1/customers/([^/]+)", "_get_customer"),
        ("POST", r"/v1/customers/([^/]+)", "_update_customer"),
        ("DELETE", r"/v1/customers/([^/]+)", "_delete_customer"),
        ("POST", r"/v1/checkout/sessions", "_create_checkout"),
        ("GET", r"/v1/checkout/sessions/([^/]+)", "_get_checkout"),
        ("POST", r"/v1/billing_portal/sessions", "_create_portal"),
        ("GET", r"/v1/subscriptions", "_list_subscriptions"),
        ("GET", r"/v1/subscriptions/([^/]+)", "_get_subscription"),
        ("POST", r"/v1/subscriptions/([^/]+)", "_update_subscription"),
        ("DELETE", r"/v1/subscriptions/([^/]+)", "_cancel_subscription"),
        ("GET", r"/v1/invoices", "_list_invoices"),
        ("GET", r"/v1/invoices/([^/]+)", "_get_invoice"),
        ("GET", r"/v1/events", "_list_events"),
        ("GET", r"/v1/events/([^/]+)", "_get_event"),
        ("GET", r"/v1/payment_methods/([^/]+)", "_get_payment_method"),
    ]
]
_CONTROLS = {
    "add_price", "advance", "fail_invoice", "pay_invoice", "trial_will_end", "cancel_now",
    "down", "up", "flush", "redeliver", "deliver", "deliver_stale", "configure", "reset",
}  # fmt: skip


# --- the server -------------------------------------------------------------------------------


class FakeStripe(LoopbackServer):
    thread_name = "fake-stripe"
    _log_filter = QuietDrops()

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_test",  # noqa: S107 (a test credential)
        api_key: str | None = DEFAULT_API_KEY,
        prices: list[dict[str, Any]] | None = None,
        webhook_auto: bool = True,
        webhook_retries: tuple[float, ...] = (0.05, 0.25, 1.0),
        webhook_timeout: float = 5.0,
        business_name: str = "OmniPostr",
        api_version: str = API_VERSION,
    ) -> None:
        self.host = host
        self.port = port
        self._initial = {
            "webhook_url": webhook_url,
            "webhook_secret": webhook_secret,
            "webhook_auto": webhook_auto,
            "webhook_retries": tuple(webhook_retries),
            "api_key": api_key,
        }
        self.webhook_url: str | None = webhook_url
        self.webhook_secret = webhook_secret
        self.webhook_auto = webhook_auto
        self.webhook_retries: tuple[float, ...] = tuple(webhook_retries)
        self.webhook_timeout = webhook_timeout
        self.api_key = api_key
        """The accepted secret key; ``None`` accepts any ``sk_test_``/``rk_test_`` key."""
        self.business_name = business_name
        self.api_version = api_version
        self._prices = [dict(p) for p in (DEFAULT_PRICES if prices is None else prices)]
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._worker: threading.Thread | None = None
        self._stopping = False
        self._sending = 0
        self._clear()
        self._init_server()
        self.app = Starlette(
            routes=[
                Route(
                    "/v1/{path:path}", self._api, methods=["GET", "POST", "DELETE", "PUT", "PATCH"]
                ),
                Route("/c/pay/{id}", self._checkout_page, methods=["GET", "POST"]),
                Route("/p/session/{id}", self._portal_page, methods=["GET", "POST"]),
                Route("/i/{id}", self._invoice_page, methods=["GET", "POST"]),
                Route("/i/{id}/pdf", self._invoice_pdf, methods=["GET"]),
                Route("/_fake/{name}", self._control, methods=["GET", "POST", "DELETE"]),
            ]
        )

    def _clear(self) -> None:
        self._objects: dict[str, dict[str, Any]] = {}
        self._seq = 0
        self._events: list[str] = []
        self._held: list[str] = []
        self._outbox: list[_Job] = []
        self._generation = getattr(self, "_generation", 0) + 1
        self._deliveries: list[Delivery] = []
        self._requests: list[RecordedRequest] = []
        self._idempotent: dict[str, _Saved] = {}
        self._down_left: float = 0
        self._down_how = "error"
        self._context: dict[str, Any] = {"id": None, "idempotency_key": None}
        for price in self._prices:
            self.add_price(price)

    # --- lifecycle ------------------------------------------------------------------------

    def _asgi_app(self):
        return self.app

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.join(5)
        super().stop()

    # --- test control -------------------------------------------------------------------------

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change ``webhook_url``, ``webhook_secret``, ``webhook_auto``, ``webhook_retries`` or
        ``api_key`` while running."""
        with self._lock:
            for key, value in settings.items():
                if key not in self._initial:
                    raise ValueError(f"unknown setting {key!r}")
                setattr(self, key, tuple(value) if key == "webhook_retries" else value)
            return self.config

    @property
    def config(self) -> dict[str, Any]:
        with self._lock:
            return {
                "webhook_url": self.webhook_url,
                "webhook_auto": self.webhook_auto,
                "webhook_retries": list(self.webhook_retries),
                "api_version": self.api_version,
                "down": self._down_how if self._down_left else None,
                "held": len(self._held),
            }

    def reset(self) -> None:
        """Back to the start: the seeded prices only, no events, requests or deliveries, the
        constructor's settings and the API up."""
        with self._lock:
            for key, value in self._initial.items():
                setattr(self, key, value)
            self._clear()
            self._wake.notify_all()

    def add_price(self, price: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """Add a price (and its product, if new): ``id``, ``unit_amount``, ``currency``,
        ``recurring`` (``{"interval": "month", "interval_count": 1}``, or ``None`` for a one-time
        price), ``product``, ``product_name``, ``lookup_key``, ``nickname``, ``active``,
        ``metadata``."""
        spec = {**(price or {}), **fields}
        known = {
            "id",
            "unit_amount",
            "currency",
            "recurring",
            "product",
            "product_name",
            "lookup_key",
            "nickname",
            "active",
            "metadata",
        }
        if set(spec) - known:
            raise ValueError(f"unknown price fields: {', '.join(sorted(set(spec) - known))}")
        if not isinstance(spec.get("unit_amount"), int) or spec["unit_amount"] < 0:
            raise ValueError("unit_amount must be a whole number of the currency's smallest unit")
        recurring = spec.get("recurring")
        if recurring is not None:
            if recurring.get("interval") not in _INTERVALS:
                raise ValueError(f"recurring.interval must be one of {', '.join(_INTERVALS)}")
            recurring = {
                "interval": recurring["interval"],
                "interval_count": int(recurring.get("interval_count", 1)),
                "meter": None,
                "trial_period_days": None,
                "usage_type": "licensed",
            }
        now = _now()
        with self._lock:
            price_id = spec.get("id") or _id("price_")
            if price_id in self._objects:
                raise ValueError(f"{price_id} exists")
            lookup_key = spec.get("lookup_key")
            if lookup_key and any(p.get("lookup_key") == lookup_key for p in self._all("price")):
                raise ValueError(f"another price has the lookup key {lookup_key!r}")
            product_id = spec.get("product") or _id("prod_", 14)
            product = self._objects.get(product_id)
            name = spec.get("product_name")
            if product is None:
                default = product_id.removeprefix("prod_").replace("_", " ").capitalize()
                product = self._put({
                    "id": product_id, "object": "product", "active": True, "created": now,
                    "default_price": price_id, "description": None, "livemode": False,
                    "metadata": {}, "name": name or default, "updated": now,
                })  # fmt: skip
            elif name:
                product["name"] = name
            created = self._put({
                "id": price_id, "object": "price", "active": spec.get("active", True),
                "billing_scheme": "per_unit", "created": now, "currency": spec.get("currency", "usd").lower(),
                "livemode": False, "lookup_key": lookup_key, "metadata": dict(spec.get("metadata") or {}),
                "nickname": spec.get("nickname"), "product": product_id, "recurring": recurring,
                "tax_behavior": "unspecified", "type": "recurring" if recurring else "one_time",
                "unit_amount": spec["unit_amount"], "unit_amount_decimal": str(spec["unit_amount"]),
            })  # fmt: skip
            return _public(created)

    def advance(
        self, subscription_id: str, succeed: bool = True, action_required: bool = False
    ) -> dict[str, Any] | None:
        """Move the subscription on to its next period, as its renewal would. Paid: a paid
        invoice, ``customer.subscription.updated`` then ``invoice.paid``. Failed: an open invoice,
        ``past_due``, ``invoice.payment_failed`` (and the card on file declines until a payment
        succeeds). ``action_required``: an open invoice, ``past_due``,
        ``invoice.payment_action_required``. A subscription set to cancel at the period's end
        ends instead (``customer.subscription.deleted``; returns ``None``). Returns the invoice."""
        with self._lock:
            sub = self._control_subscription(subscription_id)
            if sub["cancel_at_period_end"]:
                self._end(sub, at=sub["current_period_end"])
                return None
            before = _public(sub)
            interval, count = (
                self._item(sub)["price"]["recurring"]["interval"],
                self._item(sub)["price"]["recurring"]["interval_count"],
            )
            step, anchor = sub["_cycles"], sub["billing_cycle_anchor"]
            start, end = (
                _shift(anchor, interval, step * count),
                _shift(anchor, interval, (step + 1) * count),
            )
            looked_back = (sub["current_period_start"], sub["current_period_end"])
            sub["_cycles"] = step + 1
            self._set_period(sub, start, end)
            if sub["status"] == "trialing":
                sub["status"] = "active"
            invoice = self._new_invoice(
                sub, "subscription_cycle", [self._line(sub, start, end)], looked_back
            )
            paid = self._collect(
                invoice,
                sub,
                succeed=succeed and not action_required,
                action_required=action_required,
            )
            if paid:
                self._emit_updated(sub, before)
                self._emit("invoice.paid", invoice)
            else:
                self._emit(
                    "invoice.payment_action_required"
                    if action_required
                    else "invoice.payment_failed",
                    invoice,
                )
                self._emit_updated(sub, before)
            return _public(invoice)

    def fail_invoice(self, subscription_id: str) -> dict[str, Any] | None:
        """The subscription's renewal fails: ``advance(subscription_id, succeed=False)``."""
        return self.advance(subscription_id, succeed=False)

    def pay_invoice(self, invoice_id: str, succeed: bool = True) -> dict[str, Any]:
        """Try an open invoice again, as Stripe's retries do: ``invoice.paid`` (and the
        subscription back to ``active``) or ``invoice.payment_failed``."""
        with self._lock:
            invoice = self._objects.get(invoice_id)
            if invoice is None or invoice["object"] != "invoice":
                raise KeyError(f"no such invoice: {invoice_id}")
            if invoice["status"] != "open":
                raise ValueError(f"{invoice_id} is {invoice['status']}, not open")
            self._retry_invoice(invoice, succeed)
            return _public(invoice)

    def trial_will_end(self, subscription_id: str) -> dict[str, Any]:
        """Send ``customer.subscription.trial_will_end`` (Stripe sends it three days before)."""
        with self._lock:
            sub = self._control_subscription(subscription_id)
            if sub["status"] != "trialing":
                raise ValueError(f"{subscription_id} is {sub['status']}, not trialing")
            return _public(self._emit("customer.subscription.trial_will_end", sub))

    def cancel_now(self, subscription_id: str) -> dict[str, Any]:
        """Cancel at once, as ``DELETE /v1/subscriptions/{id}`` does."""
        with self._lock:
            sub = self._control_subscription(subscription_id)
            self._end(sub)
            return _public(sub)

    def down(self, requests: int | bool = True, how: str = "error") -> None:
        """An outage of the API (``/v1``): the next ``requests`` requests (``True``: until
        ``up()``) get a 500 ``api_error`` (``how="error"``), a 503 (``"unavailable"``) or a
        connection cut halfway through the answer (``"drop"``)."""
        if how not in _OUTAGES:
            raise ValueError(f"how must be one of {', '.join(_OUTAGES)}")
        with self._lock:
            self._down_left = math.inf if requests is True else int(requests)
            self._down_how = how

    def up(self) -> None:
        with self._lock:
            self._down_left = 0

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event so far, oldest first."""
        with self._lock:
            return [_public(self._objects[e]) for e in self._events]

    @property
    def held(self) -> list[str]:
        """Ids of the events waiting for ``flush()`` (``webhook_auto=False``)."""
        with self._lock:
            return list(self._held)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every API request so far, without its key."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def deliveries(self) -> list[Delivery]:
        """Every attempt at posting an event to the webhook URL, in order."""
        with self._lock:
            return list(self._deliveries)

    def flush(self, timeout: float = 10.0) -> list[Delivery]:
        """Send the held events, then wait until every delivery (with its retries) is done;
        returns the attempts made meanwhile."""
        with self._lock:
            start = len(self._deliveries)
            held, self._held = self._held, []
            for event_id in held:
                self._push(event_id)
        self.wait_idle(timeout)
        with self._lock:
            return self._deliveries[start:]

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until nothing is queued or being posted."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._outbox or self._sending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{len(self._outbox) + self._sending} webhook deliveries still pending"
                    )
                self._wake.wait(left)

    def deliver(
        self,
        events: list[str | dict[str, Any]],
        order: str = "given",
        *,
        seed: int | None = None,
        secret: str | None = None,
        age_seconds: int = 0,
        wait: bool = True,
    ) -> list[Delivery]:
        """Post the given events (ids or event objects) again, in ``order`` (``"given"``,
        ``"reverse"`` or ``"shuffle"`` with ``seed``); each keeps its id and is freshly signed.
        ``secret`` signs with another secret, ``age_seconds`` with a timestamp that long ago
        (neither is retried). Held events sent this way are no longer held."""
        ids = [e["id"] if isinstance(e, dict) else e for e in events]
        if order == "reverse":
            ids.reverse()
        elif order == "shuffle":
            random.Random(seed).shuffle(ids)  # noqa: S311 - test ordering, not security
        elif order != "given":
            raise ValueError("order must be given, reverse or shuffle")
        with self._lock:
            if not self.webhook_url:
                raise ValueError("no webhook_url is configured")
            for event_id in ids:
                if event_id not in self._objects or self._objects[event_id]["object"] != "event":
                    raise KeyError(f"no such event: {event_id}")
            start = len(self._deliveries)
            self._held = [e for e in self._held if e not in ids]
            for event_id in ids:
                self._push(
                    event_id,
                    secret=secret,
                    age=int(age_seconds),
                    retry=secret is None and not age_seconds,
                )
        if not wait:
            return []
        self.wait_idle()
        with self._lock:
            return self._deliveries[start:]

    def redeliver(
        self, event_id: str, *, secret: str | None = None, wait: bool = True
    ) -> list[Delivery]:
        """Post an event again: the same id and payload, a fresh signature."""
        return self.deliver([event_id], secret=secret, wait=wait)

    def deliver_stale(
        self, event_id: str, age_seconds: int = 600, *, wait: bool = True
    ) -> list[Delivery]:
        """Post an event signed ``age_seconds`` ago (the SDK's tolerance is 300 seconds)."""
        return self.deliver([event_id], age_seconds=age_seconds, wait=wait)

    # --- the API ------------------------------------------------------------------------------

    async def _api(self, request: Request) -> Response:
        request_id = _id("req_", 14)
        raw = await request.body()
        pairs = parse_qsl(request.url.query, keep_blank_values=True)
        content_type = request.headers.get("content-type", "")
        idempotency_key = (
            request.headers.get("idempotency-key") if request.method == "POST" else None
        )
        headers = {
            "Request-Id": request_id,
            "Stripe-Version": request.headers.get("stripe-version") or self.api_version,
        }
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        record = RecordedRequest(
            request_id, request.method, request.url.path, {}, idempotency_key=idempotency_key
        )
        with self._lock:
            self._requests.append(record)
            if self._down_left:
                self._down_left -= 1
                record.outage = self._down_how
                outage = _OUTAGES[self._down_how]
                if outage is None:
                    return _Cut(request_id)
                status, message = outage
                record.status = status
                return self._json(
                    status, StripeError(status, message, type="api_error").body(), headers
                )
            try:
                self._authenticate(request.headers.get("authorization"))
                if raw and "json" in content_type:
                    raise StripeError(
                        400,
                        f"Invalid request: unsupported Content-Type {content_type}. Send parameters form-encoded.",
                    )
                if raw:
                    pairs += parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
                record.params = parse_form(pairs)
            except StripeError as exc:
                record.status = exc.status
                return self._json(exc.status, exc.body(), headers)
            fingerprint = json.dumps([request.url.path, sorted(pairs)])
            saved = self._idempotent.get(idempotency_key) if idempotency_key else None
            if saved is not None:
                record.replayed = True
                if saved.fingerprint != fingerprint:
                    error = StripeError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters they were "
                        f"first used with. Try using a key other than '{idempotency_key}' if you meant to "
                        "execute a different request.",
                        type="idempotency_error",
                    )
                    record.status = 400
                    return self._json(400, error.body(), headers)
                record.status = saved.status
                replay = {
                    **headers,
                    "Idempotent-Replayed": "true",
                    "Original-Request": saved.request_id,
                }
                return Response(saved.body, saved.status, replay, media_type="application/json")
            self._context = {"id": request_id, "idempotency_key": idempotency_key}
            try:
                status, body = (
                    200,
                    self._route(request.method, request.url.path, copy.deepcopy(record.params)),
                )
            except StripeError as exc:
                status, body = exc.status, exc.body()
            finally:
                self._context = {"id": None, "idempotency_key": None}
            record.status = status
            response = self._json(status, body, headers)
            if idempotency_key and status in (200, 402):
                self._idempotent[idempotency_key] = _Saved(
                    fingerprint, status, response.body, request_id
                )
            return response

    @staticmethod
    def _json(status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
        return Response(json.dumps(body, indent=2), status, headers, media_type="application/json")

    def _authenticate(self, header: str | None) -> None:
        scheme, _, value = (header or "").partition(" ")
        key = value.strip() if scheme.lower() == "bearer" else ""
        if scheme.lower() == "basic":
            try:
                key = base64.b64decode(value).decode().partition(":")[0]
            except ValueError:
                key = ""
        if not key:
            raise StripeError(401, _NO_KEY)
        expected = key == self.api_key if self.api_key else re.fullmatch(r"(sk|rk)_test_\w+", key)
        if not expected:
            prefix = "_".join(key.split("_")[:2]) + "_" if key.count("_") >= 2 else ""
            masked = prefix + "*" * max(0, len(key) - len(prefix) - 4) + key[-4:]
            raise StripeError(401, f"Invalid API Key provided: {masked}")

    def _route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        for verb, pattern, name in _API_ROUTES:
            match = pattern.fullmatch(path)
            if match and verb == method:
                expand = _strings(params.pop("expand", []), "expand")
                result = getattr(self, name)(params, *match.groups())
                for path_ in expand:
                    parts = path_.split(".")
                    if len(parts) > 4:
                        raise _invalid(
                            "expand",
                            f"You cannot expand more than 4 levels of a property. Property: {path_}",
                        )
                    self._expand(result, parts, path_)
                return result
        raise StripeError(
            404,
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can "
            "help at https://support.stripe.com/.",
        )

    def _expand(self, node: Any, parts: list[str], path: str) -> None:
        if isinstance(node, list):
            for item in node:
                self._expand(item, parts, path)
            return
        if not isinstance(node, dict):
            return
        key, rest = parts[0], parts[1:]
        if key == "line_items" and node.get("object") == "checkout.session":
            node[key] = self._line_items(self._objects[node["id"]])
        elif key not in node or key in ("id", "object"):
            raise _invalid("expand", f"This property cannot be expanded ({path}).")
        child = node[key]
        if isinstance(child, str):
            target = self._objects.get(child)
            if target is None:
                raise _invalid("expand", f"This property cannot be expanded ({path}).")
            child = node[key] = _public(target)
        elif child is not None and not isinstance(child, (dict, list)):
            raise _invalid("expand", f"This property cannot be expanded ({path}).")
        if rest:
            self._expand(child, rest, path)

    # --- storage --------------------------------------------------------------------------------

    def _put(self, obj: dict[str, Any]) -> dict[str, Any]:
        self._seq += 1
        obj["_seq"] = self._seq
        self._objects[obj["id"]] = obj
        return obj

    def _find(
        self, object_id: Any, kind: str, *, param: str = "id", status: int = 404, live: bool = False
    ) -> dict[str, Any]:
        obj = self._objects.get(object_id) if isinstance(object_id, str) else None
        if obj is None or obj["object"] != kind or (live and obj.get("deleted")):
            noun = _NOUNS.get(kind, kind)
            raise StripeError(
                status, f"No such {noun}: '{object_id}'", code="resource_missing", param=param
            )
        return obj

    def _all(self, kind: str) -> list[dict[str, Any]]:
        """Every object of a kind, newest first."""
        return sorted(
            (o for o in self._objects.values() if o["object"] == kind),
            key=lambda o: o["_seq"],
            reverse=True,
        )

    def _page(
        self, items: list[dict[str, Any]], params: dict[str, Any], url: str, kind: str
    ) -> dict[str, Any]:
        limit = _int(params.get("limit", 10), "limit", 1, 100)
        after, before = params.get("starting_after"), params.get("ending_before")
        if after and before:
            raise StripeError(
                400, "You may only specify one of these parameters: ending_before, starting_after."
            )
        if after or before:
            param = "starting_after" if after else "ending_before"
            cursor = self._find(after or before, kind, param=param, status=400)["_seq"]
            if after:
                rest = [i for i in items if i["_seq"] < cursor]
                page = rest[:limit]
            else:
                rest = [i for i in items if i["_seq"] > cursor]
                page = rest[-limit:]
            more = len(rest) > limit
        else:
            page, more = items[:limit], len(items) > limit
        return {"object": "list", "data": [_public(i) for i in page], "has_more": more, "url": url}

    def _control_subscription(self, subscription_id: str) -> dict[str, Any]:
        sub = self._objects.get(subscription_id)
        if sub is None or sub["object"] != "subscription":
            raise KeyError(f"no such subscription: {subscription_id}")
        if sub["status"] in _ENDED:
            raise ValueError(f"{subscription_id} is {sub['status']}")
        return sub

    # --- events -----------------------------------------------------------------------------

    def _emit(
        self, type_: str, obj: dict[str, Any], previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"object": _public(obj)}
        if previous:
            data["previous_attributes"] = previous
        event = self._put({
            "id": _id("evt_"), "object": "event", "api_version": self.api_version, "created": _now(),
            "data": data, "livemode": False, "pending_webhooks": 1 if self.webhook_url else 0,
            "request": dict(self._context), "type": type_,
        })  # fmt: skip
        self._events.append(event["id"])
        if self.webhook_url:
            if self.webhook_auto:
                self._push(event["id"])
            else:
                self._held.append(event["id"])
        return event

    def _emit_updated(self, sub: dict[str, Any], before: dict[str, Any]) -> None:
        after = _public(sub)
        previous = {k: v for k, v in before.items() if after.get(k) != v}
        if previous:
            self._emit("customer.subscription.updated", sub, previous)

    # --- webhook delivery -------------------------------------------------------------------

    def _push(
        self,
        event_id: str,
        *,
        attempt: int = 1,
        delay: float = 0.0,
        secret: str | None = None,
        age: int = 0,
        retry: bool = True,
    ) -> None:
        self._seq += 1
        heapq.heappush(
            self._outbox,
            _Job(time.monotonic() + delay, self._seq, event_id, attempt, secret, age, retry),
        )
        if self._worker is None or not self._worker.is_alive():
            self._stopping = False
            self._worker = threading.Thread(
                target=self._deliver_loop, name="fake-stripe-webhooks", daemon=True
            )
            self._worker.start()
        self._wake.notify_all()

    def _next_job(self) -> _Job | None:
        while not self._stopping:
            if self._outbox:
                wait = self._outbox[0].due - time.monotonic()
                if wait <= 0:
                    return heapq.heappop(self._outbox)
                self._wake.wait(wait)
            else:
                self._wake.wait()
        return None

    def _deliver_loop(self) -> None:
        with httpx.Client(timeout=self.webhook_timeout) as client:
            while True:
                with self._lock:
                    job = self._next_job()
                    if job is None:
                        return
                    event, url = self._objects.get(job.event_id), self.webhook_url
                    if event is None or not url:
                        self._wake.notify_all()
                        continue
                    payload = json.dumps(_public(event), indent=2)
                    secret = job.secret or self.webhook_secret
                    generation = self._generation
                    self._sending += 1
                signed_at = _now() - job.age
                status, error = None, None
                try:
                    answer = client.post(
                        url,
                        content=payload.encode(),
                        headers={
                            "Content-Type": "application/json; charset=utf-8",
                            "Stripe-Signature": _sign(secret, signed_at, payload),
                            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                            "Cache-Control": "no-cache",
                        },
                    )
                    status = answer.status_code
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                with self._lock:
                    self._sending -= 1
                    self._wake.notify_all()
                    if generation != self._generation:  # reset() meanwhile
                        continue
                    delivery = Delivery(
                        job.event_id, event["type"], job.attempt, status, signed_at, error
                    )
                    self._deliveries.append(delivery)
                    if delivery.ok:
                        event["pending_webhooks"] = 0
                    elif job.retry and job.attempt <= len(self.webhook_retries):
                        delay = self.webhook_retries[job.attempt - 1]
                        self._push(job.event_id, attempt=job.attempt + 1, delay=delay)

    # --- prices, customers, payment methods -----------------------------------------------------

    def _get_price(self, params: dict[str, Any], price_id: str) -> dict[str, Any]:
        _allow(params)
        return _public(self._find(price_id, "price"))

    def _list_prices(self, params: dict[str, Any]) -> dict[str, Any]:
        _allow(params, "active", "lookup_keys", "product", "type", "currency", *_PAGING)
        items = self._all("price")
        if "active" in params:
            active = _bool(params["active"], "active")
            items = [p for p in items if p["active"] == active]
        if "lookup_keys" in params:
            keys = _strings(params["lookup_keys"], "lookup_keys")
            items = [p for p in items if p["lookup_key"] in keys]
        for key in ("product", "type", "currency"):
            if key in params:
                items = [p for p in items if p[key] == params[key]]
        return self._page(items, params, "/v1/prices", "price")

    def _new_customer(self, email: str | None = None, name: str | None = None) -> dict[str, Any]:
        return self._put({
            "id": _id("cus_", 14), "object": "customer", "address": None, "balance": 0, "created": _now(),
            "currency": None, "default_source": None, "delinquent": False, "description": None,
            "email": email, "invoice_prefix": "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8)),
            "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None, "rendering_options": None},
            "livemode": False, "metadata": {}, "name": name, "phone": None, "preferred_locales": [],
            "shipping": None, "tax_exempt": "none", "test_clock": None, "_invoices": 0,
        })  # fmt: skip

    def _create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        _allow(params, *_CUSTOMER_FIELDS)
        customer = self._new_customer()
        self._change_customer(customer, params)
        return _public(customer)

    def _get_customer(self, params: dict[str, Any], customer_id: str) -> dict[str, Any]:
        _allow(params)
        return _public(self._find(customer_id, "customer"))

    def _update_customer(self, params: dict[str, Any], customer_id: str) -> dict[str, Any]:
        _allow(params, *_CUSTOMER_FIELDS)
        customer = self._find(customer_id, "customer", live=True)
        self._change_customer(customer, params)
        return _public(customer)

    def _change_customer(self, customer: dict[str, Any], params: dict[str, Any]) -> None:
        changes: dict[str, Any] = {}
        for key in ("email", "name", "description", "phone"):
            if key in params:
                changes[key] = _text(params, key) or None
        if changes.get("email") and not re.fullmatch(r"[^@\s]+@[^@\s]+", changes["email"]):
            raise _invalid("email", f"Invalid email address: {changes['email']}")
        metadata = dict(customer["metadata"])
        if "metadata" in params:
            _set_metadata(metadata, params["metadata"])
        settings = dict(customer["invoice_settings"])
        if "invoice_settings" in params:
            given = _dict(params["invoice_settings"], "invoice_settings")
            _allow(given, "default_payment_method", prefix="invoice_settings")
            method_id = given.get("default_payment_method") or None
            if method_id is not None:
                param = "invoice_settings[default_payment_method]"
                method = self._find(method_id, "payment_method", param=param, status=400)
                if method["customer"] != customer["id"]:
                    raise _invalid(
                        param,
                        f"The customer does not have a payment method with the ID {method_id}. The payment method must be attached to the customer.",
                    )
            settings["default_payment_method"] = method_id
        customer.update(changes, metadata=metadata, invoice_settings=settings)

    def _delete_customer(self, params: dict[str, Any], customer_id: str) -> dict[str, Any]:
        _allow(params)
        customer = self._find(customer_id, "customer", live=True)
        for sub in self._all("subscription"):
            if sub["customer"] == customer_id and sub["status"] not in _ENDED:
                self._end(sub)
        self._objects[customer_id] = {
            "id": customer_id,
            "object": "customer",
            "deleted": True,
            "_seq": customer["_seq"],
        }
        self._emit("customer.deleted", customer)
        return _public(self._objects[customer_id])

    def _get_payment_method(self, params: dict[str, Any], method_id: str) -> dict[str, Any]:
        _allow(params)
        return _public(self._find(method_id, "payment_method"))

    def _new_payment_method(
        self, customer: dict[str, Any], card: _Card, name: str | None, email: str | None
    ) -> dict[str, Any]:
        brand = _brand(card.number)
        address = dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))
        return self._put({
            "id": _id("pm_"), "object": "payment_method", "allow_redisplay": "always",
            "billing_details": {"address": address, "email": email, "name": name, "phone": None},
            "card": {
                "brand": brand, "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
                "country": "US", "display_brand": brand, "exp_month": card.exp_month, "exp_year": card.exp_year,
                "fingerprint": hashlib.sha256(card.number.encode()).hexdigest()[:16], "funding": "credit",
                "last4": card.number[-4:], "networks": {"available": [brand], "preferred": None}, "wallet": None,
            },
            "created": _now(), "customer": customer["id"], "livemode": False, "metadata": {}, "type": "card",
            "_declines": False,
        })  # fmt: skip

    def _default_method(self, customer_id: str) -> dict[str, Any] | None:
        customer = self._objects.get(customer_id) or {}
        method_id = (customer.get("invoice_settings") or {}).get("default_payment_method")
        return self._objects.get(method_id) if method_id else None

    # --- checkout and the portal (API) ----------------------------------------------------------

    def _create_checkout(self, params: dict[str, Any]) -> dict[str, Any]:
        _allow(
            params, "mode", "customer", "customer_email", "line_items", "success_url", "cancel_url",
            "client_reference_id", "metadata", "subscription_data", "allow_promotion_codes", "payment_method_types",
        )  # fmt: skip
        mode = _text(params, "mode", required=True)
        if mode != "subscription":
            raise _invalid("mode", f"This server supports mode=subscription only, not {mode}.")
        if "customer" in params and "customer_email" in params:
            raise StripeError(
                400, "You may only specify one of these parameters: customer, customer_email."
            )
        customer = None
        if "customer" in params:
            customer = self._find(
                params["customer"], "customer", param="customer", status=400, live=True
            )
        email = _text(params, "customer_email")
        success_url = _url(params, "success_url", required=True)
        cancel_url = _url(params, "cancel_url")
        methods = _strings(params.get("payment_method_types", ["card"]), "payment_method_types")
        if set(methods) != {"card"}:
            raise _invalid("payment_method_types", "This server supports card payments only.")
        items = params.get("line_items")
        if not items:
            raise _missing("line_items")
        if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
            raise _invalid(
                "line_items", "This server supports exactly one line item, line_items[0]."
            )
        _allow(items[0], "price", "quantity", prefix="line_items[0]")
        if "price" not in items[0]:
            raise _missing("line_items[0][price]")
        price = self._find(items[0]["price"], "price", param="line_items[0][price]", status=400)
        if not price["active"]:
            raise _invalid(
                "line_items[0][price]",
                "The price specified is inactive. This field only accepts active prices.",
            )
        if price["recurring"] is None:
            raise _invalid(
                "line_items[0][price]",
                "You must provide at least one recurring price in `subscription` mode when using prices.",
            )
        if "quantity" not in items[0]:
            raise _missing("line_items[0][quantity]")
        quantity = _int(items[0]["quantity"], "line_items[0][quantity]", 1, 999_999)
        sub_data = _dict(params.get("subscription_data", {}), "subscription_data")
        _allow(sub_data, "metadata", "trial_period_days", prefix="subscription_data")
        sub_metadata: dict[str, str] = {}
        if "metadata" in sub_data:
            _set_metadata(sub_metadata, sub_data["metadata"], "subscription_data[metadata]")
        trial_days = 0
        if "trial_period_days" in sub_data:
            trial_days = _int(
                sub_data["trial_period_days"], "subscription_data[trial_period_days]", 1, 730
            )
        metadata: dict[str, str] = {}
        if "metadata" in params:
            _set_metadata(metadata, params["metadata"])
        promotion_codes = (
            _bool(params["allow_promotion_codes"], "allow_promotion_codes")
            if "allow_promotion_codes" in params
            else None
        )
        now, session_id = _now(), _id("cs_test_", 58)
        amount = 0 if trial_days else price["unit_amount"] * quantity
        session = self._put({
            "id": session_id, "object": "checkout.session", "allow_promotion_codes": promotion_codes,
            "amount_subtotal": amount, "amount_total": amount, "cancel_url": cancel_url,
            "client_reference_id": _text(params, "client_reference_id"), "created": now, "currency": price["currency"],
            "customer": customer["id"] if customer else None, "customer_details": None,
            "customer_email": email, "expires_at": now + 86400, "invoice": None, "livemode": False,
            "metadata": metadata, "mode": "subscription", "payment_method_types": ["card"],
            "payment_status": "unpaid", "status": "open", "subscription": None, "success_url": success_url,
            "ui_mode": "hosted", "url": f"{self.base_url}/c/pay/{session_id}",
            "_price": price["id"], "_quantity": quantity, "_trial_days": trial_days,
            "_subscription_metadata": sub_metadata, "_line_item": _id("li_"),
        })  # fmt: skip
        return _public(session)

    def _get_checkout(self, params: dict[str, Any], session_id: str) -> dict[str, Any]:
        _allow(params)
        return _public(self._find(session_id, "checkout.session"))

    def _line_items(self, session: dict[str, Any]) -> dict[str, Any]:
        price = self._objects[session["_price"]]
        amount = price["unit_amount"] * session["_quantity"]
        item = {
            "id": session["_line_item"], "object": "item", "amount_discount": 0, "amount_subtotal": amount,
            "amount_tax": 0, "amount_total": amount, "currency": price["currency"],
            "description": self._product(price)["name"], "price": _public(price), "quantity": session["_quantity"],
        }  # fmt: skip
        return {
            "object": "list",
            "data": [item],
            "has_more": False,
            "url": f"/v1/checkout/sessions/{session['id']}/line_items",
        }

    def _create_portal(self, params: dict[str, Any]) -> dict[str, Any]:
        _allow(params, "customer", "return_url")
        if "customer" not in params:
            raise _missing("customer")
        customer = self._find(
            params["customer"], "customer", param="customer", status=400, live=True
        )
        session_id = _id("bps_")
        session = self._put({
            "id": session_id, "object": "billing_portal.session", "configuration": "bpc_loopbackdefault",
            "created": _now(), "customer": customer["id"], "flow": None, "livemode": False, "locale": None,
            "on_behalf_of": None, "return_url": _url(params, "return_url"),
            "url": f"{self.base_url}/p/session/{session_id}",
        })  # fmt: skip
        return _public(session)

    def _complete_checkout(
        self, session: dict[str, Any], card: _Card, email: str | None, name: str | None
    ) -> None:
        price = self._objects[session["_price"]]
        now = _now()
        customer = self._objects.get(session["customer"] or "")
        if customer is None or customer.get("deleted"):
            customer = self._new_customer(email=email, name=name)
        method = self._new_payment_method(customer, card, name, email or customer["email"])
        customer["invoice_settings"]["default_payment_method"] = method["id"]
        customer["currency"] = price["currency"]
        sub = self._new_subscription(
            customer,
            price,
            session["_quantity"],
            session["_subscription_metadata"],
            session["_trial_days"],
            now,
        )
        if sub["status"] == "trialing":
            product = self._product(price)["name"]
            lines = [
                self._line(
                    sub, now, sub["trial_end"], amount=0, description=f"Trial period for {product}"
                )
            ]
        else:
            lines = [self._line(sub, sub["current_period_start"], sub["current_period_end"])]
        invoice = self._new_invoice(sub, "subscription_create", lines, (now, now))
        self._collect(invoice, sub, succeed=True)
        details = {
            "address": None,
            "email": email or customer["email"],
            "name": name,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        }
        session.update(
            status="complete", payment_status="paid" if invoice["amount_due"] else "no_payment_required",
            customer=customer["id"], customer_details=details, subscription=sub["id"], invoice=invoice["id"], url=None,
        )  # fmt: skip
        self._emit("checkout.session.completed", session)
        self._emit("customer.subscription.created", sub)
        self._emit("invoice.paid", invoice)

    # --- subscriptions ---------------------------------------------------------------------------

    def _new_subscription(
        self, customer, price, quantity, metadata, trial_days, now
    ) -> dict[str, Any]:
        sub_id, start = _id("sub_"), now
        if trial_days:  # the trial is a period of its own; the paid periods count from its end
            end = anchor = now + trial_days * 86400
            cycles, status = 0, "trialing"
        else:
            anchor, end = (
                now,
                _shift(now, price["recurring"]["interval"], price["recurring"]["interval_count"]),
            )
            cycles, status = 1, "active"
        item = {
            "id": _id("si_", 14), "object": "subscription_item", "created": now, "current_period_end": end,
            "current_period_start": start, "metadata": {}, "price": _public(price), "quantity": quantity,
            "subscription": sub_id,
        }  # fmt: skip
        return self._put({
            "id": sub_id, "object": "subscription", "billing_cycle_anchor": anchor, "cancel_at": None,
            "cancel_at_period_end": False, "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically", "created": now, "currency": price["currency"],
            "current_period_end": end, "current_period_start": start, "customer": customer["id"],
            "default_payment_method": None, "description": None, "ended_at": None,
            "items": {"object": "list", "data": [item], "has_more": False, "total_count": 1, "url": f"/v1/subscription_items?subscription={sub_id}"},
            "latest_invoice": None, "livemode": False, "metadata": dict(metadata), "pause_collection": None,
            "start_date": now, "status": status, "trial_end": end if trial_days else None,
            "trial_start": start if trial_days else None, "_cycles": cycles,
        })  # fmt: skip

    @staticmethod
    def _item(sub: dict[str, Any]) -> dict[str, Any]:
        return sub["items"]["data"][0]

    @staticmethod
    def _set_period(sub: dict[str, Any], start: int, end: int) -> None:
        sub["current_period_start"] = sub["items"]["data"][0]["current_period_start"] = start
        sub["current_period_end"] = sub["items"]["data"][0]["current_period_end"] = end

    def _get_subscription(self, params: dict[str, Any], sub_id: str) -> dict[str, Any]:
        _allow(params)
        return _public(self._find(sub_id, "subscription"))

    def _list_subscriptions(self, params: dict[str, Any]) -> dict[str, Any]:
        _allow(params, "customer", "price", "status", *_PAGING)
        items = self._all("subscription")
        if "customer" in params:
            items = [s for s in items if s["customer"] == params["customer"]]
        if "price" in params:
            items = [s for s in items if self._item(s)["price"]["id"] == params["price"]]
        status = params.get("status")
        if status is not None and status not in _STATUSES:
            raise _invalid("status", f"Invalid status: must be one of {', '.join(_STATUSES)}")
        if status is None:
            items = [s for s in items if s["status"] not in _ENDED]
        elif status == "ended":
            items = [s for s in items if s["status"] in _ENDED]
        elif status != "all":
            items = [s for s in items if s["status"] == status]
        return self._page(items, params, "/v1/subscriptions", "subscription")

    def _update_subscription(self, params: dict[str, Any], sub_id: str) -> dict[str, Any]:
        sub = self._find(sub_id, "subscription")
        if sub["status"] in _ENDED and set(params) - {"metadata", "cancellation_details"}:
            raise StripeError(
                400,
                "A canceled subscription can only update its cancellation_details and metadata.",
            )
        _allow(
            params, "cancel_at_period_end", "metadata", "items", "proration_behavior",
            "payment_behavior", "cancellation_details", "description",
        )  # fmt: skip
        proration = params.get("proration_behavior", "create_prorations")
        if proration not in ("create_prorations", "none", "always_invoice"):
            raise _invalid(
                "proration_behavior",
                "Invalid proration_behavior: must be one of always_invoice, create_prorations, or none",
            )
        payment = params.get("payment_behavior", "allow_incomplete")
        behaviours = (
            "allow_incomplete",
            "default_incomplete",
            "error_if_incomplete",
            "pending_if_incomplete",
        )
        if payment not in behaviours:  # only error_if_incomplete differs here: a 402, no change
            raise _invalid(
                "payment_behavior",
                f"Invalid payment_behavior: must be one of {', '.join(behaviours)}",
            )
        item = self._item(sub)
        price, quantity = self._objects[item["price"]["id"]], item["quantity"]
        if "items" in params:
            items = params["items"]
            if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
                raise _invalid(
                    "items", "This server keeps one item per subscription: send items[0] only."
                )
            _allow(items[0], "id", "price", "quantity", prefix="items[0]")
            if items[0].get("id") != item["id"]:
                raise _invalid(
                    "items[0][id]",
                    f"Pass the subscription's item as items[0][id] ({item['id']}); this server keeps one item per subscription.",
                )
            if "price" in items[0]:
                price = self._find(items[0]["price"], "price", param="items[0][price]", status=400)
            if "quantity" in items[0]:
                quantity = _int(items[0]["quantity"], "items[0][quantity]", 1, 999_999)
        metadata = dict(sub["metadata"])
        if "metadata" in params:
            _set_metadata(metadata, params["metadata"])
        details = dict(sub["cancellation_details"])
        if "cancellation_details" in params:
            given = _dict(params["cancellation_details"], "cancellation_details")
            _allow(given, "comment", "feedback", prefix="cancellation_details")
            details.update({k: v or None for k, v in given.items()})
        cancel = (
            _bool(params["cancel_at_period_end"], "cancel_at_period_end")
            if "cancel_at_period_end" in params
            else None
        )
        before = _public(sub)
        invoice_event = None
        if (price["id"], quantity) != (item["price"]["id"], item["quantity"]):
            invoice_event = self._change_price(sub, price, quantity, proration, payment)
        if cancel is not None:
            self._set_cancel(sub, cancel)
        if "description" in params:
            sub["description"] = _text(params, "description") or None
        sub.update(metadata=metadata, cancellation_details=details)
        self._emit_updated(sub, before)
        if invoice_event:
            self._emit(*invoice_event)
        return _public(sub)

    def _cancel_subscription(self, params: dict[str, Any], sub_id: str) -> dict[str, Any]:
        _allow(params, "invoice_now", "prorate", "cancellation_details")
        for flag in ("invoice_now", "prorate"):
            if flag in params:
                _bool(params[flag], flag)  # nothing metered or prorated is left to invoice here
        sub = self._find(sub_id, "subscription")
        if sub["status"] in _ENDED:
            raise StripeError(
                404, f"No such subscription: '{sub_id}'", code="resource_missing", param="id"
            )
        if "cancellation_details" in params:
            given = _dict(params["cancellation_details"], "cancellation_details")
            _allow(given, "comment", "feedback", prefix="cancellation_details")
            sub["cancellation_details"].update({k: v or None for k, v in given.items()})
        self._end(sub)
        return _public(sub)

    def _set_cancel(self, sub: dict[str, Any], cancel: bool) -> None:
        sub["cancel_at_period_end"] = cancel
        sub["cancel_at"] = sub["current_period_end"] if cancel else None
        sub["canceled_at"] = _now() if cancel else None
        sub["cancellation_details"]["reason"] = "cancellation_requested" if cancel else None

    def _end(self, sub: dict[str, Any], at: int | None = None) -> None:
        now = _now()
        sub.update(status="canceled", canceled_at=sub["canceled_at"] or now, ended_at=at or now)
        if at is None:
            sub.update(cancel_at_period_end=False, cancel_at=None)
        sub["cancellation_details"]["reason"] = "cancellation_requested"
        self._emit("customer.subscription.deleted", sub)

    def _change_price(
        self, sub, price, quantity, proration: str, payment: str
    ) -> tuple[str, dict[str, Any]] | None:
        """Put the subscription on ``price``; returns the invoice event to send, if it invoiced."""
        item = self._item(sub)
        old, old_quantity = item["price"], item["quantity"]
        param = "items[0][price]"
        if not price["active"]:
            raise _invalid(
                param, "The price specified is inactive. This field only accepts active prices."
            )
        if price["recurring"] is None:
            raise _invalid(
                param,
                "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.",
            )
        if price["currency"] != sub["currency"]:
            raise _invalid(
                param,
                f"The price specified uses currency `{price['currency']}`, but this subscription uses `{sub['currency']}`.",
            )
        now = _now()
        start, end = sub["current_period_start"], sub["current_period_end"]
        new_cycle = (price["recurring"]["interval"], price["recurring"]["interval_count"]) != (
            old["recurring"]["interval"],
            old["recurring"]["interval_count"],
        )
        trialing = sub["status"] == "trialing"
        remaining = max(0.0, min(1.0, (end - now) / max(1, end - start)))
        lines: list[dict[str, Any]] = []
        if not trialing and (new_cycle or proration == "always_invoice"):
            if proration != "none":
                credit = -round(old["unit_amount"] * old_quantity * remaining)
                lines.append(self._line(sub, now, end, amount=credit, price=old, quantity=old_quantity, proration=True,
                                        description=f"Unused time on {self._label(old)} after {_date(now)}"))  # fmt: skip
            if new_cycle:
                new_end = _shift(
                    now, price["recurring"]["interval"], price["recurring"]["interval_count"]
                )
                lines.append(self._line(sub, now, new_end, price=price, quantity=quantity))
            elif proration != "none":
                lines.append(self._line(sub, now, end, amount=round(price["unit_amount"] * quantity * remaining),
                                        price=price, quantity=quantity, proration=True,
                                        description=f"Remaining time on {self._label(price)} after {_date(now)}"))  # fmt: skip
        method = self._default_method(sub["customer"])
        declines = method is None or method["_declines"]
        if (
            lines
            and sum(line["amount"] for line in lines) > 0
            and declines
            and payment == "error_if_incomplete"
        ):
            raise StripeError(
                402,
                "Your card was declined.",
                type="card_error",
                code="card_declined",
                decline_code="generic_decline",
            )
        item.update(price=_public(price), quantity=quantity)
        if new_cycle and not trialing:
            sub.update(billing_cycle_anchor=now, _cycles=1)
            self._set_period(
                sub,
                now,
                _shift(now, price["recurring"]["interval"], price["recurring"]["interval_count"]),
            )
            if sub["cancel_at_period_end"]:
                sub["cancel_at"] = sub["current_period_end"]
        if not lines:
            return None
        invoice = self._new_invoice(sub, "subscription_update", lines, (now, now))
        paid = self._collect(invoice, sub, succeed=not declines)
        return ("invoice.paid" if paid else "invoice.payment_failed"), invoice

    # --- invoices ----------------------------------------------------------------------------------

    def _product(self, price: dict[str, Any]) -> dict[str, Any]:
        return self._objects[price["product"]]

    def _label(self, price: dict[str, Any]) -> str:
        if price.get("nickname"):
            return price["nickname"]
        recurring = price["recurring"] or {}
        adjective = {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}.get(
            recurring.get("interval", ""), ""
        )
        if recurring.get("interval_count", 1) != 1:
            adjective = _per(price)
        return f"{self._product(price)['name']} {adjective}".strip()

    def _line(self, sub, start: int, end: int, *, amount: int | None = None, price=None, quantity: int | None = None,
              proration: bool = False, description: str | None = None) -> dict[str, Any]:  # fmt: skip
        item = self._item(sub)
        price = price or item["price"]
        quantity = item["quantity"] if quantity is None else quantity
        if amount is None:
            amount = price["unit_amount"] * quantity
        if description is None:
            interval = price["recurring"]["interval"]
            description = f"{quantity} × {self._product(price)['name']} (at {_money(price['unit_amount'], price['currency'])} / {interval})"
        return {
            "id": _id("il_"), "object": "line_item", "amount": amount, "currency": sub["currency"],
            "description": description, "invoice": None, "livemode": False, "metadata": {},
            "parent": {
                "type": "subscription_item_details", "invoice_item_details": None,
                "subscription_item_details": {"invoice_item": None, "proration": proration, "subscription": sub["id"], "subscription_item": item["id"]},
            },
            "period": {"end": end, "start": start},
            "pricing": {"price_details": {"price": price["id"], "product": price["product"]}, "type": "price_details", "unit_amount_decimal": str(price["unit_amount"])},
            "quantity": quantity,
        }  # fmt: skip

    def _new_invoice(
        self, sub, reason: str, lines: list[dict[str, Any]], period: tuple[int, int]
    ) -> dict[str, Any]:
        customer = self._objects[sub["customer"]]
        customer["_invoices"] = customer.get("_invoices", 0) + 1
        invoice_id, now = _id("in_"), _now()
        total = sum(line["amount"] for line in lines)
        starting_balance = customer["balance"]  # negative: credit the customer has
        due = total + starting_balance
        customer["balance"] = min(0, due)  # what is left of the credit, or the new credit
        for line in lines:
            line["invoice"] = invoice_id
        invoice = self._put({
            "id": invoice_id, "object": "invoice", "account_country": "US", "account_name": self.business_name,
            "amount_due": max(0, due), "amount_paid": 0, "amount_remaining": max(0, due), "attempt_count": 0,
            "attempted": False, "auto_advance": True, "billing_reason": reason,
            "collection_method": "charge_automatically", "created": now, "currency": sub["currency"],
            "customer": customer["id"], "customer_email": customer.get("email"), "customer_name": customer.get("name"),
            "default_payment_method": None, "description": None, "due_date": None, "effective_at": now,
            "ending_balance": customer["balance"],
            "hosted_invoice_url": f"{self.base_url}/i/{invoice_id}", "invoice_pdf": f"{self.base_url}/i/{invoice_id}/pdf",
            "lines": {"object": "list", "data": lines, "has_more": False, "total_count": len(lines), "url": f"/v1/invoices/{invoice_id}/lines"},
            "livemode": False, "metadata": {}, "next_payment_attempt": None,
            "number": f"{customer['invoice_prefix']}-{customer['_invoices']:04d}",
            "parent": {"quote_details": None, "subscription_details": {"metadata": dict(sub["metadata"]), "subscription": sub["id"]}, "type": "subscription_details"},
            "period_end": period[1], "period_start": period[0], "starting_balance": starting_balance, "status": "open",
            "status_transitions": {"finalized_at": now, "marked_uncollectible_at": None, "paid_at": None, "voided_at": None},
            "subscription": sub["id"], "subtotal": total, "total": total,
        })  # fmt: skip
        sub["latest_invoice"] = invoice_id
        return invoice

    def _collect(
        self, invoice, sub, *, succeed: bool, action_required: bool = False, method=None
    ) -> bool:
        """Charge the invoice (to the customer's default card unless ``method``); the
        subscription's status follows. True when paid."""
        now = _now()
        invoice["attempted"] = True
        method = method or self._default_method(invoice["customer"])
        customer = self._objects[invoice["customer"]]
        if invoice["amount_due"] == 0 or (succeed and not action_required):
            if invoice["amount_due"]:
                invoice["attempt_count"] += 1
            invoice.update(
                status="paid",
                amount_paid=invoice["amount_due"],
                amount_remaining=0,
                next_payment_attempt=None,
            )
            invoice["status_transitions"]["paid_at"] = now
            if method is not None and invoice["amount_due"]:
                method["_declines"] = False
            others = [
                i
                for i in self._all("invoice")
                if i["subscription"] == sub["id"] and i["status"] == "open"
            ]
            if sub["status"] not in (*_ENDED, "trialing") and not others:
                sub["status"] = "active"
            if not customer.get("deleted"):
                customer["delinquent"] = any(
                    i["customer"] == customer["id"] and i["status"] == "open"
                    for i in self._all("invoice")
                )
            return True
        invoice["attempt_count"] += 1
        invoice["next_payment_attempt"] = None if action_required else now + 3 * 86400
        if method is not None and not action_required:
            method["_declines"] = True
        if sub["status"] not in _ENDED:
            sub["status"] = "past_due"
        if not customer.get("deleted"):
            customer["delinquent"] = True
        return False

    def _retry_invoice(self, invoice: dict[str, Any], succeed: bool, method=None) -> bool:
        sub = self._objects[invoice["subscription"]]
        before = _public(sub)
        paid = self._collect(invoice, sub, succeed=succeed, method=method)
        self._emit("invoice.paid" if paid else "invoice.payment_failed", invoice)
        self._emit_updated(sub, before)
        return paid

    def _get_invoice(self, params: dict[str, Any], invoice_id: str) -> dict[str, Any]:
        _allow(params)
        return _public(self._find(invoice_id, "invoice"))

    def _list_invoices(self, params: dict[str, Any]) -> dict[str, Any]:
        _allow(params, "customer", "subscription", "status", *_PAGING)
        items = self._all("invoice")
        for key in ("customer", "subscription", "status"):
            if key in params:
                items = [i for i in items if i[key] == params[key]]
        return self._page(items, params, "/v1/invoices", "invoice")

    # --- events (API) -------------------------------------------------------------------------------

    def _get_event(self, params: dict[str, Any], event_id: str) -> dict[str, Any]:
        _allow(params)
        return _public(self._find(event_id, "event"))

    def _list_events(self, params: dict[str, Any]) -> dict[str, Any]:
        _allow(params, "type", "types", "created", *_PAGING)
        if "type" in params and "types" in params:
            raise StripeError(400, "You may only specify one of these parameters: type, types.")
        patterns = (
            _strings(params["types"], "types")
            if "types" in params
            else [params["type"]]
            if "type" in params
            else []
        )
        items = self._all("event")
        if patterns:
            items = [
                e
                for e in items
                if any(
                    e["type"] == p or (p.endswith(".*") and e["type"].startswith(p[:-1]))
                    for p in patterns
                )
            ]
        created = params.get("created")
        if isinstance(created, str):
            items = [e for e in items if e["created"] == _int(created, "created")]
        elif created is not None:
            bounds = _dict(created, "created")
            _allow(bounds, "gt", "gte", "lt", "lte", prefix="created")
            for op, value in bounds.items():
                bound = _int(value, f"created[{op}]")
                items = [e for e in items if _BOUNDS[op](e["created"], bound)]
        return self._page(items, params, "/v1/events", "event")

    # --- pages --------------------------------------------------------------------------------------

    def _render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        page = _PAGES.get_template(template).render(business=self.business_name, **context)
        return HTMLResponse(page, status_code=status)

    def _gone(self, title: str = "This link is not valid", status: int = 404) -> HTMLResponse:
        return self._render(
            "message", status, title=title, text="Ask for a new link and try again."
        )

    @staticmethod
    def _card_values(form: dict[str, str], name: str | None = None) -> dict[str, str]:
        year = dt.datetime.now(dt.UTC).year % 100 + 5
        prefilled = {
            "cardNumber": "4242 4242 4242 4242",
            "cardExpiry": f"12 / {year:02d}",
            "cardCvc": "123",
        }
        return {**prefilled, "billingName": name or "", "email": "", **form}

    def _checkout_html(
        self, session, form=None, error: _FormError | None = None, status: int = 200
    ):
        price = self._objects[session["_price"]]
        quantity = session["_quantity"]
        amount = f"{_money(price['unit_amount'] * quantity, price['currency'])} {_per(price)}"
        if session["_trial_days"]:
            amount = f"{session['_trial_days']} days free, then {amount}"
        customer = self._objects.get(session["customer"] or "") or {}
        return self._render(
            "checkout",
            status,
            session=session,
            product=self._product(price)["name"],
            quantity=quantity,
            amount=amount,
            email=customer.get("email") or session["customer_email"],
            values=self._card_values(form or {}, customer.get("name")),
            error=error,
        )

    async def _checkout_page(self, request: Request) -> Response:
        form = await _form(request)
        with self._lock:
            session = self._objects.get(request.path_params["id"])
            if session is None or session["object"] != "checkout.session":
                return self._gone()
            if session["status"] != "open":
                return self._gone("This checkout session is no longer active", 410)
            if request.method == "GET":
                return self._checkout_html(session)
            try:
                email = form.get("email", "").strip()
                if not email:
                    raise _FormError("Your email is incomplete.", "email")
                if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                    raise _FormError("Your email address is invalid.", "email")
                card = _read_card(form)
            except _FormError as exc:
                return self._checkout_html(session, form, exc, 400)
            if card.number in DECLINED_CARDS:
                declined = _FormError(DECLINED_CARDS[card.number][2], "cardNumber")
                return self._checkout_html(session, form, declined, 402)
            self._complete_checkout(
                session, card, email, form.get("billingName", "").strip() or None
            )
            target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
        return RedirectResponse(target, status_code=303)

    def _portal_html(self, portal, done=None, changed=None, error=None, status: int = 200):
        customer = self._objects[portal["customer"]]
        subs = [
            s
            for s in self._all("subscription")
            if s["customer"] == customer["id"] and s["status"] not in _ENDED
        ]
        prices = [p for p in reversed(self._all("price")) if p["recurring"] and p["active"]]
        plans = []
        for sub in subs:
            price, end = self._item(sub)["price"], _date(sub["current_period_end"])
            if sub["cancel_at_period_end"]:
                when = f"Cancels on {end}"
            elif sub["status"] == "trialing":
                when = f"Trial ends on {_date(sub['trial_end'])}"
            else:
                when = f"Renews on {end}"
            invoice = self._objects.get(sub["latest_invoice"] or "") or {}
            plans.append({
                "id": sub["id"],
                "label": self._label(price),
                "cost": f"{_money(price['unit_amount'] * self._item(sub)['quantity'], price['currency'])} {_per(price)}",
                "state": sub["status"].replace("_", " ").capitalize().replace("Trialing", "Trial"),
                "when": when,
                "unpaid": invoice.get("hosted_invoice_url") if invoice.get("status") == "open" else None,
                "cancel": not sub["cancel_at_period_end"],
                "others": [
                    {"id": p["id"], "label": self._label(p), "cost": f"{_money(p['unit_amount'], p['currency'])} {_per(p)}"}
                    for p in prices
                    if p["id"] != price["id"] and p["currency"] == sub["currency"]
                ],
            })  # fmt: skip
        message = None
        sub = next((s for s in subs if s["id"] == changed), None)
        if done and sub:
            end = _date(sub["current_period_end"])
            message = {
                "cancel": f"Your plan will be canceled on {end}.",
                "renew": f"Your plan will renew on {end}.",
                "switch": f"You switched to {self._label(self._item(sub)['price'])}.",
            }.get(done)
        method = self._default_method(customer["id"])
        card = method and method["card"]
        if card:
            card = f"{card['brand'].capitalize()} ending in {card['last4']}, expires {card['exp_month']:02d}/{card['exp_year']}"
        invoices = [
            {
                "url": i["hosted_invoice_url"],
                "text": f"{_date(i['created'])}, {_money(i['amount_due'], i['currency'])}, {i['status'].capitalize()}",
            }
            for i in self._all("invoice")
            if i["customer"] == customer["id"]
        ]
        return self._render(
            "portal",
            status,
            portal=portal,
            email=customer.get("email"),
            plans=plans,
            done=message,
            error=error,
            card=card,
            invoices=invoices,
        )

    async def _portal_page(self, request: Request) -> Response:
        form = await _form(request)
        with self._lock:
            portal = self._objects.get(request.path_params["id"])
            if portal is None or portal["object"] != "billing_portal.session":
                return self._gone()
            if self._objects[portal["customer"]].get("deleted"):
                return self._gone()
            if request.method == "GET":
                query = request.query_params
                return self._portal_html(portal, query.get("done"), query.get("subscription"))
            sub = self._objects.get(form.get("subscription", ""))
            action = form.get("action")
            if (
                sub is None
                or sub["object"] != "subscription"
                or sub["customer"] != portal["customer"]
                or sub["status"] in _ENDED
            ):
                return self._portal_html(portal, error="That plan can't be changed.", status=400)
            before = _public(sub)
            invoice_event = None
            if action in ("cancel", "renew"):
                self._set_cancel(sub, action == "cancel")
            elif action == "switch":
                price = self._objects.get(form.get("price", ""))
                usable = (
                    price is not None
                    and price["object"] == "price"
                    and price["recurring"]
                    and price["active"]
                    and price["currency"] == sub["currency"]
                )
                if not usable:
                    return self._portal_html(portal, error="That plan isn't available.", status=400)
                if price["id"] != self._item(sub)["price"]["id"]:
                    quantity = self._item(sub)["quantity"]
                    invoice_event = self._change_price(
                        sub, price, quantity, "create_prorations", "allow_incomplete"
                    )
            else:
                return self._portal_html(portal, error="Choose what to change.", status=400)
            self._emit_updated(sub, before)
            if invoice_event:
                self._emit(*invoice_event)
        target = f"/p/session/{portal['id']}?done={action}&subscription={sub['id']}"
        return RedirectResponse(target, status_code=303)

    def _invoice_html(self, invoice, form=None, error: _FormError | None = None, status: int = 200):
        paid_at = invoice["status_transitions"]["paid_at"]
        lines = [
            {
                "description": line["description"],
                "period": f"{_date(line['period']['start'])} to {_date(line['period']['end'])}",
                "quantity": line["quantity"],
                "amount": _money(line["amount"], line["currency"]),
            }
            for line in invoice["lines"]["data"]
        ]
        return self._render(
            "invoice",
            status,
            invoice=invoice,
            total=_money(invoice["amount_due"], invoice["currency"]),
            state=f"Paid on {_date(paid_at)}" if paid_at else invoice["status"].capitalize(),
            lines=lines,
            values=self._card_values(form or {}),
            error=error,
        )

    async def _invoice_page(self, request: Request) -> Response:
        form = await _form(request)
        with self._lock:
            invoice = self._objects.get(request.path_params["id"])
            if invoice is None or invoice["object"] != "invoice":
                return self._gone()
            if request.method == "GET":
                return self._invoice_html(invoice)
            if invoice["status"] != "open":
                return RedirectResponse(f"/i/{invoice['id']}", status_code=303)
            try:
                card = _read_card(form)
            except _FormError as exc:
                return self._invoice_html(invoice, form, exc, 400)
            if card.number in DECLINED_CARDS:
                declined = _FormError(DECLINED_CARDS[card.number][2], "cardNumber")
                return self._invoice_html(invoice, form, declined, 402)
            customer = self._objects[invoice["customer"]]
            method = self._new_payment_method(customer, card, None, customer.get("email"))
            self._retry_invoice(invoice, succeed=True, method=method)
        return RedirectResponse(f"/i/{invoice['id']}", status_code=303)

    async def _invoice_pdf(self, request: Request) -> Response:
        with self._lock:
            invoice = self._objects.get(request.path_params["id"])
            if invoice is None or invoice["object"] != "invoice":
                return self._gone()
            currency = invoice["currency"].upper()
            lines = [
                f"{self.business_name} - Invoice {invoice['number']}",
                f"Date: {_date(invoice['created'])}    Status: {invoice['status']}",
                "",
                *(
                    f"{line['description']}: {line['amount'] / 100:.2f} {currency}"
                    for line in invoice["lines"]["data"]
                ),
                "",
                f"Amount due: {invoice['amount_due'] / 100:.2f} {currency}",
                f"Amount paid: {invoice['amount_paid'] / 100:.2f} {currency}",
            ]
        name = f"Invoice-{invoice['number']}.pdf"
        return Response(
            _pdf(lines),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )

    # --- test control over HTTP ------------------------------------------------------------------

    async def _control(self, request: Request) -> Response:
        name = request.path_params["name"]
        views = {"events": lambda: self.events, "requests": lambda: [r.to_dict() for r in self.requests],
                 "deliveries": lambda: [d.to_dict() for d in self.deliveries], "config": lambda: self.config,
                 "held": lambda: self.held}  # fmt: skip
        if request.method == "GET" and name in views:
            return JSONResponse(views[name]())
        if request.method == "DELETE" and name == "requests":
            self.clear_requests()
            return JSONResponse([])
        if request.method != "POST" or name not in _CONTROLS:
            return JSONResponse(
                {"error": f"no such control: {request.method} /_fake/{name}"}, status_code=404
            )
        try:
            body = await request.body()
            kwargs = json.loads(body) if body.strip() else {}
            if not isinstance(kwargs, dict):
                raise ValueError("send the keyword arguments as a JSON object")
            result = await asyncio.to_thread(getattr(self, name), **kwargs)
        except KeyError as exc:
            return JSONResponse({"error": exc.args[0] if exc.args else str(exc)}, status_code=404)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except TimeoutError as exc:
            return JSONResponse({"error": str(exc)}, status_code=504)
        if isinstance(result, list):
            result = [r.to_dict() if isinstance(r, Delivery) else r for r in result]
        return JSONResponse(result if result is not None else {"ok": True})


async def _form(request: Request) -> dict[str, str]:
    if request.method != "POST":
        return {}
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace")))


_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f8fa;color:#1a1f36}
header{max-width:34rem;margin:1rem auto 0;padding:0 1rem}
.badge{background:#ffde92;color:#5a3b00;padding:0 .4rem;border-radius:4px;font-size:.85rem}
main{max-width:32rem;margin:1rem auto 2rem;background:#fff;padding:2rem;border-radius:8px}
h1 .amount{display:block;font-size:1.5rem}label{display:block;margin-top:1rem;font-weight:600}
input{width:100%;padding:.5rem;font:inherit;box-sizing:border-box;border:1px solid #697386}
fieldset{border:0;padding:0;margin:1rem 0 0}legend{font-weight:700}
button{margin-top:1rem;padding:.6rem 1.2rem;font:inherit;background:#533afd;color:#fff;border:0}
.plans{list-style:none;padding:0}.plans form{display:inline}
.error{color:#b3093c;font-weight:600}.muted{color:#4f566b}
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:.4rem}
"""

_TEMPLATES = {
    "layout": """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{{ title }}{% endblock %}</title><style>{{ style }}</style></head>
<body><header><p><strong>{{ business }}</strong> <span class="badge">Test mode</span></p></header>
<main>{% block main %}{% endblock %}</main></body></html>""",
    "forms": """
{% macro alert(error) %}{% if error %}<p role="alert" id="form-error" class="error">{{ error.message }}</p>{% endif %}{% endmacro %}
{% macro input(name, label, values, error, type="text", autocomplete="", required=True) -%}
<label for="{{ name }}">{{ label }}</label><input id="{{ name }}" name="{{ name }}" type="{{ type }}"
 value="{{ values[name] }}" autocomplete="{{ autocomplete }}"{% if required %} required{% endif %}
{%- if error and error.field == name %} aria-invalid="true" aria-describedby="form-error"{% endif %}>
{%- endmacro %}
{% macro card(values, error) %}<fieldset><legend>Card information</legend>
{{ input("cardNumber", "Card number", values, error, autocomplete="cc-number") }}
{{ input("cardExpiry", "Expiry (MM / YY)", values, error, autocomplete="cc-exp") }}
{{ input("cardCvc", "CVC", values, error, autocomplete="cc-csc") }}
</fieldset>{% endmacro %}""",
    "message": """{% extends "layout" %}{% block main %}<h1>{{ title }}</h1><p>{{ text }}</p>{% endblock %}""",
    "checkout": """{% extends "layout" %}{% from "forms" import alert, input, card %}
{% block title %}Subscribe to {{ product }}{% endblock %}
{% block main %}
{% if session.cancel_url %}<p><a href="{{ session.cancel_url }}">Cancel</a></p>{% endif %}
<h1>Subscribe to {{ product }}{% if quantity > 1 %} × {{ quantity }}{% endif %} <span class="amount">{{ amount }}</span></h1>
{{ alert(error) }}
<form method="post" action="/c/pay/{{ session.id }}" novalidate>
{% if email %}<p>Email: {{ email }}</p><input type="hidden" name="email" value="{{ email }}">
{% else %}{{ input("email", "Email", values, error, type="email", autocomplete="email") }}{% endif %}
{{ card(values, error) }}
{{ input("billingName", "Cardholder name", values, error, autocomplete="cc-name", required=False) }}
<button type="submit">Pay</button>
</form>{% endblock %}""",
    "portal": """{% extends "layout" %}
{% macro change(plan, action, label, price="") %}<form method="post" action="/p/session/{{ portal.id }}">
<input type="hidden" name="action" value="{{ action }}"><input type="hidden" name="subscription" value="{{ plan.id }}">
{%- if price %}<input type="hidden" name="price" value="{{ price }}">{% endif %}
<button type="submit">{{ label }}</button></form>{% endmacro %}
{% block title %}Manage your plan{% endblock %}
{% block main %}
{% if portal.return_url %}<p><a href="{{ portal.return_url }}">Return to {{ business }}</a></p>{% endif %}
<h1>Manage your plan</h1>
{% if email %}<p class="muted">{{ email }}</p>{% endif %}
{% if error %}<p role="alert" class="error">{{ error }}</p>{% endif %}
{% if done %}<p role="status">{{ done }}</p>{% endif %}
<section aria-labelledby="plan"><h2 id="plan">Current plan</h2>
{% for plan in plans %}
<p class="plan">{{ plan.label }}: {{ plan.cost }}</p><p>Status: {{ plan.state }}</p><p>{{ plan.when }}</p>
{% if plan.unpaid %}<p>Your last payment failed. <a href="{{ plan.unpaid }}">Pay the open invoice</a></p>{% endif %}
{% if plan.cancel %}{{ change(plan, "cancel", "Cancel plan") }}{% else %}{{ change(plan, "renew", "Renew plan") }}{% endif %}
{% if plan.others %}<h3>Other plans</h3><ul class="plans">
{% for other in plan.others %}<li>{{ change(plan, "switch", "Switch to " ~ other.label, other.id) }} <span class="muted">{{ other.cost }}</span></li>
{% endfor %}</ul>{% endif %}
{% else %}<p>You have no active plan.</p>{% endfor %}
</section>
{% if card %}<section aria-labelledby="pm"><h2 id="pm">Payment method</h2><p>{{ card }}</p></section>{% endif %}
{% if invoices %}<section aria-labelledby="history"><h2 id="history">Invoice history</h2><ul>
{% for invoice in invoices %}<li><a href="{{ invoice.url }}">{{ invoice.text }}</a></li>{% endfor %}
</ul></section>{% endif %}
{% endblock %}""",
    "invoice": """{% extends "layout" %}{% from "forms" import alert, card %}
{% block title %}Invoice {{ invoice.number }}{% endblock %}
{% block main %}
<h1>Invoice {{ invoice.number }}</h1>
<p class="amount">{{ total }}</p><p>Status: {{ state }}</p>
<table><caption>Items</caption>
<thead><tr><th scope="col">Description</th><th scope="col">Qty</th><th scope="col">Amount</th></tr></thead>
<tbody>{% for line in lines %}<tr><td>{{ line.description }}<br><span class="muted">{{ line.period }}</span></td>
<td>{{ line.quantity }}</td><td>{{ line.amount }}</td></tr>{% endfor %}</tbody></table>
<p><a href="/i/{{ invoice.id }}/pdf">Download invoice</a></p>
{% if invoice.status == "open" %}{{ alert(error) }}
<form method="post" action="/i/{{ invoice.id }}" novalidate>{{ card(values, error) }}
<button type="submit">Pay {{ total }}</button></form>{% endif %}
{% endblock %}""",
}
_PAGES = jinja2.Environment(loader=jinja2.DictLoader(_TEMPLATES), autoescape=True)
_PAGES.globals["style"] = _STYLE  # nothing in it to escape


def _pdf(lines: list[str]) -> bytes:
    """A one-page PDF with the lines in Helvetica."""

    def text(line: str) -> str:
        return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = (
        "BT /F1 12 Tf 16 TL 72 760 Td " + "".join(f"({text(line)}) Tj T* " for line in lines) + "ET"
    ).encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# --- command line -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Run the loopback Stripe API, hosted Checkout and portal."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", help="where to post events (default: nowhere)")
    parser.add_argument("--webhook-secret", default="whsec_test")
    parser.add_argument("--api-key", help="the accepted secret key (default: any sk_test_ key)")
    parser.add_argument(
        "--prices-file",
        type=Path,
        help="a JSON list of prices to seed (default: Pro and Business, monthly and yearly)",
    )
    parser.add_argument("--business-name", default="OmniPostr")
    args = parser.parse_args(argv)
    prices = json.loads(args.prices_file.read_text()) if args.prices_file else None
    fake = FakeStripe(
        args.host,
        args.port,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        api_key=args.api_key,
        prices=prices,
        business_name=args.business_name,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with fake:
        print(f"Fake Stripe API listening on {fake.base_url}", flush=True)
        print(
            f'  stripe.StripeClient("{args.api_key or "sk_test_..."}", base_addresses={{"api": "{fake.base_url}"}})',
            flush=True,
        )
        target = (
            f"{args.webhook_url} (secret {args.webhook_secret})"
            if args.webhook_url
            else "nowhere (pass --webhook-url)"
        )
        print(f"  webhooks to {target}", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
