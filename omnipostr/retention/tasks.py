"""Retention's jobs: one a day for each rule, at night (UTC), a few minutes apart. Each run
is recorded with how many rows it purged (``items``); what was due but held is logged. The
deletion of accounts nobody uses is privacy erasure's job (``privacy.inactive_accounts``)."""

from __future__ import annotations

from collections.abc import Callable

from omnipostr.jobs.registry import register
from omnipostr.retention import service

RULES: list[tuple[str, str, Callable[..., service.Counts]]] = [
    ("retention.source_text", "5 3 * * *", service.purge_source_text),  # RET-1: original text
    ("retention.history", "10 3 * * *", service.purge_history),  # RET-3: history; the posts stay
    ("retention.account_warnings", "15 3 * * *", service.warn_inactive_accounts),  # RET-4: warned once
    ("retention.sessions", "20 3 * * *", service.purge_sessions),
    ("retention.tokens", "25 3 * * *", service.purge_tokens),
    ("retention.invites", "27 3 * * *", service.purge_invites),
    ("retention.login_failures", "30 3 * * *", service.purge_login_failures),
    ("retention.usage_events", "35 3 * * *", service.purge_usage_events),
]


def _job(rule: Callable[..., service.Counts]) -> Callable:
    def run(session_factory) -> service.Counts:
        with session_factory() as s:
            return rule(s)

    run.__name__ = rule.__name__
    run.__doc__ = rule.__doc__
    return run


for _name, _cron, _rule in RULES:
    register(_name, _job(_rule), cron=_cron)
