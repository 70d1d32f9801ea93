"""Legal holds and retention for operators, until the admin view has them:

    python -m omnipostr.retention hold --admin EMAIL --account EMAIL --reason TEXT
    python -m omnipostr.retention release HOLD_ID --admin EMAIL [--reason TEXT]
    python -m omnipostr.retention holds --admin EMAIL [--account EMAIL]
    python -m omnipostr.retention dry-run

``--admin`` names the admin account that acts (the hold keeps who placed and released it).
``dry-run`` says what each retention rule would purge now, and what it keeps for a hold,
changing nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlmodel import Session, select

from omnipostr.accounts.models import User
from omnipostr.crypto import email_index
from omnipostr.retention import holds, service
from omnipostr.retention.models import LegalHold


def _account(s: Session, email: str) -> int:
    uid = s.exec(select(User.id).where(User.email_index == email_index(email))).first()
    if uid is None:
        raise holds.HoldRefused(f"No account has the address {email}.")
    return uid


def _show(h: LegalHold) -> str:
    day = "%Y-%m-%d %H:%M UTC"
    state = f"released {h.released_at.strftime(day)} by account {h.released_by}" if h.released_at else "in force"
    return (f"Hold {h.id} on account {h.user_id if h.user_id is not None else '(deleted)'}: {h.reason}\n"
            f"  placed {h.placed_at.strftime(day)} by account {h.placed_by}; {state}"
            + (f" ({h.release_reason})" if h.release_reason else ""))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omnipostr.retention", description="Legal holds and retention.")
    sub = parser.add_subparsers(dest="command", required=True)
    hold = sub.add_parser("hold", help="place a legal hold on an account")
    hold.add_argument("--admin", required=True, help="the address of the admin account that places it")
    hold.add_argument("--account", required=True, help="the address of the account to hold")
    hold.add_argument("--reason", required=True, help="the matter, the request or the authority")
    rel = sub.add_parser("release", help="release a legal hold")
    rel.add_argument("hold", type=int)
    rel.add_argument("--admin", required=True)
    rel.add_argument("--reason", default="")
    show = sub.add_parser("holds", help="list the holds (of one account)")
    show.add_argument("--admin", required=True)
    show.add_argument("--account")
    sub.add_parser("dry-run", help="what each retention rule would purge now")
    args = parser.parse_args(argv)

    from omnipostr import db
    from omnipostr import tables as _tables  # noqa: F401 - every table, for the foreign keys

    try:
        with db.session() as s:
            if args.command == "dry-run":
                for c in service.run_all(s, dry_run=True):
                    print(f"{c.rule:18} would purge {c.count:8,}   kept for a legal hold {c.held:6,}")
                due, held = len(service.accounts_due_for_erasure(s)), service.held_accounts_due(s)
                print(f"{'inactive_accounts':18} would delete {due:7,}   kept for a legal hold {held:6,}")
                return 0
            by = _account(s, args.admin)
            if args.command == "hold":
                print(_show(holds.place(s, by, _account(s, args.account), args.reason)))
            elif args.command == "release":
                print(_show(holds.release(s, by, args.hold, args.reason)))
            else:
                rows = holds.listing(s, by, _account(s, args.account) if args.account else None)
                print("\n".join(_show(h) for h in rows) or "No holds.")
    except holds.HoldRefused as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
