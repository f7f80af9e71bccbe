"""The control plane's Prometheus metrics: one registry, and the counters the use
cases and adapters bump (served by `hangar server --metrics-port`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

DEPLOYS = Counter(
    "hangar_deploys", "Deploys that ended, by outcome", ["outcome"], registry=REGISTRY
)
DEPLOY_SECONDS = Histogram(
    "hangar_deploy_duration_seconds",
    "How long deploys took, from start to their end, by outcome",
    ["outcome"],
    buckets=(5, 10, 20, 30, 60, 120, 300, 600, 1800),
    registry=REGISTRY,
)
RESTARTS = Counter(
    "hangar_machine_restarts",
    "Machines the platform restarted after their process exited",
    ["app"],
    registry=REGISTRY,
)
CERTIFICATES = Counter(
    "hangar_certificates_issued",
    "Certificates the edge obtained: first ones and renewals, by issuer",
    ["issuer", "kind"],
    registry=REGISTRY,
)
