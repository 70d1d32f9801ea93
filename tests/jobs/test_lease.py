"""The database lease: one holder at a time, renewal, takeover after expiry, release."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from omnipostr import clock, db
from omnipostr.jobs import service
from tests.notify.helpers import factory_for, postgres_available, scratch_postgres


def acquire(holder: str, seconds: float = 30, factory=db.session):
    with factory() as s:
        return service.acquire_lease(s, holder, seconds)


@pytest.mark.promise("IMP-1")
def test_one_holder_renewal_expiry_takeover_and_release():
    first = acquire("a")
    assert first is not None
    assert acquire("b") is None  # held by a

    clock.advance(timedelta(seconds=10))
    renewed = acquire("a")
    assert renewed > first
    with db.session() as s:
        st = service.lease_status(s)
    assert (st.holder, st.active, st.expires_at) == ("a", True, renewed)
    assert st.acquired_at < renewed - timedelta(seconds=29)  # renewal keeps the first time

    clock.advance(timedelta(seconds=31))  # a stopped renewing: expired
    with db.session() as s:
        assert service.lease_status(s).active is False
    assert acquire("b") is not None
    assert acquire("a") is None  # a comes back: too late
    with db.session() as s:
        st = service.lease_status(s)
        assert st.holder == "b" and st.acquired_at > renewed  # a new holding starts now
        assert service.release_lease(s, "a") is False
        assert service.release_lease(s, "b") is True
    assert acquire("a") is not None  # released: taken at once, no clock move


def _contend(factory, rounds: int = 15, workers: int = 4) -> None:
    """Each round, several threads try to take an expired lease at the same moment: exactly
    one wins."""
    for r in range(rounds):
        barrier = threading.Barrier(workers)
        wins: list[str] = []
        errors: list[BaseException] = []

        def attempt(name: str, barrier=barrier, wins=wins, errors=errors) -> None:
            try:
                barrier.wait()
                with factory() as s:
                    if service.acquire_lease(s, name, 30) is not None:
                        wins.append(name)
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=attempt, args=(f"w{r}-{i}",)) for i in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert not errors, errors
        assert len(wins) == 1, f"round {r}: {wins}"
        clock.advance(timedelta(seconds=31))


def test_concurrent_acquisition_has_exactly_one_winner():
    _contend(db.session)


@pytest.mark.skipif(not postgres_available(), reason="no PostgreSQL at 127.0.0.1:5432")
def test_concurrent_acquisition_on_postgresql():
    with scratch_postgres() as engine:
        _contend(factory_for(engine))
