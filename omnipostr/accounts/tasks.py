"""Accounts' jobs: do what visitors asked for (sign-up, confirmation and reset mail) every
second. (Spent tokens, old sign-in failures and ended sessions are the retention jobs'.)"""

from __future__ import annotations

from omnipostr.accounts import service
from omnipostr.jobs.registry import job


@job("accounts.requests", seconds=1.0, quiet=True)
def process_requests(session_factory) -> int:
    with session_factory() as s:
        return service.process_account_requests(s)
