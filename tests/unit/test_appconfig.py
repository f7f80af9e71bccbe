import math
from pathlib import Path

import pytest

from hangar.appconfig import ConfigInvalid, load_file, parse, render
from hangar.domain.durations import parse_duration

GOLDEN = Path(__file__).parent / "golden"


def test_durations_in_fly_toml_forms():
    assert parse_duration("10s") == 10
    assert parse_duration("1m30s") == 90
    assert parse_duration("250ms") == 0.25
    assert parse_duration(7) == 7
    with pytest.raises(ValueError, match="duration"):
        parse_duration("soon")


@pytest.mark.parametrize("value", [math.inf, math.nan, 1e308, "25h", 86401])
def test_durations_are_finite_and_at_most_a_day(value):
    with pytest.raises(ValueError, match="at most 24h"):
        parse_duration(value)


@pytest.mark.parametrize(
    "section, key, value",
    [
        ("deploy", "max_unavailable", math.inf),
        ("deploy", "max_unavailable", math.nan),
        ("deploy", "wait_timeout", math.inf),
        (None, "kill_timeout", math.nan),
    ],
)
def test_infinite_and_nan_values_are_errors_naming_the_key(section, key, value):
    data = {"app": "x", **({section: {key: value}} if section else {key: value})}
    with pytest.raises(ConfigInvalid) as caught:
        parse(data)
    assert caught.value.problems[0].startswith(f"{section}.{key}:" if section else f"{key}:")


def test_errors_name_every_bad_key():
    with pytest.raises(ConfigInvalid) as caught:
        parse(
            {
                "app": "x",
                "kill_timeout": "soon",
                "http_service": {"internal_port": "eighty"},
                "deploy": {"strategy": "fast", "max_unavailable": 0},
            }
        )
    keys = [p.split(":")[0] for p in caught.value.problems]
    expected = [
        "kill_timeout",
        "deploy.strategy",
        "deploy.max_unavailable",
        "http_service.internal_port",
    ]
    assert sorted(keys) == sorted(expected)


def test_missing_app_is_named():
    with pytest.raises(ConfigInvalid, match="app: is required"):
        parse({})


def test_unknown_keys_are_warnings_not_errors():
    loaded = parse({"app": "x", "colour": "red", "http_service": {"speed": 1}})
    assert loaded.warnings == [
        "unknown key 'colour' ignored",
        "unknown key 'http_service.speed' ignored",
    ]


def test_render_matches_golden_and_round_trips():
    config = load_file(GOLDEN / "full.fly.toml").config
    text = render(config)
    assert text == (GOLDEN / "full.rendered.toml").read_text()
    assert parse(__import__("tomllib").loads(text)).config == config


def test_not_toml_is_a_config_error(tmp_path):
    bad = tmp_path / "fly.toml"
    bad.write_text("app = \n")
    with pytest.raises(ConfigInvalid, match="not valid TOML"):
        load_file(bad)


@pytest.mark.parametrize("value", [0, -1, 1.5])
def test_max_unavailable_must_be_a_count_or_a_fraction(value):
    with pytest.raises(ConfigInvalid, match=r"deploy\.max_unavailable"):
        parse({"app": "x", "deploy": {"max_unavailable": value}})


@pytest.mark.parametrize("value", [0.25, 1, 3])
def test_max_unavailable_accepts_counts_and_fractions(value):
    assert (
        parse({"app": "x", "deploy": {"max_unavailable": value}}).config.deploy.max_unavailable
        == value
    )


def test_fly_sections_hangar_does_not_run_yet_are_named_in_the_warning():
    loaded = parse({"app": "x", "mounts": {"source": "data", "destination": "/data"}})
    assert loaded.warnings == ["[mounts] is not supported by Hangar yet and is ignored"]


@pytest.mark.parametrize("key", ["interval", "timeout"])
@pytest.mark.parametrize("value", ["0s", 0, -1])
def test_check_interval_and_timeout_must_be_above_zero(key, value):
    service = {"http_service": {"checks": [{key: value}]}}
    with pytest.raises(ConfigInvalid, match=rf"http_service\.checks\.0\.{key}"):
        parse({"app": "x", **service})


@pytest.mark.parametrize("path", ["health", "/a b", "/x#frag", '/"quoted"'])
def test_a_check_path_must_be_a_plain_url_path(path):
    service = {"http_service": {"checks": [{"path": path}]}}
    with pytest.raises(ConfigInvalid, match=r"http_service\.checks\.0\.path"):
        parse({"app": "x", **service})


def test_a_check_method_is_an_http_method():
    service = {"http_service": {"checks": [{"method": "head"}]}}
    assert parse({"app": "x", **service}).config.http_service.checks[0].method == "HEAD"
    with pytest.raises(ConfigInvalid, match=r"checks\.0\.method"):
        parse({"app": "x", "http_service": {"checks": [{"method": "GET /"}]}})


@pytest.mark.parametrize(
    ("service", "key", "said"),
    [
        ({"auto_stop_machines": "bogus"}, "auto_stop_machines", '"off", "stop" or "suspend"'),
        ({"min_machines_running": -1}, "min_machines_running", "greater than or equal to 0"),
        ({"concurrency": {"soft_limit": 30, "hard_limit": 10}}, "concurrency", "below soft_limit"),
        ({"concurrency": {"type": "bytes"}}, "concurrency.type", "connections"),
        ({"concurrency": {"hard_limit": 0}}, "concurrency.hard_limit", "greater than"),
    ],
)
def test_bad_edge_settings_are_errors_naming_the_key(service, key, said):
    with pytest.raises(ConfigInvalid) as caught:
        parse({"app": "x", "http_service": service})
    problems = caught.value.problems
    assert any(p.startswith(f"http_service.{key}:") and said in p for p in problems), problems


@pytest.mark.parametrize(
    ("written", "meant"),
    [(True, "stop"), (False, "off"), ("suspend", "suspend"), ("off", "off")],
)
def test_auto_stop_takes_fly_booleans_and_names(written, meant):
    config = parse({"app": "x", "http_service": {"auto_stop_machines": written}}).config
    assert config.http_service is not None and config.http_service.auto_stop_machines == meant


@pytest.mark.parametrize(
    ("given", "soft", "hard"),
    [
        ({}, 20, 25),
        ({"soft_limit": 50}, 50, 50),
        ({"hard_limit": 10}, 10, 10),
        ({"soft_limit": 5, "hard_limit": 8, "type": "requests"}, 5, 8),
    ],
)
def test_concurrency_limits_default_as_flys_do(given, soft, hard):
    config = parse({"app": "x", "http_service": {"concurrency": given}}).config
    assert config.http_service is not None
    limits = config.http_service.concurrency
    assert (limits.soft_limit, limits.hard_limit) == (soft, hard)


def test_suspend_is_accepted_and_said_to_act_as_stop():
    loaded = parse({"app": "web", "http_service": {"auto_stop_machines": "suspend"}})
    assert loaded.config.http_service is not None
    assert loaded.config.http_service.auto_stop_machines == "suspend"
    (warning,) = loaded.warnings
    assert "suspend" in warning and 'as with "stop"' in warning
    plain = parse({"app": "web", "http_service": {"auto_stop_machines": "stop"}})
    assert plain.warnings == []
