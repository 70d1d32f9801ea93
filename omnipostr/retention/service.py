"""The retention rules, applied (PROMISES RET-1..4, RET-6, SHR-2).

Every period is a setting (``omnipostr.settings``: ``retention_*``, ``session_days``...), and
the words the policy page and the privacy center show are filled from the same settings
(``omnipostr.privacy.inventory``), so changing a period changes both what is said and what
is done.

Each rule is a ``purge_<what>(s, *, dry_run=False) -> Counts`` that a daily job runs
(``retention.tasks``). It works in batches of ``retention_batch_size`` rows, each committed on
its own, so a run never holds the database long; it is safe to run twice or in two processes
at once (each batch re-checks its rows). A dry run counts the same rows and changes nothing.
Rows of an account under a legal hold (``retention.holds``) are skipped and counted as held.

- RET-1 ``purge_source_text``: the original text of a source goes ``retention_source_days``
  after it was added; the row stays as a stub (title, counts, when and why the text went), and
  the posts made from it stay. The library's search index holds the words of titles and posts,
  never of a source, so it has nothing to remove.
- RET-3 ``purge_history``: a generation's history (its options, engine, model, errors, token
  counts, cost, timings and worker, and the same per post) goes ``retention_history_days``
  after the generation; the generation stays as the posts' place in the library (title,
  platforms, date), and the posts stay as they are (RET-2).
- RET-4 ``warn_inactive_accounts``: a free account's subscription ends when nobody has signed
  in to it or used it for ``retention_inactive_days``; it is deleted ``retention_account_days`` after that end. Its
  owner is emailed once, ``retention_warning_days`` before; a sign-in after the warning makes
  it active again. ``accounts_due_for_erasure`` lists the accounts whose day has come, for
  privacy erasure to delete (``privacy.erasure.expire_inactive``). An account that owns a
  workspace on a paid plan is not in scope while it pays; when the paid subscription ends,
  billing records the end as the owner's last use, so the account is a free account from then.
- Leftovers: ended sessions and browsers no longer seen, used or expired one-time links and
  invitations, failed sign-ins, old usage events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, false, func, not_, or_, update
from sqlmodel import Session, col, select

from omnipostr import clock
from omnipostr.accounts.models import (
    AuthSession,
    AuthToken,
    Invite,
    KnownDevice,
    LoginFailure,
    User,
    Workspace,
)
from omnipostr.api.models import ApiKey
from omnipostr.billing.models import PAYING, BillingAccount
from omnipostr.notify import service as mail
from omnipostr.repurpose.models import Generation, GenerationTask, Source, Variant
from omnipostr.retention import holds
from omnipostr.retention.models import RetentionWarning
from omnipostr.settings import get_settings
from omnipostr.usage.models import UsageEvent

log = logging.getLogger("omnipostr.retention")

ACTIVE_TASKS = ("queued", "running")
"""A generation with work in these states is being written: its source and history wait."""


@dataclass
class Counts:
    """What one run of a rule did: ``count`` rows purged (in a dry run: that would be),
    ``held`` rows that were due but belong to an account under a legal hold. The job history
    records ``items`` (= ``count``)."""

    rule: str
    cutoff: datetime
    dry_run: bool = False
    count: int = 0
    held: int = 0
    batches: int = 0
    parts: dict[str, int] = field(default_factory=dict)
    """The count per table, when a rule covers several."""

    @property
    def items(self) -> int:
        return self.count

    def as_dict(self) -> dict:
        return asdict(self) | {"cutoff": self.cutoff.isoformat(), "items": self.items}

    def add(self, other: Counts, part: str) -> None:
        self.count += other.count
        self.held += other.held
        self.batches += other.batches
        self.parts[part] = other.count


def _days(n: int) -> timedelta:
    return timedelta(days=n)


def _batch() -> int:
    return max(1, get_settings().retention_batch_size)


def _apply(
    s: Session,
    counts: Counts,
    key,
    due: Sequence,
    held,
    change: Callable[[list, list], int],
) -> Counts:
    """Count the rows that are ``due`` (a list of conditions) and ``held``; unless it is a dry
    run, hand the due rows that are not held to ``change`` a batch of primary keys ``key`` at a
    time, with the conditions to re-check them by (another run, or a hold, may have come
    first), committing after each batch. ``change`` returns how many rows it changed."""
    model_of = key.class_
    counts.held += s.exec(select(func.count()).select_from(model_of).where(*due, held)).one()
    if counts.dry_run:
        counts.count += s.exec(select(func.count()).select_from(model_of).where(*due, not_(held))).one()
        return counts
    last = None
    size = _batch()
    still = [*due, not_(held)]
    while True:
        q = select(key).where(*still)
        if last is not None:
            q = q.where(col(key) > last)
        ids = list(s.exec(q.order_by(col(key)).limit(size)).all())
        if not ids:
            break
        counts.count += change(ids, still)
        counts.batches += 1
        s.commit()
        last = ids[-1]
    return counts


def _deleter(s: Session, key) -> Callable[[list, list], int]:
    def change(ids: list, still: list) -> int:
        return s.exec(delete(key.class_).where(col(key).in_(ids), *still)).rowcount or 0  # type: ignore[call-overload]

    return change


def _source_being_written():
    """A generation of the source has work queued or running (it reads the text)."""
    return exists().where(
        col(Generation.source_id) == col(Source.id),
        col(GenerationTask.generation_id) == col(Generation.id),
        col(GenerationTask.status).in_(ACTIVE_TASKS),
    )


def _generation_being_written():
    return exists().where(
        col(GenerationTask.generation_id) == col(Generation.id), col(GenerationTask.status).in_(ACTIVE_TASKS)
    )


# --- RET-1: the original text ------------------------------------------------------------------


def source_cutoff() -> datetime:
    return clock.now() - _days(get_settings().retention_source_days)


def purge_source_text(s: Session, *, dry_run: bool = False) -> Counts:
    """Remove the text of every source added more than ``retention_source_days`` ago. The row
    keeps its title and counts, and says when and why the text went."""
    cutoff = source_cutoff()
    counts = Counts("source_text", cutoff, dry_run)
    due = [col(Source.text).is_not(None), col(Source.created_at) < cutoff, not_(_source_being_written())]
    held = holds.held_rows(user=Source.created_by, workspace=Source.workspace_id)

    def change(ids: list, still: list) -> int:
        return s.exec(  # type: ignore[call-overload]
            update(Source).where(col(Source.id).in_(ids), *still)
            .values(text=None, text_deleted_at=clock.now(), text_removed_by="retention")
            .execution_options(synchronize_session=False)
        ).rowcount or 0

    return _done(_apply(s, counts, Source.id, due, held, change))


# --- RET-3: generation history --------------------------------------------------------------------


def history_cutoff() -> datetime:
    return clock.now() - _days(get_settings().retention_history_days)


HISTORY_CLEARED = {
    "options": {}, "engine": "", "model": "", "error": "", "input_tokens": 0, "output_tokens": 0,
    "cache_write_tokens": 0, "cache_read_tokens": 0, "cost_usd": 0.0, "timings": {}, "started_at": None,
    "finished_at": None, "heartbeat_at": None, "runner": "",
}
"""A generation's history: what it was asked with (options), what wrote it and how (engine,
model, worker, errors), what it used (tokens, cost) and how long it took (timings)."""
POST_HISTORY_CLEARED = {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, "attempts": 0, "error": ""}
"""The same history kept per post: its tokens, cost, attempts and last error. The post's
text, versions and validator advice are the post, and stay."""


def purge_history(s: Session, *, dry_run: bool = False) -> Counts:
    """Remove the history of every generation started more than ``retention_history_days``
    ago (and of its posts), and the finished work records it waited for. The generation row
    and its posts stay."""
    cutoff = history_cutoff()
    counts = Counts("history", cutoff, dry_run)
    due = [
        col(Generation.created_at) < cutoff,
        col(Generation.history_purged_at).is_(None),
        not_(_generation_being_written()),
    ]
    held = holds.held_rows(user=Generation.created_by, workspace=Generation.workspace_id)

    def change(ids: list, still: list) -> int:
        ids = list(s.exec(select(Generation.id).where(col(Generation.id).in_(ids), *still)).all())
        if not ids:
            return 0
        n = s.exec(  # type: ignore[call-overload]
            update(Generation).where(col(Generation.id).in_(ids), *still)
            .values(**HISTORY_CLEARED, history_purged_at=clock.now())
            .execution_options(synchronize_session=False)
        ).rowcount or 0
        s.exec(  # type: ignore[call-overload]
            update(Variant).where(col(Variant.generation_id).in_(ids)).values(**POST_HISTORY_CLEARED)
            .execution_options(synchronize_session=False)
        )
        s.exec(  # type: ignore[call-overload]
            delete(GenerationTask).where(
                col(GenerationTask.generation_id).in_(ids), not_(col(GenerationTask.status).in_(ACTIVE_TASKS))
            )
        )
        return n

    return _done(_apply(s, counts, Generation.id, due, held, change))


# --- RET-4: accounts nobody uses -----------------------------------------------------------------


def last_active(user: User) -> datetime:
    """The account's last sign-in or use (its creation when it has neither)."""
    return max(t for t in (user.created_at, user.last_login_at, user.last_active_at) if t is not None)


def _end_and_deletion(user: User) -> tuple[datetime, datetime]:
    """When the free account's subscription ends (``retention_inactive_days`` after its last
    use) and the day it is deleted (``retention_account_days`` after that)."""
    c = get_settings()
    end = last_active(user) + _days(c.retention_inactive_days)
    return end, end + _days(c.retention_account_days)


def _quiet_since(line: datetime):
    """Accounts with no sign-in or use since ``line`` (and created before it)."""
    return [
        col(User.created_at) < line,
        or_(col(User.last_login_at).is_(None), col(User.last_login_at) < line),
        or_(col(User.last_active_at).is_(None), col(User.last_active_at) < line),
    ]


def _in_scope():
    """Accounts the inactivity rule applies to: not already being deleted, not staff, and not
    paying: a paid subscription is the account's subscription until it ends (billing then
    counts its end as the account's last use, and the free account's clock starts there)."""
    paying = (
        select(Workspace.id).join(BillingAccount, col(BillingAccount.workspace_id) == Workspace.id)
        .where(Workspace.owner_id == User.id, col(BillingAccount.status).in_(PAYING))
    )
    return [col(User.deletion_requested_at).is_(None), col(User.is_admin).is_(False), not_(exists(paying))]


def warning_for(s: Session, user: User) -> RetentionWarning | None:
    """The warning sent for the account's current stretch of inactivity, if any."""
    return s.exec(
        select(RetentionWarning).where(RetentionWarning.user_id == user.id, col(RetentionWarning.active_at) >= last_active(user))
        .order_by(col(RetentionWarning.id).desc()).limit(1)
    ).first()


def deletion_date(s: Session, user: User) -> datetime:
    """The day the account goes if nobody uses it: ``retention_account_days`` after its
    subscription ended, and never less than ``retention_warning_days`` after the warning."""
    _, deletes = _end_and_deletion(user)
    warned = warning_for(s, user)
    notice = _days(get_settings().retention_warning_days)
    if warned is not None:
        return max(deletes, warned.sent_at + notice)
    return max(deletes, clock.now() + notice)


def warn_inactive_accounts(s: Session, *, dry_run: bool = False) -> Counts:
    """Email the owner of each account whose deletion for inactivity is
    ``retention_warning_days`` away or less, once per stretch of inactivity, and record it."""
    c = get_settings()
    now = clock.now()
    line = now - _days(c.retention_inactive_days + c.retention_account_days - c.retention_warning_days)
    counts = Counts("account_warnings", line, dry_run)
    due = [*_in_scope(), *_quiet_since(line)]
    held = holds.held_rows(user=User.id)
    counts.held = s.exec(select(func.count()).select_from(User).where(*due, held)).one()
    last = 0
    while True:
        users = s.exec(select(User).where(*due, not_(held), col(User.id) > last).order_by(col(User.id)).limit(_batch())).all()
        if not users:
            break
        for user in users:
            if warning_for(s, user) is not None:
                continue
            counts.count += 1
            if not dry_run:
                _warn(s, user, now)
        if not dry_run:
            counts.batches += 1
            s.commit()
        last = users[-1].id
    return _done(counts)


def _warn(s: Session, user: User, now: datetime) -> None:
    c = get_settings()
    when = deletion_date(s, user)
    s.add(RetentionWarning(user_id=user.id, active_at=last_active(user), sent_at=now, deletes_on=when))
    mail.enqueue(
        s, "notice", user.email,
        {
            "subject": f"Your {c.company_name} account will be deleted on {when:%B} {when.day}, {when.year}",
            "name": user.name,
            "paragraphs": [
                f"Nobody has signed in to your {c.company_name} account since {last_active(user):%B} {last_active(user).day}, "
                f"{last_active(user).year}. As our privacy policy says, an account that is not used for "
                f"{c.retention_inactive_days} days ends, and its data is deleted {c.retention_account_days} days later.",
                f"Your account, your workspaces and everything in them will be deleted on {when:%B} {when.day}, {when.year}. "
                "To keep them, just sign in before then.",
                "If you would like a copy of your data first, sign in and ask for it in the privacy center.",
            ],
            "link": f"{c.base_url}/login",
            "link_text": "Sign in",
        },
        user_id=user.id,
    )


def accounts_due_for_erasure(s: Session, *, after: int = 0, limit: int | None = None) -> list[int]:
    """Ids (above ``after``, in order) of the accounts to delete for inactivity now: warned
    for this stretch of inactivity, not used since, past their deletion day, and not under a
    legal hold."""
    now = clock.now()
    c = get_settings()
    line = now - _days(c.retention_inactive_days + c.retention_account_days)
    q = (
        select(User).where(*_in_scope(), *_quiet_since(line), not_(holds.held_rows(user=User.id)), col(User.id) > after)
        .where(exists().where(col(RetentionWarning.user_id) == col(User.id), col(RetentionWarning.deletes_on) <= now))
        .order_by(col(User.id))
    )
    out: list[int] = []
    for user in s.exec(q).all():
        warned = warning_for(s, user)
        if warned is not None and deletion_date(s, user) <= now:
            out.append(user.id)
            if limit is not None and len(out) >= limit:
                break
    return out


def held_accounts_due(s: Session) -> int:
    """How many accounts would be deleted for inactivity now but for a legal hold."""
    c = get_settings()
    line = clock.now() - _days(c.retention_inactive_days + c.retention_account_days)
    return s.exec(select(func.count()).select_from(User).where(*_in_scope(), *_quiet_since(line), holds.held_rows(user=User.id))).one()


# --- leftovers -------------------------------------------------------------------------------------


def purge_sessions(s: Session, *, dry_run: bool = False) -> Counts:
    """Delete sessions ended (signed out, expired, or idle past ``session_idle_days``) more
    than ``retention_session_days`` ago, and browsers not seen for ``session_days`` plus that
    (every session from them has ended that long ago)."""
    c = get_settings()
    now = clock.now()
    keep = _days(c.retention_session_days)
    cutoff = now - keep
    counts = Counts("sessions", cutoff, dry_run)
    due = [or_(
        col(AuthSession.expires_at) < cutoff,
        col(AuthSession.revoked_at) < cutoff,
        col(AuthSession.last_seen_at) < cutoff - _days(c.session_idle_days),
    )]
    counts.add(_apply(s, Counts("sessions", cutoff, dry_run), AuthSession.id, due,
                      holds.held_rows(user=AuthSession.user_id), _deleter(s, AuthSession.id)), "sessions")
    seen = [col(KnownDevice.last_seen_at) < cutoff - _days(c.session_days)]
    counts.add(_apply(s, Counts("sessions", cutoff, dry_run), KnownDevice.id, seen,
                      holds.held_rows(user=KnownDevice.user_id), _deleter(s, KnownDevice.id)), "known_devices")
    return _done(counts)


def purge_tokens(s: Session, *, dry_run: bool = False) -> Counts:
    """Delete one-time links (confirmation, reset, sign-in tickets...) used or expired, and API
    keys revoked, more than ``retention_token_days`` ago."""
    cutoff = clock.now() - _days(get_settings().retention_token_days)
    counts = Counts("tokens", cutoff, dry_run)
    due = [or_(col(AuthToken.expires_at) < cutoff, col(AuthToken.used_at) < cutoff)]
    counts.add(_apply(s, Counts("tokens", cutoff, dry_run), AuthToken.id, due, holds.held_rows(user=AuthToken.user_id),
                      _deleter(s, AuthToken.id)), "auth_tokens")
    revoked = [col(ApiKey.revoked_at) < cutoff]
    counts.add(_apply(s, Counts("tokens", cutoff, dry_run), ApiKey.id, revoked,
                      holds.held_rows(user=ApiKey.created_by, workspace=ApiKey.workspace_id),
                      _deleter(s, ApiKey.id)), "api_keys")
    return _done(counts)


def purge_invites(s: Session, *, dry_run: bool = False) -> Counts:
    """Delete invitations accepted, withdrawn or expired more than ``retention_token_days``
    ago."""
    cutoff = clock.now() - _days(get_settings().retention_token_days)
    counts = Counts("invites", cutoff, dry_run)
    due = [or_(col(Invite.expires_at) < cutoff, col(Invite.accepted_at) < cutoff, col(Invite.revoked_at) < cutoff)]
    return _done(_apply(s, counts, Invite.id, due, holds.held_rows(workspace=Invite.workspace_id),
                        _deleter(s, Invite.id)))


def purge_login_failures(s: Session, *, dry_run: bool = False) -> Counts:
    """Delete failed sign-ins older than ``retention_login_failure_days`` (those at the address
    of a held account stay)."""
    cutoff = clock.now() - _days(get_settings().retention_login_failure_days)
    counts = Counts("login_failures", cutoff, dry_run)
    keys = [f"acct:{i}" for i in s.exec(select(User.email_index).where(col(User.id).in_(holds.held_users()))).all()]
    held = col(LoginFailure.key).in_(keys) if keys else false()
    due = [col(LoginFailure.at) < cutoff]
    return _done(_apply(s, counts, LoginFailure.id, due, held, _deleter(s, LoginFailure.id)))


def purge_usage_events(s: Session, *, dry_run: bool = False) -> Counts:
    """Delete usage events older than ``retention_usage_days``. The records of a person's
    privacy choices (``privacy.*``: consents, objections, marketing opt-ins and what was sent
    under them) are not usage: they stay while the account does, as the proof of each choice."""
    cutoff = clock.now() - _days(get_settings().retention_usage_days)
    counts = Counts("usage_events", cutoff, dry_run)
    due = [col(UsageEvent.created_at) < cutoff, not_(col(UsageEvent.kind).startswith("privacy."))]
    held = holds.held_rows(user=UsageEvent.user_id, workspace=UsageEvent.workspace_id)
    return _done(_apply(s, counts, UsageEvent.id, due, held, _deleter(s, UsageEvent.id)))


RULES: dict[str, Callable[..., Counts]] = {
    "source_text": purge_source_text,
    "history": purge_history,
    "account_warnings": warn_inactive_accounts,
    "sessions": purge_sessions,
    "tokens": purge_tokens,
    "invites": purge_invites,
    "login_failures": purge_login_failures,
    "usage_events": purge_usage_events,
}
"""Every rule this module applies, in the order a full run takes them (the deletion of
inactive accounts is privacy erasure's: ``privacy.erasure.expire_inactive``)."""


def run_all(s: Session, *, dry_run: bool = False) -> list[Counts]:
    """Apply every rule once, in order (an admin's dry run shows what each would do)."""
    return [rule(s, dry_run=dry_run) for rule in RULES.values()]


def _done(counts: Counts) -> Counts:
    if counts.count or counts.held:
        log.info(
            "retention %s: %s %s, %s held%s", counts.rule, "would purge" if counts.dry_run else "purged",
            counts.count, counts.held, f" ({counts.parts})" if counts.parts else "",
            extra={"retention": counts.rule},
        )
    return counts


# --- the date each item goes --------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    what: str  # source_text | history | account
    item_id: int | None  # the source, generation or user
    title: str  # what a person recognises it by
    when: datetime | None  # None: not while a legal hold lasts
    why: str


HELD = "Kept for now: we must keep it for a legal reason."


def due_dates(s: Session, user_id: int) -> list[Due]:
    """When each thing of the user's that retention deletes goes, and why: the original text
    of each source they added, the history of each generation they started, and the account.
    Sooner first; things kept by a legal hold last, without a date."""
    user = s.get(User, user_id)
    if user is None:
        return []
    c = get_settings()
    held_user = holds.is_held(s, user_id)
    held_ws = set(s.exec(holds.held_workspaces()).all())
    out: list[Due] = []
    sources = s.exec(  # the columns it needs: the text itself is not read (nor decrypted)
        select(Source.id, Source.title, Source.workspace_id, Source.created_at)
        .where(Source.created_by == user_id, col(Source.text).is_not(None)).order_by(col(Source.id))
    ).all()
    for src in sources:
        if held_user or src.workspace_id in held_ws:
            out.append(Due("source_text", src.id, src.title, None, HELD))
        else:
            out.append(Due("source_text", src.id, src.title, src.created_at + _days(c.retention_source_days),
                           f"Original text is kept {c.retention_source_days} days after you add it."))
    gens = s.exec(
        select(Generation.id, Generation.title, Generation.workspace_id, Generation.created_at)
        .where(Generation.created_by == user_id, col(Generation.history_purged_at).is_(None))
        .order_by(col(Generation.id))
    ).all()
    for g in gens:
        if held_user or g.workspace_id in held_ws:
            out.append(Due("history", g.id, g.title, None, HELD))
        else:
            out.append(Due("history", g.id, g.title, g.created_at + _days(c.retention_history_days),
                           f"Generation history is kept {c.retention_history_days} days; the posts stay."))
    out.append(_account_due(s, user, held_user))
    return sorted(out, key=lambda d: (d.when is None, d.when or clock.now(), d.what, d.item_id or 0))


def _account_due(s: Session, user: User, held: bool) -> Due:
    c = get_settings()
    if held:
        return Due("account", user.id, user.name, None, HELD)
    if user.deletion_requested_at is not None:
        why = ("Nobody used it for the retention period: it is being deleted." if user.deletion_reason == "inactive"
               else "You asked us to delete it.")
        return Due("account", user.id, user.name, user.deletion_requested_at, why)
    if user.is_admin:
        return Due("account", user.id, user.name, None, "A staff account: kept while you work here.")
    return Due(
        "account", user.id, user.name, deletion_date(s, user),
        f"Free accounts not used for {c.retention_inactive_days} days are deleted {c.retention_account_days} days "
        f"later; we email you {c.retention_warning_days} days before. Signing in keeps your account.",
    )


def source_note_for(s: Session, src: Source) -> str:
    """What the library says of a source: when its text goes (and why), or that it went."""
    gone = source_note(src)
    if gone or src.text is None or src.created_at is None:
        return gone
    if (src.created_by is not None and holds.is_held(s, src.created_by)) or src.workspace_id in set(
        s.exec(holds.held_workspaces()).all()
    ):
        return "The original text is kept for now: we must keep it for a legal reason."
    days = get_settings().retention_source_days
    when = src.created_at + _days(days)
    return (f"The original text is kept until {when:%B} {when.day}, {when.year} ({days} days after it was added); "
            "you can delete it sooner.")


def source_note(src: Source) -> str:
    """What the library says of a source whose text is gone (empty while it is kept)."""
    if src.text is not None or src.text_deleted_at is None:
        return ""
    when = src.text_deleted_at
    day = f"{when:%B} {when.day}, {when.year}"
    if src.text_removed_by == "retention":
        kept = (when - src.created_at).days
        return f"The original was removed on {day} (kept {kept} days)."
    return f"The original text was deleted on {day}."

