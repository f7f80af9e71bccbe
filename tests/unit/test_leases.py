import time

import pytest

from hangar.control import leases
from hangar.errors import Conflict
from tests.support.platform import setup_app


def test_a_held_lease_refuses_others_and_names_the_holder(fake_platform):
    setup_app(fake_platform)
    leases.acquire(fake_platform.db, "web", "a1", "deployment a1")
    with pytest.raises(Conflict, match="deployment a1 of web is still running"):
        leases.acquire(fake_platform.db, "web", "b2", "deployment b2")
    leases.release(fake_platform.db, "web", "a1")
    leases.acquire(fake_platform.db, "web", "b2", "deployment b2")


def test_an_abandoned_lease_expires(fake_platform):
    setup_app(fake_platform)
    leases.acquire(fake_platform.db, "web", "dead", "deployment dead", ttl_s=0.2)
    time.sleep(0.3)
    leases.acquire(fake_platform.db, "web", "alive", "deployment alive")


def test_a_held_lease_is_renewed_while_the_work_runs(fake_platform):
    setup_app(fake_platform)
    leases.acquire(fake_platform.db, "web", "busy", "deployment busy", ttl_s=1.0)
    with leases.held(fake_platform.db, "web", "busy", ttl_s=1.0):
        time.sleep(1.5)  # past the first expiry: only renewals keep it
        with pytest.raises(Conflict, match="busy"):
            leases.acquire(fake_platform.db, "web", "other", "deployment other")
    leases.acquire(fake_platform.db, "web", "other", "deployment other")


def test_waiting_for_a_lease_gets_it_once_freed(fake_platform):
    setup_app(fake_platform)
    leases.acquire(fake_platform.db, "web", "first", "deployment first", ttl_s=0.3)
    started = time.monotonic()
    leases.acquire_waiting(fake_platform.db, "web", "second", "deployment second", timeout_s=5)
    assert time.monotonic() - started >= 0.2


def test_a_server_start_drops_every_lease(fake_platform):
    setup_app(fake_platform)
    leases.acquire(fake_platform.db, "web", "old", "deployment old")
    leases.drop_all(fake_platform.db)
    leases.acquire(fake_platform.db, "web", "new", "deployment new")
