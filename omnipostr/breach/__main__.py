"""The breach register for operators, until the admin view has it:

    python -m omnipostr.breach record --admin EMAIL --summary TEXT --discovered 2026-12-05T09:30Z \\
        --data account,device --consequences TEXT --measures TEXT --advice TEXT [--occurred ...]
    python -m omnipostr.breach notify INCIDENT_ID --admin EMAIL [--users 4,9 | --workspace 3 | --all]
    python -m omnipostr.breach authority INCIDENT_ID --admin EMAIL [--at 2026-12-06T10:00Z]
    python -m omnipostr.breach show [INCIDENT_ID] --admin EMAIL

``--admin`` names the admin account that acts (the register keeps who recorded what). Times
are ISO 8601; one without a zone is UTC. The outbox job delivers the notices.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlmodel import Session, select

from omnipostr.accounts.models import User
from omnipostr.breach import service
from omnipostr.crypto import email_index
from omnipostr.personal_data import CATEGORIES


def _when(value: str) -> datetime:
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _ids(value: str) -> list[int]:
    try:
        return [int(x) for x in value.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("account ids are numbers separated by commas") from None


def _admin_id(s: Session, email: str) -> int:
    uid = s.exec(select(User.id).where(User.email_index == email_index(email))).first()
    if uid is None:
        raise service.NotAllowed(f"No account has the address {email}.")
    return uid


def _show(v: service.IncidentView) -> str:
    i = v.incident
    day = "%Y-%m-%d %H:%M UTC"
    return "\n".join([
        f"Incident {i.id}: {i.summary}",
        f"  happened:   {i.occurred_at.strftime(day) if i.occurred_at else 'unknown'}",
        f"  discovered: {i.discovered_at.strftime(day)}",
        f"  data:       {', '.join(i.data_categories)}",
        f"  authority:  {i.authority_notified_at.strftime(day) if i.authority_notified_at else 'not told'}"
        f" (deadline {i.authority_deadline.strftime(day)}: {v.authority_status})",
        f"  accounts:   {v.affected} affected, {v.notified} notified",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omnipostr.breach", description="The register of personal data breaches.")
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="add an incident to the register")
    rec.add_argument("--admin", required=True, help="the address of the admin account that records it")
    rec.add_argument("--summary", required=True, help="what happened")
    rec.add_argument("--discovered", required=True, type=_when, help="when it was discovered (ISO 8601)")
    rec.add_argument("--occurred", type=_when, help="when it happened, if known")
    rec.add_argument("--data", required=True, help=f"kinds of data affected, comma-separated: {', '.join(CATEGORIES)}")
    rec.add_argument("--consequences", required=True, help="its likely consequences")
    rec.add_argument("--measures", required=True, help="what was done about it")
    rec.add_argument("--advice", required=True, help="what affected people should do")
    rec.add_argument("--authority-notified", type=_when, help="when the supervisory authority was told, if it was")
    note = sub.add_parser("notify", help="choose affected accounts and send them the notice (each one once)")
    note.add_argument("incident", type=int)
    note.add_argument("--admin", required=True)
    who = note.add_mutually_exclusive_group()
    who.add_argument("--users", type=_ids, help="account ids, comma-separated")
    who.add_argument("--workspace", type=int, help="every member of this workspace")
    who.add_argument("--all", action="store_true", help="every account")
    auth = sub.add_parser("authority", help="record when the supervisory authority was told")
    auth.add_argument("incident", type=int)
    auth.add_argument("--admin", required=True)
    auth.add_argument("--at", type=_when, help="when (default: now)")
    show = sub.add_parser("show", help="the register, or one incident")
    show.add_argument("incident", type=int, nargs="?")
    show.add_argument("--admin", required=True)
    args = parser.parse_args(argv)

    from omnipostr import db
    from omnipostr import tables as _tables  # noqa: F401 - every table, for the foreign keys

    try:
        with db.session() as s:
            by = _admin_id(s, args.admin)
            if args.command == "record":
                row = service.record_incident(
                    s, by=by, summary=args.summary, discovered_at=args.discovered, occurred_at=args.occurred,
                    data_categories=args.data.split(","), consequences=args.consequences, measures=args.measures,
                    advice=args.advice, authority_notified_at=args.authority_notified,
                )
                print(_show(service.get_incident(s, row.id, by=by)))
            elif args.command == "notify":
                if args.users is not None or args.workspace is not None or args.all:
                    added = service.select_affected(
                        s, args.incident, by=by, user_ids=args.users, workspace_id=args.workspace, everyone=args.all,
                    )
                    print(f"{added} account(s) added to those affected.")
                r = service.send_notice(s, args.incident, by=by)
                print(f"{r.queued} notice(s) queued, {r.already} had it already"
                      + (f", {r.skipped} skipped (address cannot be mailed)" if r.skipped else "")
                      + ". The app's outbox job delivers them.")
            elif args.command == "authority":
                service.authority_notified(s, args.incident, by=by, at=args.at)
                print(_show(service.get_incident(s, args.incident, by=by)))
            else:
                views = [service.get_incident(s, args.incident, by=by)] if args.incident else service.register(s, by=by)
                print("\n\n".join(_show(v) for v in views) or "The register is empty.")
    except service.BreachError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
