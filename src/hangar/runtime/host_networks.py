"""The networks this host has an address on (its LAN among them), read from `ip`."""

from __future__ import annotations

import ipaddress
import json
import subprocess

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def host_networks() -> list[Network]:
    """The network of each interface address; none if `ip` cannot tell."""
    try:
        out = subprocess.run(
            ["ip", "-j", "addr", "show"], capture_output=True, text=True, check=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [
        ipaddress.ip_interface(f"{info['local']}/{info['prefixlen']}").network
        for link in json.loads(out or "[]")
        for info in link.get("addr_info", [])
        if "local" in info
    ]
