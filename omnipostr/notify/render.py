"""Email templates: one Jinja2 file per kind in ``templates/``, with three blocks —
``subject``, ``text`` (the plain-text part, always sent) and ``html`` (placed in the shared
layout ``_layout.html.jinja``).

HTML is rendered with autoescaping, so a name like ``<b>Eve</b>`` arrives as text; the plain
text part and the subject are rendered without it (they are not HTML). Undefined variables
are errors, so a missing value fails at enqueue instead of sending a broken email. Links
must be absolute http(s) URLs.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATE_DIR = Path(__file__).parent / "templates"

KINDS: dict[str, tuple[str, ...]] = {
    "verify_email": ("name", "link"),
    "reset_password": ("name", "link", "minutes"),
    "password_changed": ("name", "when", "ip", "browser"),
    "new_device_login": ("name", "when", "ip", "browser", "os", "link"),
    "invite": ("inviter_name", "workspace_name", "role", "link"),
    "email_change_verify": ("name", "link"),
    "email_changed_notice": ("name", "new_email"),
    "account_exists": ("name", "login_link", "reset_link"),
    "privacy_request_code": ("code", "minutes", "kind_name", "reference"),
    "notice": ("subject", "paragraphs"),
    "marketing": ("subject", "paragraphs", "unsubscribe_link", "settings_link"),
    "billing_receipt": ("name", "workspace", "invoice", "link"),
    "billing_payment_problem": ("name", "workspace", "invoice", "action_required", "link"),
    "billing_plan_changed": ("name", "workspace", "before", "after", "link"),
    "billing_trial_ending": ("name", "workspace", "plan", "trial_end", "link"),
    "breach_notice": ("name", "what_happened", "data_affected", "consequences", "measures", "advice", "privacy_email"),
}
"""Every message kind and the context it needs (more keys are allowed)."""

MARKETING_KINDS = frozenset({"marketing"})
"""Kinds that are marketing email: queued only with ``marketing=True`` (one-click unsubscribe
link and headers), and only for people who opted in (``privacy.marketing``)."""


@dataclasses.dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def _url(value: Any) -> str:
    s = str(value)
    if not re.match(r"https?://[^\s<>\"']+$", s):
        raise ValueError("email links must be absolute http(s) URLs")
    return s


def mask_email(value: Any) -> str:
    """``a***@example.com``: enough to recognise one's own address, not to learn someone's."""
    local, _, domain = str(value).partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def _env(autoescape: bool) -> Environment:
    # The plain-text part and the subject are not HTML: escaping them would garble them.
    escape = select_autoescape(default=True, default_for_string=True) if autoescape else False
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=escape,  # noqa: S701
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(when=_when, url=_url, mask_email=mask_email)
    return env


@functools.cache
def _envs() -> tuple[Environment, Environment]:
    return _env(False), _env(True)


def _common() -> dict[str, Any]:
    from omnipostr.settings import get_settings

    s = get_settings()
    return {
        "company_name": s.company_name,
        "base_url": s.base_url,
        "support_email": s.support_email,
        "unsubscribe_link": None,
    }


def _one_line(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def render(kind: str, context: dict[str, Any]) -> Rendered:
    """Render message ``kind`` with ``context``. Raises ``ValueError`` for an unknown kind or
    a missing value."""
    if kind not in KINDS:
        raise ValueError(f"unknown email kind {kind!r}")
    missing = [k for k in KINDS[kind] if k not in context]
    if missing:
        raise ValueError(f"email {kind!r} needs {', '.join(missing)}")
    ctx = {**_common(), **context}
    text_env, html_env = _envs()
    name = f"{kind}.jinja"

    text_tmpl = text_env.get_template(name)
    tctx = text_tmpl.new_context(ctx)
    subject = _one_line("".join(text_tmpl.blocks["subject"](tctx)))[:300]
    body = "".join(text_tmpl.blocks["text"](tctx)).strip()
    footer = text_env.get_template("_footer.txt.jinja").render(ctx).strip()
    text = f"{body}\n\n{footer}\n"

    html = html_env.get_template(name).render({**ctx, "subject": subject})
    return Rendered(subject=subject, text=text, html=html)
