"""Where a build may send traffic: not to this host, its networks, or private ranges.

A build runs the user's Dockerfile, so it is the user's code on the platform's
host. The same policy decides which addresses `ADD <url>` may fetch from and
which destinations the build sandbox's firewall drops.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from hangar.runtime.host_networks import Network, host_networks

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

NEVER_REACHABLE = (
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8",
    "100.64.0.0/10",  # carrier-grade NAT
    "127.0.0.0/8",
    "169.254.0.0/16",  # link-local, where cloud metadata services answer
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "224.0.0.0/3",  # multicast and reserved
    "::/128",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
)


@dataclass(frozen=True)
class EgressPolicy:
    blocked: tuple[Network, ...]

    def allows(self, address: str) -> bool:
        ip = _unmapped(ipaddress.ip_address(address.split("%")[0]))
        return not any(ip in network for network in self.blocked)

    def blocked_ipv4(self) -> list[str]:
        return [str(n) for n in self.blocked if isinstance(n, ipaddress.IPv4Network)]


def host_policy() -> EgressPolicy:
    """Private and special ranges, and every network this host has an address on."""
    networks = [ipaddress.ip_network(n) for n in NEVER_REACHABLE] + host_networks()
    v4 = [n for n in networks if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in networks if isinstance(n, ipaddress.IPv6Network)]
    return EgressPolicy((*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)))


def _unmapped(ip: Address) -> Address:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip
