"""The control plane's /metrics: the counters of hangar.telemetry, and the machines
by app and state as the store has them when scraped."""

from __future__ import annotations

from collections.abc import Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from hangar.store.database import Database
from hangar.store.models import App, Machine
from hangar.telemetry import REGISTRY


class MachinesByState(Collector):
    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "hangar_machines", "Machines by app and state", labels=["app", "state"]
        )
        with self.db.session() as session:
            rows = session.execute(
                select(App.name, Machine.state, func.count())
                .join(App, App.id == Machine.app_id)
                .group_by(App.name, Machine.state)
            )
            for app, state, count in rows:
                family.add_metric([app, state], count)
        yield family


class _Everything(Collector):
    def __init__(self, *collectors: Collector) -> None:
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def serve_metrics(db: Database, port: int) -> WSGIServer:
    """Serve http://127.0.0.1:PORT/metrics in a thread; `shutdown()` stops it."""
    served = CollectorRegistry(auto_describe=False)
    served.register(_Everything(REGISTRY, MachinesByState(db)))
    server, _ = start_http_server(port, addr="127.0.0.1", registry=served)
    return server
