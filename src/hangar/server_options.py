"""The options of `hangar server`, spelled once: each field is a flag and a HANGAR_* variable.

`hangar server` takes its flags from these fields (cli/server_cmd.py), the
server reads them (server.py), and the test harness writes its command line
with `command_line` (tests/support/server.py). A flag `--http-port` is also
read from `HANGAR_HTTP_PORT`; a flag given wins over the variable. Kept free
of the server's imports so the CLI starts fast.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from hangar.domain.durations import parse_duration
from hangar.domain.image_names import BASE_IMAGES


@dataclass(frozen=True)
class Flag:
    name: str
    help: str
    metavar: str | None = None
    min: float | None = None
    check: Callable[[Any], object] | None = None  # raises ValueError on a bad value

    @property
    def env_var(self) -> str:
        return "HANGAR_" + self.name.removeprefix("--").upper().replace("-", "_")


def _flag(default: Any, name: str, help: str, **more: Any) -> Any:
    return field(default=default, metadata={"flag": Flag(name, help, **more)})


@dataclass
class ServerOptions:
    data_dir: Path | None = _flag(
        None,
        "--data-dir",
        "Where state is kept (default /var/lib/hangar as root, else ~/.local/share/hangar)",
    )
    host: str = _flag("127.0.0.1", "--host", "API address")
    api_hosts: str = _flag(
        "",
        "--api-host",
        "Host names the API answers to, comma-separated (default: 127.0.0.1, localhost and "
        "the --host address); any other Host gets 400, so no web page reaches the API by "
        "DNS rebinding",
    )
    port: int = _flag(4280, "--port", "API port")
    http_host: str = _flag("0.0.0.0", "--http-host", "Edge address")
    http_port: int = _flag(80, "--http-port", "Edge port serving the apps")
    https_port: int = _flag(
        443,
        "--https-port",
        "Edge port serving the apps over HTTPS, with certificates from the server's own CA "
        "(see `hangar certs ca`); 0 serves plain HTTP only",
        min=0,
    )
    domain: str = _flag("localhost", "--domain", "Apps answer at APP.<domain>")
    edge_threads: int = _flag(
        0, "--edge-threads", "HAProxy's threads (nbthread); 0: one per core", metavar="N", min=0
    )
    acme_directory: str = _flag(
        "",
        "--acme-directory",
        "An ACME directory URL (Let's Encrypt's, or Pebble's): the apps' certificates come "
        "from it by HTTP-01 instead of the server's own CA; empty: the own CA",
        metavar="URL",
        check=lambda value: _acme_url(value),
    )
    acme_email: str = _flag(
        "", "--acme-email", "The contact address of the ACME account", metavar="EMAIL"
    )
    acme_ca_file: Path | None = _flag(
        None,
        "--acme-ca-file",
        "A PEM file to trust for the ACME directory's own HTTPS (a private directory's)",
    )
    metrics_port: int = _flag(
        9091,
        "--metrics-port",
        "Loopback port of the control plane's Prometheus metrics (/metrics); 0: none",
        min=0,
    )
    edge_metrics_port: int = _flag(
        9101,
        "--edge-metrics-port",
        "Loopback port of HAProxy's own Prometheus exporter (/metrics); 0: none",
        min=0,
    )
    auto_stop_idle: str = _flag(
        "5m",
        "--auto-stop-idle",
        "A machine of an app with auto_stop_machines gets no request for this long: it is "
        "drained and stopped (never below min_machines_running)",
        metavar="DURATION",
        check=parse_duration,
    )
    database_url: str | None = _flag(
        None, "--database-url", "postgresql://… (default SQLite in the data dir)"
    )
    secrets_key_file: Path | None = _flag(
        None,
        "--secrets-key-file",
        "Fernet key encrypting app secrets, kept apart from the database; created (0600) "
        "if missing (default /etc/hangar/secrets.key as root, else ~/.config/hangar/secrets.key)",
    )
    keep_images: int = _flag(
        5,
        "--keep-images",
        "Keep the images of each app's last N releases; older ones are pruned after "
        "each successful deploy",
        metavar="N",
        min=1,
    )
    smoke_window_s: float = _flag(
        5.0,
        "--smoke-window",
        "Seconds a new machine must keep running after it passed its health checks",
        metavar="S",
        min=0,
    )

    allowed_images: str = _flag(
        ",".join(BASE_IMAGES),
        "--allowed-images",
        "Images any app may deploy with `hangar deploy --image`, comma-separated (an app "
        "may always deploy the images of its own releases)",
    )

    signup: str = _flag(
        "invite",
        "--signup",
        "Who may sign up after the first account (the server's admin): open, or invite "
        "(only with a code from `hangar orgs invite`)",
        check=lambda value: _one_of(value, ("open", "invite")),
    )
    upload_quota_mb: int = _flag(
        4096,
        "--upload-quota",
        "MiB each user's pending (not yet deployed) uploads may take, unpacked",
        metavar="MIB",
        min=1,
    )
    upload_expiry_s: float = _flag(
        3600.0,
        "--upload-expiry",
        "Seconds an upload waits for its deploy before it is removed",
        metavar="S",
        min=1,
    )
    machine_subnets: str = _flag(
        "10.201.0.0/16",
        "--machine-subnets",
        "Address range the apps' private networks are cut from, one /24 per app",
        metavar="CIDR",
        check=lambda value: _private_range(value),
    )

    @property
    def api_host_names(self) -> tuple[str, ...]:
        return tuple(name.strip() for name in self.api_hosts.split(",") if name.strip())

    @property
    def images_allowed(self) -> tuple[str, ...]:
        return tuple(ref.strip() for ref in self.allowed_images.split(",") if ref.strip())

    @property
    def state_dir(self) -> Path:
        return self.data_dir or default_data_dir()


def _one_of(value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{value!r} is not one of {', '.join(choices)}")


def _private_range(value: str) -> None:
    network = ipaddress.ip_network(value)
    if network.version != 4 or not network.is_private or network.prefixlen > 24:
        raise ValueError(f"{value} is not a private IPv4 range of /24 or more, e.g. 10.201.0.0/16")


def flags() -> list[tuple[str, Flag, Any]]:
    """(field name, flag, default) of every option, in the order of the fields."""
    return [(f.name, f.metadata["flag"], f.default) for f in fields(ServerOptions)]


def command_line(options: ServerOptions) -> list[str]:
    """The `hangar server` arguments that give `options` (defaults left out)."""
    args: list[str] = []
    for name, flag, default in flags():
        value = getattr(options, name)
        if value != default:
            args += [flag.name, str(value)]
    return args


def default_data_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/hangar")
    return Path.home() / ".local" / "share" / "hangar"


def _acme_url(value: str) -> None:
    if value and not value.startswith(("https://", "http://")):
        raise ValueError("an ACME directory is an https:// URL")
