"""The app lease, on a clock that moves only when the test says so."""

import pytest
from sqlalchemy import select

from hangar.control import leases
from hangar.errors import Conflict
from hangar.store.models import Lease
from hangar.testing import FakeClock
from tests.support.platform import setup_app
from tests.support.waiting import wait_until


@pytest.fixture
def clock():
    return FakeClock()


def test_a_held_lease_refuses_others_and_names_the_holder(fake_platform):
    setup_app(fake_platform)
    leases.acquire(fake_platform.db, "web", "a1", "deployment a1")
    with pytest.raises(Conflict, match="deployment a1 of web is still running"):
        leases.acquire(fake_platform.db, "web", "b2", "deployment b2")
    leases.release(fake_platform.db, "web", "a1")
    leases.acquire(fake_platform.db, "web", "b2", "deployment b2")


def test_an_abandoned_lease_expires_after_its_time_to_live(fake_platform, clock):
    setup_app(fake_platform)
    db = fake_platform.db
    leases.acquire(db, "web", "dead", "deployment dead", ttl_s=30, clock=clock)
    clock.advance(29)
    with pytest.raises(Conflict):
        leases.acquire(db, "web", "alive", "deployment alive", clock=clock)
    clock.advance(2)
    leases.acquire(db, "web", "alive", "deployment alive", clock=clock)


def test_a_held_lease_is_renewed_while_the_work_runs(fake_platform, clock):
    setup_app(fake_platform)
    db = fake_platform.db
    leases.acquire(db, "web", "busy", "deployment busy", ttl_s=0.3, clock=clock)
    with leases.held(db, "web", "busy", ttl_s=0.3, clock=clock):
        clock.advance(10)  # far past the first expiry: only a renewal keeps it
        assert _renewed_past(db, clock), "the lease was not renewed while held"
        with pytest.raises(Conflict, match="busy"):
            leases.acquire(db, "web", "other", "deployment other", clock=clock)
    leases.acquire(db, "web", "other", "deployment other", clock=clock)


def test_waiting_for_a_lease_polls_until_it_expires(fake_platform, clock):
    setup_app(fake_platform)
    db = fake_platform.db
    leases.acquire(db, "web", "first", "deployment first", ttl_s=2, clock=clock)
    leases.acquire_waiting(db, "web", "second", "deployment second", timeout_s=5, clock=clock)
    assert 2 <= sum(clock.slept) < 5
    assert _holder(db) == "second"


def test_waiting_gives_up_at_its_timeout(fake_platform, clock):
    setup_app(fake_platform)
    db = fake_platform.db
    leases.acquire(db, "web", "first", "deployment first", ttl_s=60, clock=clock)
    with pytest.raises(Conflict):
        leases.acquire_waiting(db, "web", "second", "deployment second", timeout_s=5, clock=clock)
    assert sum(clock.slept) >= 5 and _holder(db) == "first"


def test_a_server_start_drops_every_lease(fake_platform):
    setup_app(fake_platform)
    leases.acquire(fake_platform.db, "web", "old", "deployment old")
    leases.drop_all(fake_platform.db)
    leases.acquire(fake_platform.db, "web", "new", "deployment new")


def _holder(db) -> str:
    with db.session() as session:
        return session.scalar(select(Lease.holder))


def _renewed_past(db, clock) -> bool:
    """Whether the renewer moved the expiry past the clock's now (waits for its thread)."""

    def renewed() -> bool:
        with db.session() as session:
            expires = session.scalar(select(Lease.expires_at))
        return expires.replace(tzinfo=clock.now().tzinfo) > clock.now()

    return wait_until(renewed)
