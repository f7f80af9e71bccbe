import pytest

from hangar.domain.rollout import batch_size, batches, first_deploy_count


@pytest.mark.parametrize(
    ("max_unavailable", "total", "expected"),
    [(1, 5, 1), (2, 5, 2), (0.5, 5, 3), (0.1, 5, 1), (0.33, 6, 2)],
)
def test_batch_size_is_a_count_or_a_rounded_up_fraction(max_unavailable, total, expected):
    assert batch_size(max_unavailable, total) == expected


def test_first_machine_goes_alone_then_batches():
    assert batches(["a", "b", "c", "d", "e"], 2) == [["a"], ["b", "c"], ["d", "e"]]


def test_no_machines_no_batches():
    assert batches([], 1) == []


def test_http_apps_start_with_two_machines():
    assert first_deploy_count(True) == 2
    assert first_deploy_count(False) == 1
