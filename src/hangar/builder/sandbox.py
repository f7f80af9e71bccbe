"""The network builds run in: out to the internet, never to this host or private ranges.

`RUN` steps are the user's code. They run on a bridge of their own
(`hangar-build`, interface `hgr-build`, containers unable to talk to each
other) behind two firewall rules Hangar keeps in place: anything from the
bridge to the host itself is dropped (INPUT), and so is anything forwarded to
a destination the egress policy blocks (the HANGAR-BUILD chain, jumped to from
Docker's DOCKER-USER). DNS still works: Docker's resolver answers inside each
container's namespace and forwards from there to the host's nameservers,
which the chain lets through on port 53 only. The rules are written in one `iptables-restore`
transaction, only when they differ, so a running build is never left open.
"""

from __future__ import annotations

import ipaddress
import subprocess
import threading
from pathlib import Path

import docker

from hangar.builder.egress import EgressPolicy
from hangar.errors import BuildFailed
from hangar.runtime.networks import NO_ICC, ensure_network

NETWORK = "hangar-build"
BRIDGE = "hgr-build"
CHAIN = "HANGAR-BUILD"
FIREWALL_HINT = "the server must run as root on a host with iptables (Debian's iptables package)"
RESOLV_CONFS = (Path("/etc/resolv.conf"), Path("/run/systemd/resolve/resolv.conf"))
_lock = threading.Lock()


class BuildSandbox:
    def __init__(self, client: docker.DockerClient) -> None:
        self._client = client

    def ensure(self, policy: EgressPolicy) -> str:
        """Make the network and its firewall if needed; the network's name, for the build."""
        with _lock:
            options = {"com.docker.network.bridge.name": BRIDGE, **NO_ICC}
            ensure_network(self._client, NETWORK, {"hangar.role": "build"}, options)
            _ensure_rules(chain_rules(policy, host_nameservers()))
        return NETWORK


def chain_rules(policy: EgressPolicy, nameservers: list[str]) -> list[str]:
    """The HANGAR-BUILD chain as `iptables -S` prints it."""
    dns = [
        f"-A {CHAIN} -d {server}/32 -p {proto} -m {proto} --dport 53 -j RETURN"
        for server in nameservers
        for proto in ("udp", "tcp")
    ]
    drops = [f"-A {CHAIN} -d {net} -j DROP" for net in policy.blocked_ipv4()]
    return [f"-N {CHAIN}", *dns, *drops, f"-A {CHAIN} -j RETURN"]


def host_nameservers() -> list[str]:
    """The IPv4 nameservers Docker forwards to: the host's, past a local stub resolver."""
    found: list[str] = []
    for conf in RESOLV_CONFS:
        try:
            text = conf.read_text(encoding="utf-8")
        except OSError:
            continue
        for line in text.splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] == "nameserver" and _plain_ipv4(words[1]):
                found.append(words[1])
    return sorted(set(found))


def _plain_ipv4(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return isinstance(ip, ipaddress.IPv4Address) and not ip.is_loopback


def _ensure_rules(wanted: list[str]) -> None:
    if _iptables("-S", CHAIN, check=False) != "\n".join(wanted):
        body = "\n".join(rule for rule in wanted if not rule.startswith("-N"))
        _restore(f"*filter\n:{CHAIN} - [0:0]\n{body}\nCOMMIT\n")
    _ensure_jump("DOCKER-USER", "-i", BRIDGE, "-j", CHAIN)
    _ensure_jump("INPUT", "-i", BRIDGE, "-j", "DROP")


def _ensure_jump(chain: str, *rule: str) -> None:
    if _iptables("-C", chain, *rule, check=False) is None:
        _iptables("-I", chain, "1", *rule)


def _iptables(*args: str, check: bool = True) -> str | None:
    """iptables' output; None when it fails and `check` is off."""
    return _run(["iptables", "-w", *args], check=check)


def _restore(rules: str) -> None:
    _run(["iptables-restore", "-w", "--noflush"], stdin=rules)


def _run(command: list[str], check: bool = True, stdin: str | None = None) -> str | None:
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        raise BuildFailed(
            f"the build sandbox's firewall cannot be set: {exc}", FIREWALL_HINT
        ) from exc
    if done.returncode == 0:
        return done.stdout.strip()
    if check:
        raise BuildFailed(
            f"the build sandbox's firewall cannot be set: {done.stderr.strip()}", FIREWALL_HINT
        )
    return None
