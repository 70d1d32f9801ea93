"""The job runner: only the lease holder runs jobs, another takes over when it dies, every run
is recorded with its outcome, and the Reflex lifespan task starts and stops it."""

from __future__ import annotations

import contextlib
import inspect
import time
from datetime import timedelta

import pytest

from omnipostr import clock, db, jobs
from omnipostr.jobs import registry, runner, service
from omnipostr.jobs.runner import JobScheduler
from omnipostr.settings import reset_settings


@pytest.fixture
def tick():
    """A job firing every 0.1 s that handles one item."""
    spec = registry.register("test.tick", lambda: 1, seconds=0.1)
    yield spec
    registry.unregister("test.tick")


@pytest.fixture
def schedulers():
    made: list[JobScheduler] = []

    def make(holder: str, *specs, lease: float = 3) -> JobScheduler:
        s = JobScheduler("test", holder=holder, lease_seconds=lease, jobs=list(specs))
        made.append(s)
        return s

    yield make
    for s in made:
        s.shutdown(wait=True, release=False)


def runs(job: str = "test.tick") -> list:
    with db.session() as s:
        return service.recent_runs(s, 500, job=job)


def wait_until(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.mark.promise("IMP-1")
def test_two_schedulers_only_the_lease_holder_runs_jobs(tick, schedulers):
    a = schedulers("A", tick).start()
    b = schedulers("B", tick).start()
    assert a.holds_lease() and not b.holds_lease()
    wait_until(lambda: len(runs()) >= 5)
    time.sleep(0.3)
    got = runs()
    assert {r.holder for r in got} == {"A"}
    assert all(r.outcome == "ok" and r.items == 1 for r in got)


@pytest.mark.promise("IMP-1")
def test_another_process_takes_over_when_the_holder_dies(tick, schedulers):
    a = schedulers("A", tick, lease=1.5).start()
    b = schedulers("B", tick, lease=1.5).start()
    wait_until(lambda: runs())
    a.shutdown(wait=True, release=False)  # dies without a word: the lease stays until it expires
    time.sleep(0.7)  # b renews (every lease/3 = 0.5 s) but cannot take it yet
    assert not b.holds_lease()
    assert {r.holder for r in runs()} == {"A"}

    clock.advance(timedelta(seconds=2))  # past the lease
    wait_until(lambda: any(r.holder == "B" for r in runs()), timeout=4)
    assert b.holds_lease()
    with db.session() as s:
        assert service.lease_status(s).holder == "B"


def test_a_clean_shutdown_hands_over_at_once(tick, schedulers):
    a = schedulers("A", tick, lease=1.5).start()
    schedulers("B", tick, lease=1.5).start()
    a.shutdown()
    wait_until(lambda: any(r.holder == "B" for r in runs()), timeout=4)  # no clock move


@pytest.mark.promise("IMP-1")
def test_runs_are_recorded_with_outcome_error_and_items(schedulers):
    def ok():
        return 3

    def boom():
        raise RuntimeError("upstream said no; password=hunter2 api_key=sk-ant-abc123def456")

    def skip():
        raise jobs.Skip("nothing to do while restricted")

    for name, fn in [("test.ok", ok), ("test.boom", boom), ("test.skip", skip)]:
        registry.register(name, fn, seconds=3600)
    try:
        sched = schedulers("A")
        before = clock.now()
        ok_run = sched.run_now("test.ok")
        bad_run = sched.run_now("test.boom")
        skip_run = sched.run_now("test.skip")
    finally:
        for name in ("test.ok", "test.boom", "test.skip"):
            registry.unregister(name)

    assert (ok_run.outcome, ok_run.items, ok_run.error) == ("ok", 3, None)
    assert ok_run.started_at >= before - timedelta(seconds=1) and ok_run.ended_at >= ok_run.started_at
    assert bad_run.outcome == "failed" and bad_run.error.startswith("RuntimeError: upstream said no")
    assert "hunter2" not in bad_run.error and "sk-ant" not in bad_run.error
    assert skip_run.outcome == "skipped" and skip_run.error == "nothing to do while restricted"

    with db.session() as s:
        latest = service.last_runs(s)
        assert {k: v.outcome for k, v in latest.items()} == {"test.ok": "ok", "test.boom": "failed", "test.skip": "skipped"}
        assert [r.job for r in service.recent_runs(s, 2)] == ["test.skip", "test.boom"]
        assert [r.job for r in service.failed_runs(s, before)] == ["test.boom"]


def test_quiet_jobs_fold_idle_runs_into_one_record():
    count = {"n": 0}

    def maybe():
        count["n"] += 1
        return 2 if count["n"] == 3 else 0

    registry.register("test.quiet", maybe, seconds=60, quiet=True)
    try:
        for _ in range(5):
            jobs.run_now("test.quiet")
    finally:
        registry.unregister("test.quiet")
    got = runs("test.quiet")
    # idle, idle (folded) | busy | idle, idle (folded)
    assert [r.items for r in reversed(got)] == [0, 2, 0]


def test_run_now_without_a_scheduler_records_a_manual_run():
    registry.register("test.manual", lambda: None, seconds=60)
    try:
        run = jobs.run_now("test.manual")
    finally:
        registry.unregister("test.manual")
    assert run.outcome == "ok" and run.items is None and run.holder.startswith("manual@")


def test_registry_checks_its_input():
    with pytest.raises(ValueError):
        registry.job("x", seconds=5, cron="* * * * *")
    with pytest.raises(ValueError):
        registry.job("x")
    with pytest.raises(ValueError):
        registry.job("x", cron="not a crontab")
    with pytest.raises(KeyError):
        registry.get("no.such.job")
    spec = registry.register("test.cron", lambda: None, cron="30 2 * * *")
    try:
        assert "hour='2'" in str(spec.make_trigger()) and "minute='30'" in str(spec.make_trigger())
    finally:
        registry.unregister("test.cron")


def test_capability_jobs_are_discovered():
    found = registry.discover()
    assert "omnipostr.notify.tasks" in found and "omnipostr.jobs.tasks" in found
    names = {s.name for s in registry.all_jobs()}
    assert {"outbox.send", "outbox.purge", "jobs.prune_runs"} <= names


def test_prune_job_forgets_old_runs():
    registry.register("test.old", lambda: 1, seconds=60)
    try:
        jobs.run_now("test.old")
        clock.advance(timedelta(days=31))
        jobs.run_now("test.old")
        pruned = jobs.run_now("jobs.prune_runs")
    finally:
        registry.unregister("test.old")
    assert pruned.outcome == "ok" and pruned.items == 1
    assert len(runs("test.old")) == 1


async def test_lifespan_task_starts_and_stops_the_scheduler(monkeypatch):
    # what Reflex's register_lifespan_task accepts: no app parameters, an async context manager
    assert isinstance(runner.lifespan_task(), contextlib._AsyncGeneratorContextManager)
    assert not inspect.signature(runner.lifespan_task).parameters
    monkeypatch.setenv("OMNIPOSTR_JOBS_ENABLED", "true")
    reset_settings()
    try:
        async with runner.lifespan_task():
            sched = jobs.current()
            assert sched is not None and sched.running and sched.holds_lease()
            assert "outbox.send" in sched.scheduled()
            with db.session() as s:
                assert service.lease_status(s).holder == sched.holder
        assert jobs.current() is None and not sched.running
        with db.session() as s:
            assert service.lease_status(s).active is False  # released for the next process
    finally:
        runner.shutdown()
        monkeypatch.undo()
        reset_settings()


async def test_lifespan_task_does_nothing_when_jobs_are_disabled(monkeypatch):
    monkeypatch.setenv("OMNIPOSTR_JOBS_ENABLED", "false")
    reset_settings()
    try:
        async with runner.lifespan_task():
            assert jobs.current() is None
    finally:
        monkeypatch.undo()
        reset_settings()
