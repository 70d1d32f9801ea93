"""Retention's jobs: one a day for each rule, run under the job runner's lease and recorded
with their counts; a dry run of every rule counts what a run does and changes nothing."""

from __future__ import annotations

from sqlalchemy import func, text
from sqlmodel import SQLModel, select

from omnipostr import db, jobs
from omnipostr import tables as _tables  # noqa: F401 - every capability's tables
from omnipostr.jobs import registry
from omnipostr.jobs.models import JobRun
from omnipostr.privacy import erasure
from omnipostr.retention import service
from omnipostr.usage import service as usage
from omnipostr.usage.models import UsageEvent
from tests.privacy.test_export import seeded
from tests.repurpose.helpers import member
from tests.retention.helpers import days

RETENTION_JOBS = {
    "retention.source_text", "retention.history", "retention.account_warnings", "retention.sessions",
    "retention.tokens", "retention.invites", "retention.login_failures", "retention.usage_events",
    "privacy.inactive_accounts",
}


def test_every_rule_has_a_daily_job():
    registry.discover()
    specs = {s.name: s for s in registry.all_jobs()}
    assert RETENTION_JOBS <= set(specs)
    assert "accounts.purge_expired" not in specs  # the retention jobs took it over
    for name in RETENTION_JOBS:
        trigger = str(specs[name].make_trigger())
        assert "day='*'" in trigger and "hour='3'" in trigger, (name, trigger)


def test_a_run_is_recorded_with_what_it_purged():
    ada = member(analytics=True)
    with db.session() as s:
        for _ in range(3):
            usage.record(s, "feature.copy", workspace_id=ada.workspace_id, user_id=ada.user_id)
        n = s.exec(select(func.count()).select_from(UsageEvent)).one()
    days(366)
    jobs.run_now("retention.usage_events", session_factory=db.session)
    jobs.run_now("retention.usage_events", session_factory=db.session)
    with db.session() as s:
        runs = s.exec(select(JobRun).where(JobRun.job == "retention.usage_events").order_by(JobRun.id)).all()
    assert [(r.outcome, r.items) for r in runs] == [("ok", n), ("ok", 0)] and n >= 3


def _snapshot() -> dict[str, list]:
    out = {}
    with db.engine().connect() as c:
        for t in SQLModel.metadata.sorted_tables:
            out[t.name] = [tuple(r) for r in c.execute(text(f'SELECT * FROM "{t.name}" ORDER BY 1')).all()]  # noqa: S608
    return out


async def test_a_dry_run_counts_what_the_run_does_and_changes_nothing():
    ada, _bob = await seeded()
    with db.session() as s:
        usage.record(s, "feature.copy", workspace_id=ada.workspace_id, user_id=ada.user_id)
    days(442)  # everything of theirs is due, their warnings too
    before = _snapshot()
    dry = [c.as_dict() for c in db.in_session(service.run_all, dry_run=True)]
    assert _snapshot() == before
    assert {c["rule"]: c["count"] > 0 for c in dry} == {
        "source_text": True, "history": True, "account_warnings": True, "sessions": True, "tokens": True,
        "invites": False, "login_failures": False, "usage_events": True,
    }
    real = [c.as_dict() for c in db.in_session(service.run_all)]
    assert [(c["rule"], c["count"], c["held"]) for c in real] == [(c["rule"], c["count"], c["held"]) for c in dry]
    assert all(c["dry_run"] for c in dry) and not any(c["dry_run"] for c in real)

    days(15)  # past their deletion day
    before = _snapshot()
    would = db.in_session(erasure.expire_inactive, dry_run=True)
    assert _snapshot() == before and would.count == 2
    assert db.in_session(erasure.expire_inactive).count == would.count
