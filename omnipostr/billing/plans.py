"""Plans and what each allows, read from one file (``plans.toml`` beside this module, or the
file named by ``billing_plans_file``). The pricing page, the billing page, Checkout (which
sells only the Stripe prices listed here) and every quota check read the same table."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from omnipostr.settings import get_settings

DEFAULT_FILE = Path(__file__).with_name("plans.toml")


class PlansFileError(ValueError):
    """The plans file is missing a plan or a field, or says something impossible."""


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    generations_per_month: int
    members: int
    brand_voices: int
    description: str = ""
    monthly_price: int = 0
    yearly_price: int = 0
    currency: str = "usd"
    stripe_price_monthly: str = ""
    stripe_price_yearly: str = ""
    api_access: bool = False
    api_requests_per_minute: int = 0
    scheduled_posts: int = 0
    trial_days: int = 0

    @property
    def paid(self) -> bool:
        return bool(self.stripe_price_monthly or self.stripe_price_yearly)

    def price_id(self, interval: str) -> str:
        return self.stripe_price_yearly if interval == "year" else self.stripe_price_monthly


_INT_FIELDS = ("generations_per_month", "members", "brand_voices", "monthly_price", "yearly_price",
               "api_requests_per_minute", "scheduled_posts", "trial_days")
_STR_FIELDS = ("name", "description", "stripe_price_monthly", "stripe_price_yearly")


def parse(text: str, where: str = "plans file") -> dict[str, Plan]:
    """The plans in a TOML document, checked: ``free`` exists and is free, every number is a
    whole number from 0, no Stripe price belongs to two plans."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise PlansFileError(f"{where}: {e}") from e
    currency = str(doc.get("currency", "usd")).lower()
    raw = doc.get("plans")
    if not isinstance(raw, dict) or "free" not in raw:
        raise PlansFileError(f"{where}: a [plans.free] table is required")
    plans: dict[str, Plan] = {}
    seen_prices: dict[str, str] = {}
    for pid, fields in raw.items():
        if not isinstance(fields, dict):
            raise PlansFileError(f"{where}: plans.{pid} must be a table")
        unknown = set(fields) - set(_INT_FIELDS) - set(_STR_FIELDS) - {"api_access"}
        if unknown:
            raise PlansFileError(f"{where}: plans.{pid} has unknown fields: {', '.join(sorted(unknown))}")
        values: dict = {"id": pid, "currency": currency, "name": str(fields.get("name", pid.title()))}
        for f in _INT_FIELDS:
            v = fields.get(f, 0)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise PlansFileError(f"{where}: plans.{pid}.{f} must be a whole number from 0")
            values[f] = v
        for f in _STR_FIELDS[1:]:
            values[f] = str(fields.get(f, ""))
        values["api_access"] = bool(fields.get("api_access", False))
        plan = Plan(**values)
        for price in (plan.stripe_price_monthly, plan.stripe_price_yearly):
            if price and price in seen_prices:
                raise PlansFileError(f"{where}: price {price} is in plans.{seen_prices[price]} and plans.{pid}")
            if price:
                seen_prices[price] = pid
        plans[pid] = plan
    if plans["free"].paid:
        raise PlansFileError(f"{where}: the free plan cannot have Stripe prices")
    return plans


@functools.cache
def _load(path: str) -> dict[str, Plan]:
    p = Path(path)
    return parse(p.read_text(encoding="utf-8"), str(p))


def plans() -> dict[str, Plan]:
    """Every plan, Free first, in the file's order."""
    return _load(get_settings().billing_plans_file or str(DEFAULT_FILE))


def plan_for(plan_id: str | None) -> Plan:
    table = plans()
    return table.get(plan_id or "free", table["free"])


def plan_for_price(price_id: str) -> tuple[Plan, str] | None:
    """The plan a Stripe price sells, with its interval (``month`` or ``year``); None for a
    price that is not ours to sell."""
    for plan in plans().values():
        if price_id and price_id == plan.stripe_price_monthly:
            return plan, "month"
        if price_id and price_id == plan.stripe_price_yearly:
            return plan, "year"
    return None


def reset() -> None:
    """Read the plans file again (tests that point ``billing_plans_file`` elsewhere)."""
    _load.cache_clear()
