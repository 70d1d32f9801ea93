"""Billing: upgrading through Stripe Checkout, managing through the Customer Portal, and
Stripe's webhooks turned into each workspace's plan.

Stripe is the source of truth. A webhook only says *that* something changed: on every event
the subscription is fetched again from Stripe, so events that arrive twice, late or out of
order all end in the state Stripe holds. An event's id is stored in the same transaction as
its effect, so a replay has no second effect, and the nightly reconciliation acts on any
event the webhook missed. The success page of Checkout grants nothing: the webhook does.

Without a Stripe key (the embedded default) billing is off: every workspace is on Free with
the limits of the plans file."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from omnipostr import clock, db
from omnipostr.accounts.models import Membership, User, Workspace
from omnipostr.accounts.service import Actor
from omnipostr.billing import plans as plans_mod
from omnipostr.billing import stripe_gateway as gateway
from omnipostr.billing.models import PAYING, BillingAccount, Invoice, StripeEvent
from omnipostr.notify import service as outbox
from omnipostr.settings import get_settings

log = logging.getLogger(__name__)

HANDLED = frozenset({
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.trial_will_end",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.payment_action_required",
})

STATUS_NAMES = {
    "": "No subscription",
    "active": "Active",
    "trialing": "Trial",
    "past_due": "Payment past due",
    "unpaid": "Unpaid",
    "canceled": "Canceled",
    "incomplete": "Waiting for the first payment",
    "incomplete_expired": "First payment not made",
    "paused": "Paused",
}

OUTAGE = "Stripe is not answering right now, so nothing was charged or changed. Try again in a minute."


class BillingError(Exception):
    def __init__(self, message: str, *, portal: bool = False):
        super().__init__(message)
        self.message = message
        self.portal = portal


def enabled() -> bool:
    return gateway.enabled()


def _ts(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def account(s: Session, workspace_id: int) -> BillingAccount | None:
    return s.exec(select(BillingAccount).where(BillingAccount.workspace_id == workspace_id)).first()


def _ensure_account(s: Session, workspace_id: int) -> BillingAccount:
    """The workspace's billing account, created once even when two requests race here."""
    acct = account(s, workspace_id)
    if acct is not None:
        return acct
    s.execute(db.upsert(s, BillingAccount).values(workspace_id=workspace_id, billing_address="", created_at=clock.now(),
                                                  had_trial=False)
              .on_conflict_do_nothing(index_elements=["workspace_id"]))
    acct = account(s, workspace_id)
    assert acct is not None
    return acct


def _must_manage(actor: Actor) -> None:
    if not enabled():
        raise BillingError("Billing is not set up on this server: every workspace is on the Free plan.")
    if not actor.can_manage:
        raise BillingError("Only the workspace's owner or an admin can change its plan or payment details.")


# --- checkout and portal ----------------------------------------------------------------------

def start_checkout(s: Session, actor: Actor, plan_id: str, interval: str) -> str:
    """The address of a Stripe Checkout page selling the plan to the actor's workspace. Only
    prices of the plans file are sold; the customer is created once and kept."""
    _must_manage(actor)
    plan = plans_mod.plans().get(plan_id)
    price = plan.price_id(interval) if plan is not None and interval in ("month", "year") else ""
    if not price:
        raise BillingError("That plan cannot be bought. Pick one of the plans shown.")
    acct = _ensure_account(s, actor.workspace_id)
    if acct.subscription_id and acct.status in PAYING:
        raise BillingError("This workspace already has a subscription: change or cancel it in the customer portal.",
                           portal=True)
    try:
        if not acct.stripe_customer_id:
            # the payer's name and address only: Stripe gets no content
            acct.stripe_customer_id = gateway.create_customer(
                email=actor.email, name=actor.name, workspace_id=actor.workspace_id,
                once=f"{acct.id}-{acct.created_at.timestamp():.6f}")
            s.add(acct)
            s.flush()
        base = get_settings().base_url.rstrip("/")
        session = gateway.create_checkout(
            customer_id=acct.stripe_customer_id, price_id=price, workspace_id=actor.workspace_id,
            success_url=f"{base}/billing?checkout=done", cancel_url=f"{base}/billing?checkout=canceled",
            idempotency_key=f"omnipostr-checkout-{actor.workspace_id}-{secrets.token_hex(8)}",
            trial_days=plan.trial_days if not acct.had_trial else 0,
        )
    except gateway.StripeUnavailable as e:
        raise BillingError(OUTAGE) from e
    except gateway.StripeRefused as e:
        log.warning("stripe refused checkout: %s", e)
        raise BillingError("Stripe refused to open Checkout for this plan. Nothing was charged; "
                           "write to support if it happens again.") from e
    return str(session["url"])


def open_portal(s: Session, actor: Actor) -> str:
    """The address of the Stripe Customer Portal for the workspace's own customer (the id
    comes from the database, never from the browser)."""
    _must_manage(actor)
    acct = account(s, actor.workspace_id)
    if acct is None or not acct.stripe_customer_id:
        raise BillingError("This workspace has no payment details yet: choose a plan first.")
    try:
        return gateway.create_portal(customer_id=acct.stripe_customer_id,
                                     return_url=get_settings().base_url.rstrip("/") + "/billing")
    except gateway.StripeUnavailable as e:
        raise BillingError(OUTAGE) from e
    except gateway.StripeRefused as e:
        raise BillingError("Stripe refused to open the customer portal. Write to support.") from e


# --- Stripe's state into ours -------------------------------------------------------------

def _period(sub: dict) -> tuple[datetime | None, datetime | None]:
    start, end = sub.get("current_period_start"), sub.get("current_period_end")
    items = (sub.get("items") or {}).get("data") or []
    if items and not (start and end):
        start, end = items[0].get("current_period_start"), items[0].get("current_period_end")
    return _ts(start), _ts(end)


def _price(sub: dict) -> str:
    items = (sub.get("items") or {}).get("data") or []
    price = items[0].get("price") if items else None
    return str(price.get("id") if isinstance(price, dict) else price or "")


def _pick(subs: list[dict]) -> dict | None:
    """The subscription that decides the plan: the newest paying one, else the newest."""
    paying = [x for x in subs if x.get("status") in PAYING]
    pool = paying or subs
    return max(pool, key=lambda x: int(x.get("created") or 0)) if pool else None


def _address(customer: dict) -> str:
    a = customer.get("address") or {}
    parts = [customer.get("name") or "", a.get("line1") or "", a.get("line2") or "",
             " ".join(p for p in (a.get("postal_code"), a.get("city")) if p), a.get("state") or "", a.get("country") or ""]
    return "\n".join(p for p in parts if p)


def sync(s: Session, acct: BillingAccount) -> tuple[str, str]:
    """Fetch the customer's subscriptions and payment method from Stripe and take them as
    they are; the workspace's plan follows. Returns (plan before, plan after)."""
    before = acct.plan
    now = clock.now()
    sub = _pick(gateway.list_subscriptions(acct.stripe_customer_id or ""))
    customer = gateway.get_customer(acct.stripe_customer_id or "")
    if sub is None:
        acct.subscription_id, acct.price_id, acct.status, acct.interval = "", "", "", ""
        acct.current_period_start = acct.current_period_end = acct.trial_end = None
        acct.cancel_at_period_end = False
        acct.plan = "free"
    else:
        acct.subscription_id = str(sub.get("id") or "")
        acct.price_id = _price(sub)
        acct.status = str(sub.get("status") or "")
        acct.current_period_start, acct.current_period_end = _period(sub)
        acct.cancel_at_period_end = bool(sub.get("cancel_at_period_end"))
        acct.trial_end = _ts(sub.get("trial_end"))
        acct.had_trial = acct.had_trial or acct.trial_end is not None
        found = plans_mod.plan_for_price(acct.price_id)
        acct.interval = found[1] if found else ""
        acct.plan = found[0].id if found and acct.status in PAYING else "free"
    if acct.plan != "free":
        acct.ended_at = None
    elif before != "free" and acct.ended_at is None:
        acct.ended_at = _ts(sub.get("ended_at")) if sub else None
        acct.ended_at = acct.ended_at or now
        _paid_until(s, acct)
    pm = (customer.get("invoice_settings") or {}).get("default_payment_method") or (sub or {}).get("default_payment_method")
    pm_id = pm.get("id") if isinstance(pm, dict) else pm
    if pm_id:
        card = (gateway.get_payment_method(str(pm_id)).get("card")) or {}
        acct.card_brand = str(card.get("brand") or "")[:32]
        acct.card_last4 = str(card.get("last4") or "")[-4:]
    acct.billing_address = _address(customer) if not customer.get("deleted") else ""
    acct.synced_at = now
    s.add(acct)
    if acct.workspace_id is not None:
        ws = s.get(Workspace, acct.workspace_id)
        if ws is not None and ws.plan != acct.plan:
            ws.plan = acct.plan
            s.add(ws)
    s.flush()
    return before, acct.plan


def _paid_until(s: Session, acct: BillingAccount) -> None:
    """A paid subscription is the account's use until it ends: the owner's account is a free
    account from then, and the retention rule for unused free accounts counts from the end."""
    ws = s.get(Workspace, acct.workspace_id) if acct.workspace_id is not None else None
    owner = s.get(User, ws.owner_id) if ws is not None and ws.owner_id is not None else None
    if owner is not None and acct.ended_at is not None and (owner.last_active_at or acct.ended_at) <= acct.ended_at:
        owner.last_active_at = acct.ended_at
        s.add(owner)


def _store_invoice(s: Session, acct: BillingAccount, inv: dict) -> Invoice:
    row = s.exec(select(Invoice).where(Invoice.stripe_invoice_id == inv["id"])).first()
    if row is None:
        row = Invoice(stripe_invoice_id=str(inv["id"]), billing_account_id=acct.id, workspace_id=acct.workspace_id,
                      issued_at=_ts(inv.get("created")) or clock.now())
    row.number = str(inv.get("number") or "")[:64]
    row.status = str(inv.get("status") or "")[:32]
    row.amount_due = int(inv.get("amount_due") or 0)
    row.amount_paid = int(inv.get("amount_paid") or 0)
    row.currency = str(inv.get("currency") or "usd")[:3]
    row.hosted_invoice_url = str(inv.get("hosted_invoice_url") or "")[:2000]
    # the period billed is on the lines (an invoice's own period_start/end look back one period)
    lines = (inv.get("lines") or {}).get("data") or []
    billed = (lines[0].get("period") or {}) if lines else {}
    row.period_start = _ts(billed.get("start") or inv.get("period_start"))
    row.period_end = _ts(billed.get("end") or inv.get("period_end"))
    s.add(row)
    s.flush()
    return row


def _customer_of(obj: dict) -> str:
    c = obj.get("customer")
    return str(c.get("id") if isinstance(c, dict) else c or "")


def handle_event(s: Session, event: dict, *, source: str = "webhook") -> str:
    """Act on one Stripe event, once. Returns what happened: ``applied``, ``duplicate``,
    ``ignored`` (a type we do not act on), ``unknown`` (a customer that is not ours) or
    ``mismatch`` (a Checkout whose reference names another workspace than its customer's).
    Raises :class:`gateway.StripeUnavailable` when Stripe cannot be asked: the caller rolls
    back, so Stripe's retry (or the reconciliation) acts on it later."""
    kind = str(event.get("type") or "")
    if kind not in HANDLED:
        return "ignored"
    obj = (event.get("data") or {}).get("object") or {}
    acct = s.exec(
        select(BillingAccount).where(BillingAccount.stripe_customer_id == _customer_of(obj)).with_for_update()
    ).first() if _customer_of(obj) else None
    first = s.execute(
        db.upsert(s, StripeEvent).values(id=str(event["id"]), type=kind, created=_ts(event.get("created")) or clock.now(),
                                         billing_account_id=acct.id if acct else None, source=source,
                                         received_at=clock.now())
        .on_conflict_do_nothing(index_elements=["id"]).returning(StripeEvent.id)
    ).first()
    if first is None:
        return "duplicate"
    if acct is None:
        log.warning("stripe event %s for a customer that is not ours", event.get("id"))
        return "unknown"
    if kind == "checkout.session.completed" and str(obj.get("client_reference_id") or "") != str(acct.workspace_id):
        log.warning("checkout %s names workspace %r, its customer belongs to %r",
                    obj.get("id"), obj.get("client_reference_id"), acct.workspace_id)
        return "mismatch"
    if kind.startswith("invoice."):
        inv = _store_invoice(s, acct, gateway.get_invoice(str(obj.get("id"))))
        if kind == "invoice.paid":
            acct.attention, acct.attention_url = "", ""
            if inv.amount_paid > 0:
                _mail(s, acct, "billing_receipt", {"invoice": _invoice_words(inv)})
        else:
            acct.attention = "payment_failed" if kind == "invoice.payment_failed" else "action_required"
            acct.attention_url = inv.hosted_invoice_url
            _mail(s, acct, "billing_payment_problem",
                  {"invoice": _invoice_words(inv), "action_required": acct.attention == "action_required"})
    before, after = sync(s, acct)
    if before != after:
        _mail(s, acct, "billing_plan_changed", {"before": plans_mod.plan_for(before).name,
                                                "after": plans_mod.plan_for(after).name})
    if kind == "customer.subscription.trial_will_end" and acct.trial_end:
        _mail(s, acct, "billing_trial_ending", {"trial_end": acct.trial_end, "plan": plans_mod.plan_for(acct.plan).name})
    return "applied"


def reconcile(s: Session, *, days: int = 3) -> dict[str, int]:
    """The nightly repair: every event of the last ``days`` days that the webhook did not
    deliver is acted on now. Each event commits on its own, so one failure does not undo
    the others; an outage stops the run (the next run starts over)."""
    since = int((clock.now() - timedelta(days=days)).timestamp())
    events = sorted(gateway.list_events(since), key=lambda e: int(e.get("created") or 0))
    counts: dict[str, int] = {}
    seen = set(s.exec(select(StripeEvent.id).where(col(StripeEvent.id).in_([e["id"] for e in events]))).all())
    for event in events:
        if event["id"] in seen or event.get("type") not in HANDLED:
            continue
        outcome = handle_event(s, event, source="reconcile")
        s.commit()
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def detach_workspace(s: Session, workspace_id: int) -> None:
    """A workspace is being deleted: its billing row stays (its invoices are billing records
    and its Stripe customer is yet to be deleted at Stripe, ``delete_customers``) but holds
    nothing about the person from now on: no address, no card, no workspace."""
    acct = s.exec(select(BillingAccount).where(BillingAccount.workspace_id == workspace_id)).first()
    if acct is None:
        return
    acct.billing_address, acct.card_brand, acct.card_last4 = "", "", ""
    acct.workspace_id = None
    s.add(acct)
    s.flush()


def delete_customers(s: Session) -> dict[str, int]:
    """Stripe customers of deleted workspaces are deleted at Stripe (the invoices stay here
    as billing records). The call to Stripe is retried at each run until it succeeds; the
    address and card went when the workspace did (``detach_workspace``)."""
    rows = s.exec(select(BillingAccount).where(
        col(BillingAccount.workspace_id).is_(None), col(BillingAccount.customer_deleted_at).is_(None))).all()
    done = waiting = 0
    for acct in rows:
        acct.billing_address, acct.card_brand, acct.card_last4 = "", "", ""
        acct.delete_customer = True
        if acct.stripe_customer_id and enabled():
            try:
                gateway.delete_customer(acct.stripe_customer_id)
            except gateway.StripeError:
                waiting += 1
                s.add(acct)
                continue
        acct.customer_deleted_at = clock.now()
        acct.status, acct.plan = ("canceled" if acct.subscription_id else ""), "free"
        s.add(acct)
        done += 1
    s.flush()
    return {"deleted": done, "waiting": waiting}


def purge_records(s: Session) -> int:
    """RET-5: invoices are kept for the tax period after they were issued, then deleted; the
    billing account of a deleted workspace goes with its last invoice."""
    cutoff = clock.now() - timedelta(days=365 * get_settings().billing_record_years)
    old = s.exec(select(Invoice).where(col(Invoice.issued_at) < cutoff)).all()
    for inv in old:
        s.delete(inv)
    s.flush()
    kept = select(Invoice.billing_account_id).where(col(Invoice.billing_account_id).is_not(None))
    gone = s.exec(select(BillingAccount).where(
        col(BillingAccount.workspace_id).is_(None), col(BillingAccount.customer_deleted_at).is_not(None),
        col(BillingAccount.id).not_in(kept))).all()
    for acct in gone:
        s.delete(acct)
    s.flush()
    return len(old) + len(gone)


# --- email ------------------------------------------------------------------------------

def _money(amount: int, currency: str) -> str:
    symbol = {"usd": "$", "eur": "€", "gbp": "£"}.get(currency.lower())
    value = f"{amount / 100:,.2f}"
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"


def _invoice_words(inv: Invoice) -> dict:
    return {"number": inv.number or inv.stripe_invoice_id, "amount": _money(inv.amount_paid or inv.amount_due, inv.currency),
            "url": inv.hosted_invoice_url, "date": inv.issued_at}


def _mail(s: Session, acct: BillingAccount, kind: str, context: dict) -> None:
    """Mail the workspace's owner (or its admins when it has no owner) through the outbox."""
    if acct.workspace_id is None:
        return
    ws = s.get(Workspace, acct.workspace_id)
    if ws is None:
        return
    people: list[User] = []
    if ws.owner_id is not None and (owner := s.get(User, ws.owner_id)) is not None:
        people = [owner]
    else:
        people = list(s.exec(select(User).join(Membership, col(Membership.user_id) == User.id)
                             .where(Membership.workspace_id == ws.id, Membership.role == "admin")).all())
    link = get_settings().base_url.rstrip("/") + "/billing"
    for user in people:
        outbox.enqueue(s, kind, user.email, {"name": user.name, "workspace": ws.name, "link": link, **context},
                       user_id=user.id)


# --- what the billing page shows ----------------------------------------------------------

@dataclass
class InvoiceLine:
    number: str
    date: datetime
    amount: str
    status: str
    url: str


@dataclass
class Overview:
    enabled: bool
    can_manage: bool
    plan: plans_mod.Plan
    status: str = ""
    status_name: str = "No subscription"
    interval: str = ""
    renews_at: datetime | None = None
    cancel_at_period_end: bool = False
    trial_end: datetime | None = None
    attention: str = ""
    attention_url: str = ""
    card: str = ""
    address: list[str] = field(default_factory=list)
    has_customer: bool = False
    invoices: list[InvoiceLine] = field(default_factory=list)


INVOICE_STATUS = {"paid": "Paid", "open": "Due", "void": "Void", "uncollectible": "Uncollectible", "draft": "Draft"}


def overview(s: Session, actor: Actor) -> Overview:
    ws = s.get(Workspace, actor.workspace_id)
    plan = plans_mod.plan_for(ws.plan if ws else None)
    out = Overview(enabled=enabled(), can_manage=actor.can_manage, plan=plan)
    acct = account(s, actor.workspace_id)
    if acct is None:
        return out
    out.status, out.status_name = acct.status, STATUS_NAMES.get(acct.status, acct.status.replace("_", " ").title())
    out.interval = acct.interval
    out.renews_at = acct.current_period_end if acct.status in PAYING else None
    out.cancel_at_period_end = acct.cancel_at_period_end
    out.trial_end = acct.trial_end if acct.status == "trialing" else None
    out.attention, out.attention_url = acct.attention, acct.attention_url
    out.has_customer = bool(acct.stripe_customer_id)
    if actor.can_manage:
        if acct.card_last4:
            out.card = f"{acct.card_brand.title() or 'Card'} ending in {acct.card_last4}"
        out.address = [line for line in acct.billing_address.splitlines() if line]
    rows = s.exec(select(Invoice).where(Invoice.billing_account_id == acct.id)
                  .order_by(col(Invoice.issued_at).desc()).limit(24)).all()
    out.invoices = [InvoiceLine(r.number or r.stripe_invoice_id, r.issued_at, _money(r.amount_due, r.currency),
                                INVOICE_STATUS.get(r.status, r.status.title()), r.hosted_invoice_url) for r in rows]
    return out
