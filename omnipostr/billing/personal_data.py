"""The personal data billing keeps (see ``omnipostr.personal_data``).

Counts of generations belong to a workspace, not to the person who started them: a user's
rows are those of the workspaces they own, as on the billing page only the owner sees."""

from __future__ import annotations

from sqlmodel import col, select

from omnipostr.accounts.models import Workspace
from omnipostr.billing.models import BillingAccount, Invoice, UsageDay, UsagePeriod
from omnipostr.personal_data import Holding, pick


def _owned(user):
    return select(Workspace.id).where(Workspace.owner_id == user.id)


def _periods(s, user) -> list[dict]:
    rows = s.exec(
        select(UsagePeriod).where(col(UsagePeriod.workspace_id).in_(_owned(user))).order_by(col(UsagePeriod.id))
    ).all()
    return [pick(r, "workspace_id", "period_start", "period_end", "generations", "variants") for r in rows]


def _days(s, user) -> list[dict]:
    rows = s.exec(
        select(UsageDay).where(col(UsageDay.workspace_id).in_(_owned(user))).order_by(col(UsageDay.id))
    ).all()
    return [pick(r, "workspace_id", "day", "generations") for r in rows]


def _accounts(s, user) -> list[dict]:
    """The billing of the workspaces the user owns: plan, status, the card's brand and last
    four digits, the billing address (never a card number: Stripe keeps the card). The Stripe
    customer id is Stripe's reference, not the person's data, and stays out."""
    rows = s.exec(
        select(BillingAccount).where(col(BillingAccount.workspace_id).in_(_owned(user))).order_by(col(BillingAccount.id))
    ).all()
    return [pick(r, "workspace_id", "plan", "interval", "status", "current_period_start", "current_period_end",
                 "cancel_at_period_end", "trial_end", "card_brand", "card_last4", "billing_address", "created_at")
            for r in rows]


def _invoices(s, user) -> list[dict]:
    rows = s.exec(
        select(Invoice).where(col(Invoice.workspace_id).in_(_owned(user))).order_by(col(Invoice.id))
    ).all()
    return [pick(r, "workspace_id", "number", "status", "amount_due", "amount_paid", "currency", "period_start",
                 "period_end", "issued_at", "hosted_invoice_url") for r in rows]


CONTRACT = "contract: the service you asked for"
LEGAL = "legal obligation: tax and accounting law"

HOLDINGS = [
    Holding("usage_periods", "usage", "How many generations each workspace you own started in each billing period "
            "(no content).", "Plan limits.", CONTRACT, "account", _periods),
    Holding("usage_days", "usage", "How many generations each workspace you own started each day (no content).",
            "Show your usage over the billing period.", CONTRACT, "account", _days),
    Holding("billing_accounts", "billing", "The plan of each workspace you own, its status and renewal, the brand "
            "and last four digits of the card that pays, and the billing address.",
            "Bill the plan you chose; show which card pays.", CONTRACT, "billing", _accounts),
    Holding("invoices", "billing", "The invoices Stripe issued for the workspaces you own: number, date, amount "
            "and status (no content).", "Tax and accounting records.", LEGAL, "billing", _invoices, erase="keep"),
]

NOT_PERSONAL: dict[str, str] = {
    "stripe_events": "The ids and types of Stripe's events already acted on (so none acts twice); they name a "
                     "billing account, not a person, and hold nothing the person wrote.",
}
