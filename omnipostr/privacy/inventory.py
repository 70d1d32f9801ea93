"""The data inventory: every table that holds personal data, read from the declarations each
capability makes in its ``personal_data.py`` (see ``omnipostr.personal_data``), and the
retention rules they name, in words filled from the settings the retention jobs read."""

from __future__ import annotations

import functools
import importlib
import pkgutil

import omnipostr
from omnipostr.personal_data import CATEGORIES, Holding
from omnipostr.settings import get_settings


@functools.cache
def _modules() -> tuple:
    out = []
    for info in pkgutil.iter_modules(omnipostr.__path__):
        if not info.ispkg:
            continue
        name = f"omnipostr.{info.name}.personal_data"
        if importlib.util.find_spec(name) is not None:
            out.append(importlib.import_module(name))
    return tuple(out)


def holdings() -> list[Holding]:
    """Every declared holding, grouped by category in the order of ``CATEGORIES``."""
    found = [h for m in _modules() for h in m.HOLDINGS]
    order = list(CATEGORIES)
    return sorted(found, key=lambda h: order.index(h.category))


def not_personal() -> dict[str, str]:
    """Tables declared to hold nothing about a person, with the reason."""
    return {t: why for m in _modules() for t, why in m.NOT_PERSONAL.items()}


def span(days: int) -> str:
    """A period in words: whole years as months, as the policy says them (365 days: "12
    months"), else days."""
    if days >= 365 and days % 365 == 0:
        return f"{days // 365 * 12} months"
    return "1 day" if days == 1 else f"{days} days"


def retention(rule: str) -> str:
    """A retention rule in words, from the settings the retention jobs read
    (``omnipostr.retention.service``)."""
    c = get_settings()
    return {
        "account": f"While your account is open, and {c.retention_account_days} days after your subscription ends "
                   f"(a free account ends when it is not used for {span(c.retention_inactive_days)}; we email you "
                   f"{span(c.retention_warning_days)} before it is deleted).",
        "invite": f"Until it is accepted or withdrawn, or {c.invite_days} days; then {span(c.retention_token_days)}.",
        "session": f"Until you sign out or it ends (after {c.session_days} days at most), then "
                   f"{span(c.retention_session_days)}.",
        "token": f"Until it is used or expires, then {span(c.retention_token_days)}.",
        "api_key": f"Until it is revoked (or you delete your account), then {span(c.retention_token_days)}.",
        "transient": "Seconds: until the mail is sent.",
        "failure": f"{span(c.retention_login_failure_days).capitalize()}.",
        "source_text": f"{c.retention_source_days} days after you added it, or until you delete it.",
        "history": f"{span(c.retention_history_days).capitalize()}.",
        "generated": "Until you delete it.",
        "usage": f"{span(c.retention_usage_days).capitalize()}, or until you delete your account; the records of "
                 "your privacy choices while your account is open.",
        "hold": "While the legal hold lasts. The record of it (when it was placed and released) is kept as evidence "
                "of the legal matter; once your account is deleted it no longer points to you.",
        "mail": f"{c.outbox_keep_days} days after it was sent ({c.outbox_failed_keep_days} if it could not be delivered).",
        "export": f"{c.export_link_days} days after it is ready, then deleted.",
        "consent": "While your account is open; after that kept without your name, as the record of what was chosen.",
        "audit": f"{span(c.audit_keep_days).capitalize()}; if you delete your account, kept until then without your name "
                 "or IP address.",
        "billing": f"Invoices: {c.billing_record_years} years after they were issued (the tax period), also after you "
                   "delete your account, with no content. The payment details and billing address: while the "
                   "workspace exists; the Stripe customer is deleted with it.",
        "incident": "Kept as the record of the breach the law asks for; without your name if you delete your account.",
    }[rule]


def policy_retention() -> list[tuple[str, str]]:
    """The privacy policy's table "Our Data Retention for Content" (5.2), row by row, in the
    policy's words with the periods the retention jobs apply (RET-6)."""
    c = get_settings()
    return [
        ("Original Content", f"{c.retention_source_days} days or until you delete it."),
        ("Generated Content", "Indefinitely, unless you delete it."),
        ("Generation History", f"{span(c.retention_history_days)}."),
        ("Account Data", f"For the duration of your subscription + {c.retention_account_days} days."),
    ]


def processors() -> list[tuple[str, str]]:
    """Who else handles personal data for us, from the configuration: (who, for what)."""
    c = get_settings()
    out = []
    if c.anthropic_api_key is not None:
        out.append(("Anthropic (Claude)", "Writes the posts from the content you submit; keeps nothing after the answer."))
    if c.stripe_secret_key is not None:
        out.append(("Stripe", "Takes payments for paid plans and keeps the card; we keep only its brand and last "
                              "four digits, and the invoices."))
    if c.smtp_host:
        out.append((f"Mail provider ({c.smtp_host})", "Delivers the email we send you."))
    out.append(("Database and hosting provider", "Stores the data, encrypted at rest, and runs the app."))
    return out
