"""The platform's per-app log ring: bounded, filtered by machine, followable."""

from __future__ import annotations

import queue
import threading

from hangar.control.platform_log import PlatformLog
from hangar.ports import LogLine


def test_lines_are_tagged_prefixed_and_bounded():
    log = PlatformLog(lines_per_app=3)
    for number in range(5):
        log.write("web", f"m{number % 2}", f"event {number}")
    assert [line.message for line in log.lines("web")] == [
        "[platform] event 2",
        "[platform] event 3",
        "[platform] event 4",
    ]
    assert [line.message for line in log.lines("web", "m1")] == ["[platform] event 3"]
    assert log.lines("web", tail=1)[0].message == "[platform] event 4"
    assert log.lines("other") == []


def test_timestamps_sort_with_dockers():
    line = PlatformLog().write("web", "m1", "x")
    docker_stamp = "2026-01-01T00:00:00.123456789Z"
    assert len(line.timestamp) == len(docker_stamp) and line.timestamp.endswith("Z")
    assert sorted([line.timestamp, docker_stamp])[0] == docker_stamp


def test_kept_lines_keep_their_own_tag_and_time():
    log = PlatformLog()
    log.keep("web", [LogLine("m1", "2026-01-01T00:00:00.000000000Z", "app output")])
    assert log.lines("web") == [LogLine("m1", "2026-01-01T00:00:00.000000000Z", "app output")]


def test_follow_gives_the_tail_then_new_lines_even_once_the_ring_is_full():
    log = PlatformLog(lines_per_app=2)
    log.write("web", "m1", "old")
    log.write("web", "m2", "older")
    stopped = threading.Event()
    follower = log.follow("web", None, stopped, tail=1, poll_s=0.05)
    got: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in follower:
            got.put(line.message)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert got.get(timeout=5) == "[platform] older"
        for number in range(3):
            log.write("web", "m1", f"new {number}")
            assert got.get(timeout=5) == f"[platform] new {number}"
    finally:
        stopped.set()
        reader.join(timeout=5)


def test_forgetting_an_app_drops_its_lines():
    log = PlatformLog()
    log.write("web", "m1", "x")
    log.forget("web")
    assert log.lines("web") == []
