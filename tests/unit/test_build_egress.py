"""Where builds may send traffic: the policy, the checked fetch of ADD sources, the rewrite."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from hangar.builder.dockerfile import instructions, replace_instruction
from hangar.builder.egress import EgressPolicy, host_policy
from hangar.builder.remote_add import localise_remote_adds, parse_add
from hangar.builder.safe_fetch import Fetched, fetch
from hangar.builder.sandbox import chain_rules
from hangar.errors import BuildFailed

PUBLIC = "93.184.216.34"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.17.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "fe80::1%eth0",
        "fd00::5",
    ],
)
def test_the_host_policy_blocks_loopback_private_and_link_local(address: str) -> None:
    assert not host_policy().allows(address)


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700::1111"])
def test_the_host_policy_allows_public_addresses(address: str) -> None:
    assert host_policy().allows(address)


def _resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    return lambda host, port: table[host]


def _transport(
    answers: dict[str, httpx.Response], seen: list[httpx.Request]
) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[f"{request.url.host}{request.url.path}"]

    return httpx.MockTransport(handle)


def test_fetch_connects_to_the_checked_address_with_the_original_host(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    ok = httpx.Response(200, content=b"tini", headers={"Last-Modified": "Wed, 21 Oct 2015"})
    transport = _transport({f"{PUBLIC}/tini": ok}, seen)

    got = fetch(
        "https://files.example/tini",
        tmp_path / "f",
        host_policy(),
        _resolver({"files.example": [PUBLIC]}),
        transport,
    )

    assert got == Fetched(tmp_path / "f", "Wed, 21 Oct 2015")
    assert (tmp_path / "f").read_bytes() == b"tini"
    assert seen[0].headers["host"] == "files.example"
    assert seen[0].extensions["sni_hostname"] == "files.example"


@pytest.mark.parametrize(
    "location, table",
    [
        ("http://127.0.0.1:4280/openapi.json", {}),
        ("http://inside.example/x", {"inside.example": ["10.0.0.5"]}),
        ("http://both.example/x", {"both.example": [PUBLIC, "127.0.0.1"]}),
    ],
)
def test_a_redirect_to_a_blocked_address_is_refused_before_it_is_followed(
    tmp_path: Path, location: str, table: dict[str, list[str]]
) -> None:
    seen: list[httpx.Request] = []
    moved = httpx.Response(302, headers={"Location": location})
    transport = _transport({f"{PUBLIC}/start": moved}, seen)
    names = {"files.example": [PUBLIC], "127.0.0.1": ["127.0.0.1"], **table}

    with pytest.raises(BuildFailed, match="refused"):
        fetch(
            "http://files.example/start", tmp_path / "f", host_policy(), _resolver(names), transport
        )

    assert len(seen) == 1


def test_redirect_loops_and_error_answers_fail_the_build(tmp_path: Path) -> None:
    loop = httpx.Response(301, headers={"Location": "/start"})
    names = _resolver({"files.example": [PUBLIC]})
    with pytest.raises(BuildFailed, match="redirects"):
        fetch(
            "http://files.example/start",
            tmp_path / "f",
            host_policy(),
            names,
            _transport({f"{PUBLIC}/start": loop}, []),
        )
    gone = httpx.Response(404)
    with pytest.raises(BuildFailed, match="answered 404"):
        fetch(
            "http://files.example/start",
            tmp_path / "f",
            host_policy(),
            names,
            _transport({f"{PUBLIC}/start": gone}, []),
        )


def test_a_source_over_the_size_limit_is_cut_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hangar.builder.safe_fetch.MAX_SOURCE_BYTES", 10)
    big = httpx.Response(200, content=b"x" * 11)
    with pytest.raises(BuildFailed, match="larger than"):
        fetch(
            "http://files.example/big",
            tmp_path / "f",
            host_policy(),
            _resolver({"files.example": [PUBLIC]}),
            _transport({f"{PUBLIC}/big": big}, []),
        )


def test_only_http_and_https_sources_are_fetched(tmp_path: Path) -> None:
    with pytest.raises(BuildFailed, match="not an http"):
        fetch("ftp://files.example/x", tmp_path / "f", host_policy(), _resolver({}))


def test_add_is_parsed_with_flags_json_form_and_several_sources() -> None:
    text = (
        "FROM a\nADD --chown=1:1 local.tar https://x.example/y.tgz /opt/\n"
        'ADD ["https://x.example/z", "/z"]\n'
    )
    first, second = (parse_add(i) for i in instructions(text)[1:])

    assert first is not None and second is not None
    assert first.flags == ["--chown=1:1"] and first.sources == [
        "local.tar",
        "https://x.example/y.tgz",
    ]
    assert first.remote() == ["https://x.example/y.tgz"] and first.dest == "/opt/"
    assert second.json_form and second.written_with({"https://x.example/z": "http://l/1/z"}) == (
        'ADD ["http://l/1/z", "/z"]'
    )


class Served:
    def __init__(self) -> None:
        self.files: list[tuple[Fetched, str]] = []

    def serve(self, fetched: Fetched, name: str) -> str:
        self.files.append((fetched, name))
        return f"http://127.0.0.1:1/t{len(self.files)}/{quote(name)}"


def test_remote_adds_are_rewritten_in_place_keeping_every_other_line(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM a\n# a comment\nADD --chown=1:1 \\\n"
        "    https://x.example/bin/tini%201 /tini\nRUN echo $X\n"
    )
    fetched: list[str] = []

    def fake_fetch(url: str, dest: Path, policy: EgressPolicy) -> Fetched:
        fetched.append(url)
        return Fetched(dest, None)

    served = Served()
    localise_remote_adds(dockerfile, tmp_path, served, host_policy(), lambda line: None, fake_fetch)  # type: ignore[arg-type]

    assert fetched == ["https://x.example/bin/tini%201"]
    assert served.files[0][1] == "tini 1"
    assert dockerfile.read_text().splitlines() == [
        "FROM a",
        "# a comment",
        "ADD --chown=1:1 http://127.0.0.1:1/t1/tini%201 /tini",
        "",
        "RUN echo $X",
    ]


def test_instructions_follow_the_escape_directive_and_skip_comments() -> None:
    text = "# escape=`\nFROM a\nRUN echo one `\n  # inside\n  two\nCOPY . /app\n"

    found = instructions(text)

    assert [(i.keyword, i.arguments) for i in found] == [
        ("FROM", "a"),
        ("RUN", "echo one  two"),
        ("COPY", ". /app"),
    ]
    assert (found[1].first_line, found[1].last_line) == (2, 4)
    assert replace_instruction(text, found[1], "RUN true").splitlines()[2:5] == ["RUN true", "", ""]


def test_the_sandbox_chain_lets_dns_through_to_the_nameservers_then_drops_blocked_ranges() -> None:
    rules = chain_rules(EgressPolicy((host_policy().blocked[1],)), ["10.255.255.53"])

    assert rules[1:3] == [
        "-A HANGAR-BUILD -d 10.255.255.53/32 -p udp -m udp --dport 53 -j RETURN",
        "-A HANGAR-BUILD -d 10.255.255.53/32 -p tcp -m tcp --dport 53 -j RETURN",
    ]
    assert rules[3].endswith("-j DROP") and rules[-1] == "-A HANGAR-BUILD -j RETURN"
