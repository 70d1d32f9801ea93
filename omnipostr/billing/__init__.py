"""Billing: plans and their limits (Stripe checkout, portal and webhooks land here later)."""
