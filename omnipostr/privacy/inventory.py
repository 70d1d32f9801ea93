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


def retention(rule: str) -> str:
    """A retention rule in words."""
    c = get_settings()
    months = round(c.retention_history_days / 30.4)
    return {
        "account": f"While your account is open, and {c.retention_account_days} days after your subscription ends.",
        "invite": f"Until it is accepted, or {c.invite_days} days.",
        "session": f"Until you sign out or it ends (after {c.session_days} days at most), then 30 days.",
        "token": "Until it is used or expires, then one day.",
        "transient": "Seconds: until the mail is sent.",
        "failure": "One day.",
        "source_text": f"{c.retention_source_days} days after you added it, or until you delete it.",
        "history": f"{months} months.",
        "generated": "Until you delete it.",
        "usage": "Until you delete your account.",
        "mail": f"{c.outbox_keep_days} days after it was sent ({c.outbox_failed_keep_days} if it could not be delivered).",
        "export": f"{c.export_link_days} days after it is ready, then deleted.",
        "consent": "While your account is open; after that kept without your name, as the record of what was chosen.",
    }[rule]


def processors() -> list[tuple[str, str]]:
    """Who else handles personal data for us, from the configuration: (who, for what)."""
    c = get_settings()
    out = []
    if c.anthropic_api_key is not None:
        out.append(("Anthropic (Claude)", "Writes the posts from the content you submit; keeps nothing after the answer."))
    if c.smtp_host:
        out.append((f"Mail provider ({c.smtp_host})", "Delivers the email we send you."))
    out.append(("Database and hosting provider", "Stores the data, encrypted at rest, and runs the app."))
    return out
