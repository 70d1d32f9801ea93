"""Tables of billing: each workspace's Stripe customer and subscription as Stripe last said,
the Stripe events already acted on (so a replay has no second effect), the invoices kept as
billing records, and the generations counted against each billing period.

No column holds a card number (BIL-1): Stripe keeps the card; we keep its brand and last four
digits, to show which card pays."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from omnipostr import clock
from omnipostr.crypto import ContentText

PAYING = ("active", "trialing", "past_due")
"""Subscription statuses that keep the paid plan. Past due keeps it while Stripe retries the
card; Stripe then ends the subscription (canceled or unpaid) if nobody pays."""


class BillingAccount(SQLModel, table=True):
    """A workspace's billing: its Stripe customer (created once, on the first upgrade) and the
    subscription as last fetched from Stripe. The workspace's ``plan`` follows from it.

    When the workspace is deleted the row stays, without the workspace, until its customer is
    deleted at Stripe (``customer_deleted_at``); the invoices stay as billing records."""

    __tablename__ = "billing_accounts"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int | None = Field(default=None, foreign_key="workspaces.id", ondelete="SET NULL", unique=True)
    stripe_customer_id: str | None = Field(default=None, max_length=255, unique=True)
    subscription_id: str = Field(default="", max_length=255, index=True)
    price_id: str = Field(default="", max_length=255)
    plan: str = Field(default="free", max_length=32)
    interval: str = Field(default="", max_length=8)
    """``month`` or ``year``; empty without a subscription."""
    status: str = Field(default="", max_length=32)
    """Stripe's subscription status (``active``, ``trialing``, ``past_due``, ``unpaid``,
    ``canceled``, ``incomplete`` ...); empty without a subscription."""
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    trial_end: datetime | None = None
    had_trial: bool = False
    """A subscription of this workspace had a free trial: Checkout offers none again."""
    attention: str = Field(default="", max_length=32)
    """``payment_failed`` or ``action_required`` while the latest invoice waits for the customer;
    empty once an invoice is paid."""
    attention_url: str = Field(default="", max_length=2000)
    """Stripe's hosted page of the invoice that needs attention."""
    card_brand: str = Field(default="", max_length=32)
    card_last4: str = Field(default="", max_length=4)
    billing_address: str = Field(default="", sa_column=Column(ContentText, nullable=False))
    """The billing address as Stripe has it, one line per part (encrypted)."""
    synced_at: datetime | None = None
    """When the subscription was last fetched from Stripe."""
    ended_at: datetime | None = None
    """When the last paid subscription ended (the account's data is kept 90 days after)."""
    delete_customer: bool = False
    """The workspace is gone and its Stripe customer is to be deleted (retried until Stripe
    answers)."""
    customer_deleted_at: datetime | None = None
    created_at: datetime = Field(default_factory=clock.now)


class StripeEvent(SQLModel, table=True):
    """A Stripe event acted on. Its id is the primary key and the row is written in the same
    transaction as the event's effect, so a redelivered event changes nothing."""

    __tablename__ = "stripe_events"

    id: str = Field(primary_key=True, max_length=255)
    type: str = Field(max_length=100)
    created: datetime
    """When Stripe created the event."""
    billing_account_id: int | None = Field(default=None, foreign_key="billing_accounts.id", ondelete="SET NULL",
                                           index=True)
    received_at: datetime = Field(default_factory=clock.now, index=True)
    source: str = Field(default="webhook", max_length=16)
    """``webhook`` or ``reconcile`` (found by the nightly job, missed by the webhook)."""


class Invoice(SQLModel, table=True):
    """An invoice as Stripe issued it: a billing record, kept for the tax period even after
    the workspace and the account are deleted; it holds no content."""

    __tablename__ = "invoices"

    id: int | None = Field(default=None, primary_key=True)
    stripe_invoice_id: str = Field(max_length=255, unique=True)
    billing_account_id: int | None = Field(default=None, foreign_key="billing_accounts.id", ondelete="SET NULL",
                                           index=True)
    workspace_id: int | None = Field(default=None, foreign_key="workspaces.id", ondelete="SET NULL", index=True)
    number: str = Field(default="", max_length=64)
    status: str = Field(default="", max_length=32)
    amount_due: int = 0
    amount_paid: int = 0
    currency: str = Field(default="usd", max_length=3)
    hosted_invoice_url: str = Field(default="", max_length=2000)
    period_start: datetime | None = None
    period_end: datetime | None = None
    issued_at: datetime = Field(default_factory=clock.now, index=True)
    """When Stripe created the invoice: the tax period runs from here."""


class UsagePeriod(SQLModel, table=True):
    """Generations a workspace started in one billing period (a calendar month on Free, the
    subscription's period on a paid plan). A start takes a unit with one conditional update,
    so parallel starts never exceed the limit; a failed generation gives its unit back."""

    __tablename__ = "usage_periods"
    __table_args__ = (UniqueConstraint("workspace_id", "period_start"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    period_start: datetime
    period_end: datetime
    generations: int = 0
    variants: int = 0


class UsageDay(SQLModel, table=True):
    """Generations a workspace started each day (UTC), for the billing page's chart."""

    __tablename__ = "usage_days"
    __table_args__ = (UniqueConstraint("workspace_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", ondelete="CASCADE", index=True)
    day: str = Field(max_length=10)  # "2026-12-05"
    generations: int = 0
