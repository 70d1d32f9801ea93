"""Generation quotas: parallel starts never pass the limit, the count follows the billing
period (the calendar month, or the paid subscription's period), a generation that fails as a
whole gives its unit back once, and a retry takes one again."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from omnipostr import clock, db
from omnipostr.accounts.models import Workspace
from omnipostr.billing import quota
from omnipostr.billing.models import BillingAccount, UsageDay, UsagePeriod
from omnipostr.repurpose import generations, queue, runner, service
from omnipostr.repurpose.engines.base import Failed
from omnipostr.repurpose.engines.offline import OfflineEngine
from omnipostr.repurpose.models import Generation, Source
from tests.repurpose.helpers import member, request, start


class Down(OfflineEngine):
    """The offline engine with every platform (or the ones named) failing."""

    def __init__(self, *platforms: str) -> None:
        super().__init__()
        self.down = set(platforms)

    async def stream(self, source, platform, options, *, feedback=None):
        if not self.down or platform in self.down:
            yield Failed("The engine is down.")
            return
        async for ev in super().stream(source, platform, options, feedback=feedback):
            yield ev


def usage(actor) -> quota.Usage:
    return db.in_session(quota.usage, actor.workspace_id)


def fill(actor, used: int) -> tuple[datetime, datetime]:
    """The workspace's current period with ``used`` generations already counted."""
    with db.session() as s:
        begin, end = quota.current_period(s, actor.workspace_id)
        row = s.exec(select(UsagePeriod).where(UsagePeriod.workspace_id == actor.workspace_id,
                                               UsagePeriod.period_start == begin)).first()
        row = row or UsagePeriod(workspace_id=actor.workspace_id, period_start=begin, period_end=end)
        row.generations = used
        s.add(row)
    return begin, end


def move_to(when: datetime) -> None:
    clock.advance(when - clock.now())


def gen_of(gen_id: int) -> Generation:
    with db.session() as s:
        return s.get(Generation, gen_id)


def count(model) -> int:
    with db.session() as s:
        return len(s.exec(select(model)).all())


def refuse_message(limit: int, plan: str, end: datetime) -> str:
    return (f"This workspace has used all {limit} generations of the {plan} plan for this period. "
            f"The count starts again on {end.day} {end:%b %Y}.")


def test_twenty_parallel_starts_take_exactly_the_five_units_left():
    ada = member()
    limit = usage(ada).limit
    fill(ada, limit - 5)
    req = request()
    gate = threading.Barrier(20)
    started: list[int] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one() -> None:
        gate.wait()
        try:
            with db.session() as s:  # a session (and connection) of its own, as each request has
                gen = service.start_generation(s, ada, req, engine="offline", model="offline-1")
                gen_id = gen.id
        except service.ComposeError as e:
            with lock:
                refused.append(f"{e.field}: {e.message}")
        except BaseException as e:  # noqa: BLE001 - any other error fails the test below
            with lock:
                errors.append(e)
        else:
            with lock:
                started.append(gen_id)

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(started) == 5 and len(refused) == 15
    used = usage(ada)
    assert used.used == used.limit == limit
    assert {r.split(":")[0] for r in refused} == {"quota"}
    assert count(Generation) == count(Source) == 5  # a refused start stores nothing
    assert sum(n for _, n in used.days) == 5


def test_a_refused_start_changes_no_count():
    ada = member()
    begin, end = fill(ada, 30)
    with pytest.raises(quota.QuotaExceeded) as e:
        db.in_session(quota.consume, ada.workspace_id, 3)
    assert (e.value.limit, e.value.plan, e.value.period_end) == (30, "Free", end)
    assert e.value.message == refuse_message(30, "Free", end)
    with db.session() as s:
        row = s.exec(select(UsagePeriod)).one()
        assert (row.generations, row.variants) == (30, 0)
        assert s.exec(select(UsageDay)).all() == []


def test_the_error_says_the_day_the_count_starts_again():
    ada = member()
    move_to(datetime(2026, 12, 20, 9, 30, tzinfo=UTC))
    fill(ada, 30)
    with pytest.raises(service.ComposeError) as e:
        start(ada)
    assert e.value.field == "quota"
    assert e.value.message == ("This workspace has used all 30 generations of the Free plan for this period. "
                               "The count starts again on 1 Jan 2027.")


def test_the_next_period_brings_a_fresh_quota():
    ada = member()
    _, end = fill(ada, 30)
    with pytest.raises(service.ComposeError):
        start(ada)
    move_to(end + timedelta(minutes=5))
    gen = start(ada)
    used = usage(ada)
    assert (used.used, used.period_start) == (1, end) and gen.quota_period_start == end
    assert used.period_end == datetime(end.year + end.month // 12, end.month % 12 + 1, 1, tzinfo=UTC)


def subscribe(actor, plan: str, begin: datetime, end: datetime, status: str = "active") -> None:
    with db.session() as s:
        ws = s.get(Workspace, actor.workspace_id)
        ws.plan = plan
        s.add(ws)
        s.add(BillingAccount(workspace_id=actor.workspace_id, plan=plan, status=status, interval="month",
                             subscription_id="sub_1", current_period_start=begin, current_period_end=end))


def test_a_paid_subscription_counts_over_its_own_period():
    ada = member()
    now = clock.now().replace(microsecond=0)
    begin, end = now - timedelta(days=3, hours=7), now + timedelta(days=27, hours=17)
    fill(ada, 30)  # the calendar month's count (Free) does not apply to the subscription
    subscribe(ada, "pro", begin, end)
    gen = start(ada)
    used = usage(ada)
    assert (used.used, used.limit, used.plan) == (1, 500, "Pro")
    assert (used.period_start, used.period_end) == (begin, end) and gen.quota_period_start == begin
    assert [d for d, _ in used.days][0] == begin.date().isoformat()
    assert used.days[-1] == (now.date().isoformat(), 1)
    # past the period's end (Stripe has not said what comes next yet): the calendar month
    move_to(end + timedelta(hours=1))
    assert usage(ada).period_start == quota.calendar_month(end + timedelta(hours=1))[0]


def test_a_period_that_stripe_stretches_keeps_its_count_and_records_its_new_end():
    ada = member()
    now = clock.now().replace(microsecond=0)
    begin, end = now - timedelta(days=3), now + timedelta(days=20)
    subscribe(ada, "pro", begin, end)
    start(ada)
    later = end + timedelta(days=5)  # e.g. a trial extended: same start, a later end
    with db.session() as s:
        acct = s.exec(select(BillingAccount)).one()
        acct.current_period_end = later
        s.add(acct)
        s.commit()
    start(ada)
    with db.session() as s:
        row = s.exec(select(UsagePeriod)).one()
    assert row.generations == 2 and row.period_end.replace(tzinfo=UTC) == later
    assert usage(ada).period_end == later


@pytest.mark.parametrize("status", ["canceled", "unpaid", "incomplete"])
def test_a_subscription_that_does_not_pay_counts_by_calendar_month(status):
    ada = member()
    now = clock.now()
    subscribe(ada, "free", now - timedelta(days=3), now + timedelta(days=27), status=status)
    assert usage(ada).period_start == now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def test_a_yearly_subscription_counts_month_by_month_from_its_start():
    ada = member()
    begin = datetime(2027, 1, 31, 15, 0, tzinfo=UTC)
    subscribe(ada, "pro", begin, datetime(2028, 1, 31, 15, 0, tzinfo=UTC))
    move_to(datetime(2027, 3, 10, 12, 0, tzinfo=UTC))
    used = usage(ada)
    assert (used.period_start, used.period_end) == (datetime(2027, 2, 28, 15, 0, tzinfo=UTC),
                                                    datetime(2027, 3, 31, 15, 0, tzinfo=UTC))
    move_to(datetime(2028, 1, 20, tzinfo=UTC))
    assert usage(ada).period_end == datetime(2028, 1, 31, 15, 0, tzinfo=UTC)


async def test_a_generation_that_fails_as_a_whole_gives_its_unit_back_once():
    ada = member()
    gen = start(ada)
    assert usage(ada).used == 1
    assert await runner.run(gen.id, engine=Down()) == "failed"
    g = gen_of(gen.id)
    assert g.quota_refunded and usage(ada).used == 0 and usage(ada).days[-1][1] == 0
    with db.session() as s:
        assert s.exec(select(UsagePeriod)).one().variants == 0
    assert db.in_session(lambda s: service.refund_failed(s, s.get(Generation, gen.id))) is False  # again: nothing
    assert usage(ada).used == 0


def test_two_workers_ending_the_same_failure_give_back_one_unit():
    ada = member()
    start(ada)
    other = start(ada)
    with db.session() as s:
        g = s.get(Generation, other.id)
        g.status = "failed"
        s.add(g)
    assert usage(ada).used == 2
    gate = threading.Barrier(2)
    results: list[bool] = []

    def worker() -> None:
        gate.wait()
        with db.session() as s:
            results.append(service.refund_failed(s, s.get(Generation, other.id)))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [False, True]
    assert usage(ada).used == 1


async def test_a_generation_with_some_posts_keeps_its_unit():
    ada = member()
    gen = start(ada, request(platforms=["x", "linkedin"]))
    assert await runner.run(gen.id, engine=Down("linkedin")) == "partial"
    assert not gen_of(gen.id).quota_refunded and usage(ada).used == 1
    assert await runner.run(gen.id, engine=OfflineEngine()) == "done"  # retrying the rest is part of it
    assert usage(ada).used == 1


async def test_retrying_a_failed_generation_takes_a_unit_again():
    ada = member()
    gen = start(ada)
    assert await runner.run(gen.id, engine=Down()) == "failed"
    assert usage(ada).used == 0
    assert await runner.run(gen.id, engine=Down()) == "failed"  # the retry took a unit and gave it back
    assert usage(ada).used == 0 and gen_of(gen.id).quota_refunded
    assert await runner.run(gen.id, engine=OfflineEngine()) == "done"
    g = gen_of(gen.id)
    assert usage(ada).used == 1 and not g.quota_refunded and g.quota_period_start == usage(ada).period_start
    with db.session() as s:
        row = s.exec(select(UsagePeriod)).one()
    assert (row.generations, row.variants) == (1, len(g.platforms))


async def test_a_retry_at_the_limit_is_refused_like_a_start_and_queues_nothing():
    ada = member()
    gen = start(ada)
    assert await runner.run(gen.id, engine=Down()) == "failed"
    _, end = fill(ada, 30)
    with pytest.raises(service.ComposeError) as e:
        await generations.relaunch(ada, gen.id)
    assert e.value.field == "quota" and e.value.message == refuse_message(30, "Free", end)
    assert db.in_session(queue.active, gen.id) is None
    assert gen_of(gen.id).quota_refunded and usage(ada).used == 30
    fill(ada, 29)
    await generations.relaunch(ada, gen.id)  # a unit is free again: the retry takes it
    assert db.in_session(queue.active, gen.id) is not None
    assert not gen_of(gen.id).quota_refunded and usage(ada).used == 30


async def test_the_chart_has_every_day_of_the_period_and_a_refund_leaves_the_right_day():
    ada = member()
    now = clock.now()
    first = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(day=1)
    move_to(first + timedelta(hours=9))
    failing = start(ada)
    move_to(first + timedelta(days=2, hours=10))
    start(ada)
    start(ada)
    days = usage(ada).days
    assert days == [(first.date().isoformat(), 1), ((first + timedelta(days=1)).date().isoformat(), 0),
                    ((first + timedelta(days=2)).date().isoformat(), 2)]
    assert await runner.run(failing.id, engine=Down()) == "failed"  # two days after it started
    assert [n for _, n in usage(ada).days] == [0, 0, 2]
    with db.session() as s:
        assert {r.day: r.generations for r in s.exec(select(UsageDay)).all()} == {
            first.date().isoformat(): 0, (first + timedelta(days=2)).date().isoformat(): 2}
