"""Which names may be a custom domain of an app (`hangar certs add`)."""

from __future__ import annotations

import ipaddress
import re

from hangar.errors import InvalidInput

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
MAX_LENGTH = 253


def custom_domain(name: str, base_domain: str) -> str:
    """`name` lowercased, or InvalidInput saying why it cannot be an app's domain."""
    hostname = name.strip().lower()
    hint = "give a DNS name you own, such as www.example.com"
    if hostname.startswith("*."):
        raise InvalidInput(f"{name!r}: wildcard domains are not supported", hint=hint)
    if _is_address(hostname):
        raise InvalidInput(f"{name!r} is an IP address, not a domain", hint=hint)
    labels = hostname.split(".")
    if len(hostname) > MAX_LENGTH or len(labels) < 2 or not all(map(_LABEL.fullmatch, labels)):
        raise InvalidInput(f"{name!r} is not a domain", hint=hint)
    if hostname == base_domain or hostname.endswith(f".{base_domain}"):
        raise InvalidInput(
            f"{hostname} is under this platform's own domain {base_domain}",
            hint=f"every app already answers at APP.{base_domain}; add a domain of your own",
        )
    return hostname


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True
