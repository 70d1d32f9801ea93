"""The billing page's state: thin. Every handler is a member event (signed-in member of the
workspace); upgrading and the portal are for the owner and admins, checked again by the
service. The Stripe customer id never reaches the browser."""

from __future__ import annotations

import asyncio
from datetime import datetime

import reflex as rx

from omnipostr import db
from omnipostr.accounts import service as accounts
from omnipostr.accounts.guard import member_event
from omnipostr.accounts.state import SessionState
from omnipostr.billing import plans as plans_mod
from omnipostr.billing import quota, service


def _day(value: datetime | None) -> str:
    return value.strftime("%-d %b %Y") if value else ""


def _date(day: str) -> datetime:
    return datetime.strptime(day, "%Y-%m-%d")


def _money(cents: int, currency: str) -> str:
    return service._money(cents, currency).removesuffix(".00")


def plan_cards() -> list[dict[str, str]]:
    """The plans as the pricing and billing pages show them (same table as every limit)."""
    out = []
    for p in plans_mod.plans().values():
        out.append({
            "id": p.id, "name": p.name, "description": p.description,
            "monthly": _money(p.monthly_price, p.currency) if p.paid else "Free",
            "yearly": _money(p.yearly_price, p.currency) if p.stripe_price_yearly else "",
            "generations": f"{p.generations_per_month:,} generations a month",
            "members": f"{p.members:,} people in a workspace",
            "voices": f"{p.brand_voices:,} brand voices",
            "api": f"REST API, {p.api_requests_per_minute:,} requests a minute" if p.api_access else "No API access",
            "scheduled": f"{p.scheduled_posts:,} scheduled posts",
            "paid": "yes" if p.paid else "",
            "has_yearly": "yes" if p.stripe_price_yearly else "",
            "trial": f"{p.trial_days} days free, then billed" if p.paid and p.trial_days else "",
        })
    return out


def _snapshot(s, actor) -> dict:
    view = service.overview(s, actor)
    use = quota.usage(s, actor.workspace_id)
    peak = max((n for _, n in use.days), default=0) or 1
    return {
        "view": view,
        "used": use.used,
        "limit": use.limit,
        "period": f"{_day(use.period_start)} – {_day(use.period_end)}",
        "days": [{"height": f"{max(2, round(100 * n / peak))}%" if n else "0%", "label": f"{_day(_date(d))}: {n}"}
                 for d, n in use.days],
        "days_summary": ", ".join(f"{_day(_date(d))}: {n}" for d, n in use.days if n) or "none yet",
    }


class BillingState(SessionState):
    enabled: bool = False
    can_manage: bool = False
    plan_id: str = "free"
    plan_name: str = "Free"
    status: str = ""
    status_name: str = ""
    interval: str = ""
    renews_on: str = ""
    cancels: bool = False
    trial_ends_on: str = ""
    attention: str = ""
    attention_url: str = ""
    card: str = ""
    address: list[str] = []
    has_customer: bool = False
    invoices: list[dict[str, str]] = []
    used: int = 0
    limit: int = 0
    period: str = ""
    days: list[dict[str, str]] = []
    days_summary: str = ""
    error: str = ""
    notice: str = ""
    waiting: bool = False
    busy: str = ""
    _following: bool = False
    """Set by ``load`` on the return from Checkout: ``follow_payment`` runs only then."""

    def _forget_own(self) -> None:
        self.enabled = self.can_manage = self.cancels = self.has_customer = self.waiting = False
        self.plan_id, self.plan_name = "free", "Free"
        self.status = self.status_name = self.interval = self.renews_on = self.trial_ends_on = ""
        self.attention = self.attention_url = self.card = self.period = self.error = self.notice = self.busy = ""
        self.address, self.invoices, self.days, self.days_summary = [], [], [], ""
        self.used = self.limit = 0

    def _show(self, snap: dict) -> None:
        v: service.Overview = snap["view"]
        self.enabled, self.can_manage = v.enabled, v.can_manage
        self.plan_id, self.plan_name = v.plan.id, v.plan.name
        self.status, self.status_name, self.interval = v.status, v.status_name, v.interval
        self.renews_on, self.cancels, self.trial_ends_on = _day(v.renews_at), v.cancel_at_period_end, _day(v.trial_end)
        self.attention, self.attention_url = v.attention, v.attention_url
        self.card, self.address, self.has_customer = v.card, v.address, v.has_customer
        self.invoices = [{"number": i.number, "date": _day(i.date), "amount": i.amount, "status": i.status, "url": i.url}
                         for i in v.invoices]
        self.used, self.limit, self.period, self.days = snap["used"], snap["limit"], snap["period"], snap["days"]
        self.days_summary = snap["days_summary"]

    @member_event(page=True)
    async def load(self, actor):
        self.error = self.notice = self.busy = ""
        self._show(await db.run(_snapshot, actor))
        outcome = self.router.url.query_parameters.get("checkout", "")
        if outcome == "canceled":
            self.notice = "Checkout was canceled: nothing was charged and your plan did not change."
        elif outcome == "done":
            if self.plan_id == "free":
                self.notice = "Thank you. Stripe is confirming your payment; your new plan shows here as soon as it does."
                self.waiting = True
            else:
                self.notice = f"Thank you: the workspace is on the {self.plan_name} plan."
            if self.waiting or not self.invoices:  # the plan, then the receipt, each in its own event
                self._following = True
                return BillingState.follow_payment
        return None

    @member_event(background=True)
    async def follow_payment(self, actor):
        """After Checkout, show the new plan as soon as Stripe's webhook grants it (up to two
        minutes); the page itself grants nothing. Stops as soon as the session ends or the
        member leaves the workspace."""
        async with self:
            if not self._following:
                return
            self._following = False
            ref = self._session_ref()
        for _ in range(120):
            await asyncio.sleep(1)
            if await db.run(accounts.member_for_ref, ref, actor.workspace_id) is None:
                return
            snap = await db.run(_snapshot, actor)
            if snap["view"].plan.id != "free":
                async with self:
                    self._show(snap)
                    self.waiting = False
                    self.notice = f"Thank you: the workspace is on the {self.plan_name} plan."
                if snap["view"].invoices:  # the receipt comes in its own event, just after
                    return
                continue
        if not self.waiting:
            return
        async with self:
            self.waiting = False
            self.notice = ("Stripe has not confirmed the payment yet. It can take a few minutes; "
                           "reload this page later. You are not charged twice.")

    async def _to_stripe(self, busy: str, fn, *args):
        """Open a Stripe page made by ``fn`` (Checkout or the portal), or say why not."""
        self.error, self.busy = "", busy
        try:
            url = await db.run(fn, *args)
        except service.BillingError as e:
            self.error = e.message
            return None
        finally:
            self.busy = ""
        return rx.redirect(url)

    @member_event
    async def upgrade(self, actor, plan_id: str, interval: str):
        return await self._to_stripe(f"{plan_id}-{interval}", service.start_checkout, actor, str(plan_id), str(interval))

    @member_event
    async def portal(self, actor):
        return await self._to_stripe("portal", service.open_portal, actor)
