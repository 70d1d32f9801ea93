"""What personal data OmniPostr holds, declared once by the capability that stores it.

Each capability lists its tables in its own ``personal_data.py`` as :class:`Holding` rows
(``HOLDINGS``) or, for a table that holds nothing about a person, in ``NOT_PERSONAL`` with the
reason. The privacy center, the data export, erasure and the retention jobs read these
declarations through ``omnipostr.privacy.inventory``; a test fails when a table that refers to
a user or a workspace is declared nowhere.

``rows(session, user)`` gives one user's rows of the table as JSON-ready dicts, never another
user's, never a password hash, a token hash or a key. ``count(session, user)`` says how many
there are (for "what we hold"); a table that can grow large gives a ``counter`` that counts
them in the database instead of reading (and decrypting) them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

CATEGORIES = {
    "account": "Account",
    "content": "Your content",
    "generated": "Generated posts",
    "history": "Generation history",
    "usage": "Usage",
    "billing": "Billing",
    "device": "Sessions and devices",
    "communication": "Email we sent you",
    "consent": "Consents and choices",
    "privacy": "Privacy requests",
    "security": "Security activity",
}


@dataclass(frozen=True)
class Holding:
    table: str  # the table's name
    category: str  # a key of CATEGORIES
    what: str  # what it is, in a sentence a user understands
    purpose: str
    basis: str  # the legal basis: contract, legitimate interest, consent, legal obligation
    retention: str  # a key of the retention rules (see ``omnipostr.privacy.inventory.RETENTION``)
    rows: Callable[[Any, Any], list[dict]]  # (session, user) -> one user's rows
    erase: str = "delete"  # delete | anonymise (kept by a team without the person's name) | keep
    counter: Callable[[Any, Any], int] | None = None  # (session, user) -> how many rows, without reading them

    def count(self, session, user) -> int:
        return self.counter(session, user) if self.counter else len(self.rows(session, user))


def plain(value: Any) -> Any:
    """A value as JSON holds it: times in ISO 8601 (UTC), everything else as it is."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def pick(row: Any, *names: str) -> dict:
    """The named columns of ``row`` as a JSON-ready dict."""
    return {n: plain(getattr(row, n)) for n in names}
