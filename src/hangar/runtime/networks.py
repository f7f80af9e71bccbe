"""Docker networks that Hangar owns: made on demand, found by name, removed when empty."""

from __future__ import annotations

import docker
import docker.errors

from hangar.runtime.docker_errors import docker_errors

NO_ICC = {"com.docker.network.bridge.enable_icc": "false"}


def ensure_network(
    client: docker.DockerClient, name: str, labels: dict[str, str], options: dict[str, str]
) -> str:
    """The id of bridge network `name`, made with `labels` and driver `options` if missing."""
    with docker_errors(f"making network {name}"):
        try:
            return str(client.networks.get(name).id)
        except docker.errors.NotFound:
            pass
        try:
            network = client.networks.create(
                name, driver="bridge", labels=labels, options=options, check_duplicate=True
            )
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # made meanwhile by another thread or server
                raise
            network = client.networks.get(name)
        return str(network.id)
