"""Generation quotas: how many generations a workspace may start in its billing period, taken
and given back so that parallel starts never pass the limit.

A workspace's period is its paid subscription's current period while the subscription lives
(active, trialing or past due), else the calendar month (UTC). A yearly subscription counts
month by month from its start, since every plan's limit is a monthly one.

Taking a unit is one conditional UPDATE of the period's row (``generations < limit``): the
database serialises it with every other start of the workspace, on SQLite (one writer at a
time, waiting up to the busy timeout) as on PostgreSQL (the row lock, and the WHERE checked
again on the row as the other transaction left it). No count is read first and written
later, so two starts can never both take the last unit.

Every function works in the caller's transaction and never commits: a start that fails after
taking its unit rolls the unit back with everything else it wrote.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, update
from sqlmodel import Session, select

from omnipostr import clock, db
from omnipostr.accounts.models import Workspace
from omnipostr.billing.models import PAYING, BillingAccount, UsageDay, UsagePeriod
from omnipostr.billing.plans import Plan, plan_for


class QuotaExceeded(Exception):
    """The workspace has used every generation of its plan for the period."""

    def __init__(self, limit: int, plan: str, period_end: datetime):
        self.limit = limit
        self.plan = plan
        self.period_end = period_end
        self.message = (
            f"This workspace has used all {limit} generations of the {plan} plan for this period. "
            f"The count starts again on {day_label(period_end)}."
        )
        super().__init__(self.message)


@dataclass
class Usage:
    used: int
    limit: int
    plan: str
    """The plan's name, as the pricing page shows it."""
    period_start: datetime
    period_end: datetime
    days: list[tuple[str, int]] = field(default_factory=list)
    """Generations started each day (UTC) of the period up to today, oldest first, days
    without any included: ``("2026-12-05", 3)``."""

    @property
    def left(self) -> int:
        return max(self.limit - self.used, 0)


def day_label(d: datetime | date) -> str:
    """A date as the app's pages show one ("1 Jan 2027")."""
    return f"{d.day} {d:%b %Y}"


# --- periods -----------------------------------------------------------------------------


def _add_months(anchor: datetime, months: int) -> datetime:
    """``anchor`` moved by whole months, its day kept where the month has it (31 Jan + 1
    month = 28 or 29 Feb), as Stripe moves a billing anchor."""
    y, m = divmod(anchor.month - 1 + months, 12)
    year, month = anchor.year + y, m + 1
    return anchor.replace(year=year, month=month, day=min(anchor.day, calendar.monthrange(year, month)[1]))


def calendar_month(now: datetime) -> tuple[datetime, datetime]:
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start, _add_months(start, 1)


def _subscription_slice(start: datetime, end: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The month of a subscription period that holds ``now`` (the whole period when it is
    a month or shorter: a monthly period's length varies with its anchor day)."""
    if end - start <= timedelta(days=31):
        return start, end
    k = 0
    while (nxt := _add_months(start, k + 1)) <= now and nxt < end:
        k += 1
    return _add_months(start, k), min(_add_months(start, k + 1), end)


def current_period(s: Session, workspace_id: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """(start, end) of the period the workspace's generations count against now; ``end`` is
    the first moment of the next one."""
    now = now or clock.now()
    acct = s.exec(select(BillingAccount).where(BillingAccount.workspace_id == workspace_id)).first()
    if (
        acct is not None
        and acct.status in PAYING
        and acct.current_period_start is not None
        and acct.current_period_end is not None
        and acct.current_period_start <= now < acct.current_period_end
    ):
        return _subscription_slice(acct.current_period_start, acct.current_period_end, now)
    return calendar_month(now)


def workspace_plan(s: Session, workspace_id: int) -> Plan:
    """The plan the workspace is on now (Free for one that no longer exists)."""
    ws = s.get(Workspace, workspace_id)
    return plan_for(ws.plan if ws else None)


# --- taking and giving back ------------------------------------------------------------------


def _day(when: datetime) -> str:
    return when.astimezone(UTC).date().isoformat()


def consume(s: Session, workspace_id: int, variants: int = 0, *, now: datetime | None = None) -> datetime:
    """Take one generation (with ``variants`` posts) from the workspace's current period.
    Returns the start of the period it was taken from (keep it to give the unit back);
    raises :class:`QuotaExceeded` when none is left, having changed nothing. ``now``: the
    moment it counts at (the caller records it to give the unit back on the same day)."""
    now = now or clock.now()
    start, end = current_period(s, workspace_id, now)
    plan = workspace_plan(s, workspace_id)
    conn = s.connection()
    # the period's row, made by whichever start comes first; a start that finds it made (or
    # being made by a transaction not yet committed, which it waits for) does nothing here
    conn.execute(
        db.upsert(s, UsagePeriod)
        .values(workspace_id=workspace_id, period_start=start, period_end=end, generations=0, variants=0)
        .on_conflict_do_nothing(index_elements=["workspace_id", "period_start"])
    )
    taken = conn.execute(
        update(UsagePeriod)
        .where(
            UsagePeriod.workspace_id == workspace_id,
            UsagePeriod.period_start == start,
            UsagePeriod.generations < plan.generations_per_month,
        )
        # the end as Stripe says it now (a period can be stretched without a new start)
        .values(generations=UsagePeriod.generations + 1, variants=UsagePeriod.variants + variants, period_end=end)
    )
    if taken.rowcount != 1:
        raise QuotaExceeded(plan.generations_per_month, plan.name, end)
    days = UsageDay.__table__
    conn.execute(
        db.upsert(s, UsageDay)
        .values(workspace_id=workspace_id, day=_day(now), generations=1)
        .on_conflict_do_update(index_elements=["workspace_id", "day"], set_={"generations": days.c.generations + 1})
    )
    return start


def refund(
    s: Session, workspace_id: int, period_start: datetime, variants: int = 0, *, taken_at: datetime | None = None
) -> None:
    """Give back a unit taken from the period starting ``period_start``, and take it off the
    chart's day it was counted on (``taken_at``; today when not known). Counts never go
    below zero. The caller makes sure a unit is given back once (see
    ``repurpose.service.refund_failed``)."""
    conn = s.connection()
    conn.execute(
        update(UsagePeriod)
        .where(UsagePeriod.workspace_id == workspace_id, UsagePeriod.period_start == period_start)
        .values(
            generations=case((UsagePeriod.generations > 0, UsagePeriod.generations - 1), else_=0),
            variants=case((UsagePeriod.variants > variants, UsagePeriod.variants - variants), else_=0),
        )
    )
    conn.execute(
        update(UsageDay)
        .where(
            UsageDay.workspace_id == workspace_id,
            UsageDay.day == _day(taken_at or clock.now()),
            UsageDay.generations > 0,
        )
        .values(generations=UsageDay.generations - 1)
    )


# --- reading --------------------------------------------------------------------------------


def usage(s: Session, workspace_id: int) -> Usage:
    """What the workspace used of its current period, with a count per day for a chart."""
    now = clock.now()
    start, end = current_period(s, workspace_id, now)
    plan = workspace_plan(s, workspace_id)
    row = s.exec(
        select(UsagePeriod).where(UsagePeriod.workspace_id == workspace_id, UsagePeriod.period_start == start)
    ).first()
    first = start.astimezone(UTC).date()
    last = min(now, end - timedelta(microseconds=1)).astimezone(UTC).date()
    keys = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    counted = dict(
        s.exec(
            select(UsageDay.day, UsageDay.generations).where(
                UsageDay.workspace_id == workspace_id, UsageDay.day >= keys[0], UsageDay.day <= keys[-1]
            )
        ).all()
    ) if keys else {}
    return Usage(
        used=row.generations if row else 0,
        limit=plan.generations_per_month,
        plan=plan.name,
        period_start=start,
        period_end=end,
        days=[(k, counted.get(k, 0)) for k in keys],
    )
