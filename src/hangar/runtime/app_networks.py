"""A private network per app: an app's machines reach each other, never another app's.

Each app gets its own bridge (`hangar-<instance>-<app>`); Docker drops traffic
between different bridge networks, so no machine can open a connection to a
machine of another app, whoever owns it. The edge is not on these networks: it
reaches machines through their ports published on 127.0.0.1.

Docker's own address pools hold about 30 networks, so subnets are taken here
from `pool` (`hangar server --machine-subnets`), one /24 per app, skipping any
that overlaps a network of the engine or of the host.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator

import docker
import docker.errors
import docker.types
from docker.models.networks import Network as DockerNetwork

from hangar.errors import RuntimeFailure
from hangar.ports import APP_LABEL, MANAGED_LABEL
from hangar.runtime.docker_errors import docker_errors, explain
from hangar.runtime.host_networks import Network, host_networks

DEFAULT_POOL = "10.201.0.0/16"
SUBNET_PREFIX = 24
POOL_HINT = (
    "give `hangar server --machine-subnets` a larger range, or destroy apps you no longer need"
)


class AppNetworks:
    def __init__(
        self, client: docker.DockerClient, instance: str, pool: str = DEFAULT_POOL
    ) -> None:
        self._client = client
        self._instance = instance
        self._pool = ipaddress.ip_network(pool)
        self._lock = threading.Lock()

    def name(self, app: str) -> str:
        return f"hangar-{self._instance}-{app}"

    def ensure(self, app: str) -> str:
        """The app's network, made on its first machine."""
        name = self.name(app)
        with self._lock, docker_errors(f"making the network of app {app}"):
            if self._find(name) is not None:
                return name
            for subnet in self._free_subnets():
                if self._create(name, app, subnet):
                    return name
        raise RuntimeFailure(
            f"no free /{SUBNET_PREFIX} left in {self._pool} for app {app}", POOL_HINT
        )

    def remove(self, app: str) -> None:
        """Remove the app's network (its containers must be gone); a missing one is a no-op."""
        with docker_errors(f"removing the network of app {app}"):
            network = self._find(self.name(app))
            if network is not None:
                network.remove()

    def _find(self, name: str) -> DockerNetwork | None:
        try:
            return self._client.networks.get(name)
        except docker.errors.NotFound:
            return None

    def _create(self, name: str, app: str, subnet: Network) -> bool:
        """Make the network on `subnet`; False if the engine says the subnet is taken."""
        ipam = docker.types.IPAMConfig(
            pool_configs=[docker.types.IPAMPool(subnet=str(subnet), gateway=str(subnet[1]))]
        )
        try:
            self._client.networks.create(
                name,
                driver="bridge",
                ipam=ipam,
                labels={MANAGED_LABEL: self._instance, APP_LABEL: app},
                check_duplicate=True,
            )
        except docker.errors.APIError as exc:
            if "overlap" in explain(exc).lower():  # taken meanwhile by another server
                return False
            if exc.status_code == 409:  # made meanwhile by another server with this name
                return True
            raise
        return True

    def _free_subnets(self) -> Iterator[Network]:
        taken = self._taken()
        for subnet in self._pool.subnets(new_prefix=SUBNET_PREFIX):
            if not any(
                subnet.overlaps(other) for other in taken if other.version == subnet.version
            ):
                yield subnet

    def _taken(self) -> list[Network]:
        subnets: list[Network] = list(host_networks())
        for network in self._client.networks.list():
            for config in (network.attrs.get("IPAM") or {}).get("Config") or []:
                if config.get("Subnet"):
                    subnets.append(ipaddress.ip_network(config["Subnet"], strict=False))
        return subnets
