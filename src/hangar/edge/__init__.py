"""The edge: HAProxy serving APP.<domain> → machines, driven through its runtime API."""

from hangar.edge.config import EdgePaths, render_config, render_map
from hangar.edge.haproxy import HAProxyEdge
from hangar.edge.health import HttpProbe, wait_healthy

__all__ = ["EdgePaths", "HAProxyEdge", "HttpProbe", "render_config", "render_map", "wait_healthy"]
