"""The dashboard's plots from end to end of the pure parts: the edge's log lines, the
last hour's buckets and percentiles, CPU from the engine's counters, the SVG."""

from __future__ import annotations

import re

import pytest

from hangar.control.metrics import BUCKET_S, WINDOW_S, Metrics
from hangar.control.usage_sampler import sample_usage
from hangar.dashboard.plots import nice_maximum, traffic_plots, usage_plots
from hangar.domain.latency import percentile
from hangar.edge.access_log import parse_line
from hangar.ports import EdgeRequest, UsageSample
from hangar.runtime.usage import usage_from_stats
from tests.support.platform import deploy_now, http_config, setup_app


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_edges_log_lines_are_read_and_others_ignored():
    line = b"hangar2 web m1 503 12 88 GET req-1 /a path?with spaces\n"
    assert parse_line(line) == EdgeRequest(
        "web", "m1", 503, 12, 88, "GET", "req-1", "/a path?with spaces"
    )
    for other in (
        b"Server web/m1 is UP",
        b"hangar2 web m1 x 1 2 GET r /",
        b"hangar2 a b 200 1",
        b"hangar1 web m1 503 12 88",
    ):
        assert parse_line(other) is None


def test_requests_count_by_status_class_per_bucket_and_the_hour_is_kept():
    clock = Clock()
    metrics = Metrics(clock)
    for status in (200, 200, 301, 404, 502, -1):
        metrics.record_request("web", status, 5)
    clock.now += BUCKET_S
    metrics.record_request("web", 200, 5)
    assert len(metrics.traffic("web")) == 1  # the bucket filling now is not a rate yet
    clock.now += BUCKET_S
    first, second = metrics.traffic("web")
    assert first.per_second == {"2xx": 0.2, "3xx": 0.1, "4xx": 0.1, "5xx": 0.1}
    assert second.per_second["2xx"] == 0.1 and second.at - first.at == BUCKET_S
    clock.now += WINDOW_S
    assert metrics.traffic("web") == []
    assert metrics.traffic("other") == []


def test_percentiles_are_within_a_bin_of_the_truth():
    clock = Clock()
    metrics = Metrics(clock)
    for ms in range(1, 101):  # 1..100 ms
        metrics.record_request("web", 200, ms)
    clock.now += BUCKET_S
    point = metrics.traffic("web")[0]
    assert point.p50_ms is not None and 50 <= point.p50_ms <= 50 * 1.25
    assert point.p95_ms is not None and 95 <= point.p95_ms <= 95 * 1.25
    assert percentile({}, 0.5) is None


def sample(cpu_ms: int, host_s: int, memory_mb: int = 64) -> UsageSample:
    return UsageSample(cpu_ms * 10**6, host_s * 10**9, 2, memory_mb * 2**20, 512 * 2**20)


def test_cpu_is_the_share_used_between_two_samples():
    metrics = Metrics(Clock())
    metrics.record_usage("web", "m1", sample(0, 10))
    assert metrics.usage("web") == {}  # one sample says nothing of a rate
    metrics.record_usage("web", "m1", sample(250, 11))  # 0.25 s of CPU in 1 s of host time
    (point,) = metrics.usage("web")["m1"]
    assert point.cpu_percent == pytest.approx(50.0)  # of 2 CPUs: half of one
    assert point.memory_mb == 64


def test_the_engines_stats_become_a_sample_and_a_stopped_container_none():
    stats = {
        "cpu_stats": {"cpu_usage": {"total_usage": 5}, "system_cpu_usage": 9, "online_cpus": 2},
        "memory_stats": {"usage": 100, "limit": 1000, "stats": {"inactive_file": 40}},
    }
    assert usage_from_stats(stats) == UsageSample(5, 9, 2, 60, 1000)
    assert usage_from_stats({"cpu_stats": {}, "memory_stats": {}}) is None


def test_the_sampler_reads_every_started_machine(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    assert sample_usage(fake_platform) == 2
    assert sample_usage(fake_platform) == 2
    assert len(fake_platform.metrics.usage("web")) == 2


def test_the_plots_draw_each_series_and_say_the_latest_values():
    clock = Clock()
    metrics = Metrics(clock)
    metrics.record_request("web", 200, 10)
    metrics.record_request("web", 500, 900)
    metrics.record_usage("web", "m1", sample(0, 10))
    metrics.record_usage("web", "m1", sample(100, 11, memory_mb=80))
    clock.now += BUCKET_S
    rates, times = traffic_plots(metrics.traffic("web"), clock.now)
    cpu, memory = usage_plots(metrics.usage("web"), clock.now)
    assert rates.count("<polyline") == 4 and "2xx: 0.1 req/s now" in rates
    assert "5xx: 0.1 req/s now" in rates and 'role="img"' in rates
    assert re.search(r"p95: \d+ ms now", times)
    assert "m1: 20 % of a CPU now" in cpu and "m1: 80 MB now" in memory
    assert "no data yet" in traffic_plots([], clock.now)[0]


def test_the_stamp_changes_with_each_bucket_and_each_usage_sample():
    clock = Clock()
    metrics = Metrics(clock)
    first = metrics.stamp("web")
    metrics.record_request("web", 200, 1)
    assert metrics.stamp("web") == first  # the same bucket: the plots stay as drawn
    clock.now += BUCKET_S
    second = metrics.stamp("web")
    metrics.record_usage("web", "m1", sample(0, 10))
    metrics.record_usage("web", "m1", sample(5, 11))
    assert len({first, second, metrics.stamp("web")}) == 3


@pytest.mark.parametrize(("value", "top"), [(0, 1), (0.3, 0.5), (7, 10), (11, 20), (450, 500)])
def test_the_y_axis_ends_at_a_round_number(value, top):
    assert nice_maximum(value) == pytest.approx(top)
