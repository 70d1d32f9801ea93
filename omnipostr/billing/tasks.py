"""Billing's jobs: the nightly reconciliation with Stripe (events the webhook missed), and the
deletion at Stripe of the customers of deleted workspaces (retried every few minutes until
Stripe answers). Both skip when billing is off."""

from __future__ import annotations

from omnipostr.billing import service
from omnipostr.billing import stripe_gateway as gateway
from omnipostr.jobs.registry import Skip, job


@job("billing.reconcile", cron="50 2 * * *")
def reconcile(session_factory) -> int:
    if not gateway.enabled():
        raise Skip("billing is off")
    with session_factory() as s:
        return sum(service.reconcile(s).values())


@job("billing.delete_customers", seconds=300.0, quiet=True)
def delete_customers(session_factory) -> int:
    with session_factory() as s:
        counts = service.delete_customers(s)
    if counts["waiting"]:
        raise RuntimeError(f"Stripe did not answer: {counts['waiting']} customer(s) to delete at the next run")
    return counts["deleted"]


@job("billing.purge_records", cron="45 3 * * *")
def purge_records(session_factory) -> int:
    """RET-5: invoices older than the tax period (``billing_record_years``)."""
    with session_factory() as s:
        return service.purge_records(s)
