"""Accounts' jobs: do what visitors asked for (sign-up, confirmation and reset mail) every
second; clear spent tokens, old sign-in failures and long-dead sessions daily."""

from __future__ import annotations

from omnipostr.accounts import service
from omnipostr.jobs.registry import job


@job("accounts.purge_expired", cron="17 4 * * *")
def purge_expired(session_factory) -> int:
    with session_factory() as s:
        return service.purge_expired(s)


@job("accounts.requests", seconds=1.0, quiet=True)
def process_requests(session_factory) -> int:
    with session_factory() as s:
        return service.process_account_requests(s)
