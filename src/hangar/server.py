"""`hangar server`: wire the real adapters, reconcile, serve the API."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from pathlib import Path

import uvicorn

from hangar.acme_client import AcmeDirectory
from hangar.api.app import create_api
from hangar.builder.docker_builder import DockerBuilder
from hangar.control.acme_certificates import AcmeCertificates
from hangar.control.deploy.engine import Deployer
from hangar.control.edge_traffic import record_request
from hangar.control.platform import Platform, Settings
from hangar.control.platform_metrics import serve_metrics
from hangar.control.secrets import SecretStore
from hangar.control.supervision.auto_start import Starter
from hangar.control.supervision.auto_stop import IdleStopper
from hangar.control.supervision.reconcile import reconcile
from hangar.control.supervision.restart_monitor import RestartMonitor
from hangar.control.uploads import sweep_expired
from hangar.control.usage_sampler import SAMPLE_EVERY_S, sample_usage
from hangar.domain.durations import parse_duration
from hangar.edge.access_log import AccessLogReceiver
from hangar.edge.config import NOT_FOUND_BACKEND
from hangar.edge.haproxy import HAProxyEdge
from hangar.edge.health import HttpProbe
from hangar.edge.local_ca import LocalCA
from hangar.edge.supervisor import EdgeSupervisor
from hangar.edge.wake import WakeListener
from hangar.runtime.docker_runtime import DockerRuntime
from hangar.server_options import ServerOptions
from hangar.store.database import Database, sqlite_url
from hangar.store.secret_box import SecretBox, default_key_file

log = logging.getLogger("hangar")
STREAM_GRACE_S = 10  # a deploy's event stream may go on this long after a stop is asked
SHUTDOWN_WAIT_S = 20.0  # then running deploys and operations get this long to end
UPLOAD_SWEEP_S = 60.0  # expired uploads are removed within this long
RENEW_CHECK_S = 3600.0  # certificates due for renewal are renewed within this long
ACME_ROUND_S = 2.0  # a hostname waiting for its ACME certificate is ordered within this long
LOAD_ROUND_S = 1.0  # apps whose machines are all at soft_limit get one more within this long


def instance_id(data_dir: Path) -> str:
    """Servers with different data dirs never touch each other's containers."""
    return hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]


def build_platform(options: ServerOptions) -> tuple[Platform, HAProxyEdge]:
    data_dir = options.state_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)  # also a data dir made by an earlier, looser version
    box = SecretBox.from_file(options.secrets_key_file or default_key_file())
    db = Database(options.database_url or sqlite_url(data_dir))
    db.migrate()
    settings = Settings(
        data_dir,
        options.domain,
        options.http_port,
        https_port=options.https_port,
        keep_images=options.keep_images,
        smoke_window_s=options.smoke_window_s,
        allowed_images=options.images_allowed,
        upload_quota_bytes=options.upload_quota_mb * 1024 * 1024,
        upload_ttl_s=options.upload_expiry_s,
        signup_policy=options.signup,
    )
    ca = LocalCA(settings.ca_dir) if options.https_port else None
    if ca is not None:
        ca.ensure()  # made on first start, so `hangar certs ca` has it at once
    acme = build_acme(options, db, box) if ca is not None else None
    edge = build_edge(options, settings, ca, acme)
    if acme is not None:
        acme.attach(edge)
    runtime = DockerRuntime(instance=instance_id(data_dir), machine_subnets=options.machine_subnets)
    secrets = SecretStore(db, box)
    secrets.rekey_digests()
    platform = Platform(
        db, runtime, DockerBuilder(), edge, HttpProbe(), settings, secrets, ca=ca, acme=acme
    )
    return platform, edge


def build_acme(options: ServerOptions, db: Database, box: SecretBox) -> AcmeCertificates | None:
    """Certificates from the ACME directory of --acme-directory, if one is given."""
    if not options.acme_directory:
        return None
    ca_file = str(options.acme_ca_file) if options.acme_ca_file else None
    directory = AcmeDirectory(options.acme_directory, options.acme_email or None, ca_file)
    return AcmeCertificates(db, box, directory, options.domain)


def build_edge(
    options: ServerOptions,
    settings: Settings,
    ca: LocalCA | None,
    acme: AcmeCertificates | None = None,
) -> HAProxyEdge:
    """The edge; it serves HTTPS with certificates from ACME or else `ca`, if there is one
    (`ca` signs the fallback certificate for other names either way)."""
    return HAProxyEdge(
        settings.data_dir / "edge",
        http_host=options.http_host,
        http_port=options.http_port,
        domain=options.domain,
        https_port=options.https_port or None,
        issuer=acme or ca,
        metrics_port=options.edge_metrics_port or None,
        fallback_issuer=ca,
        threads=options.edge_threads or None,
    )


def serve(options: ServerOptions) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    os.umask(0o077)  # the store, keys, logs and uploads: readable by this user only
    platform, edge = build_platform(options)
    reconcile(platform)
    supervisor = EdgeSupervisor(edge)
    supervisor.start()
    restarts = RestartMonitor(platform)  # restarts exited machines per their [[restart]]
    restarts.start()
    sweep = functools.partial(sweep_expired, platform.db, platform.settings)
    platform.background.every("upload-sweeper", UPLOAD_SWEEP_S, sweep)
    platform.background.every("usage-sampler", SAMPLE_EVERY_S, lambda: sample_usage(platform))
    platform.background.every("certificate-renewal", RENEW_CHECK_S, edge.refresh_certificates)
    if platform.acme is not None:
        platform.background.every("acme-orders", ACME_ROUND_S, platform.acme.run_due)
    access_log = AccessLogReceiver(
        edge.paths.access_socket,
        functools.partial(record_request, platform),
        skip=frozenset({NOT_FOUND_BACKEND}),  # unknown hosts: no app's traffic
    )
    access_log.start()
    wake = start_on_demand(platform, edge, parse_duration(options.auto_stop_idle))
    metrics = serve_metrics(platform.db, options.metrics_port) if options.metrics_port else None
    log.info("edge serving http://*.%s:%d", options.domain, options.http_port)
    if options.https_port:
        log.info("edge serving https://*.%s:%d", options.domain, options.https_port)
    try:
        run_api(ApiServer(platform, options.host, options.port, options.api_host_names))
    finally:
        if metrics is not None:
            metrics.shutdown()
        access_log.close()
        wake.close()
        restarts.stop()
        supervisor.stop()
        # The data plane outlives the control plane: HAProxy keeps serving the apps
        # and the next `hangar server` adopts it.
        log.info("control plane stopped; the edge (pid %s) keeps serving", edge.pid)
        platform.db.dispose()


def start_on_demand(platform: Platform, edge: HAProxyEdge, idle_s: float) -> WakeListener:
    """Machines started by requests and load, stopped when idle (fly's autostart/autostop)."""
    starter = Starter(platform)
    wake = WakeListener(edge.paths.wake_socket, starter.wake)
    wake.start()
    platform.background.every("auto-start", LOAD_ROUND_S, starter.round)
    stopper = IdleStopper(platform, idle_s)
    platform.background.every("auto-stop", max(0.5, min(idle_s / 5, 10.0)), stopper.round)
    return wake


def default_api_hosts(bind: str) -> tuple[str, ...]:
    """127.0.0.1 and localhost, and the bound address when it is a particular one."""
    loopback = ("127.0.0.1", "localhost", "[::1]")
    return loopback if bind in ("0.0.0.0", "::", "") else (*loopback, bind)


def run_api(api: ApiServer) -> None:
    """Serve the API until told to stop, then stop the background work it started."""
    try:
        api.run()
    finally:
        api.platform.background.shutdown(SHUTDOWN_WAIT_S)


class ApiServer(uvicorn.Server):
    """uvicorn for the API; on a stop it tells open streams the client is gone (their
    owners then close them), and ends the rest after STREAM_GRACE_S."""

    def __init__(
        self, platform: Platform, host: str, port: int, api_hosts: tuple[str, ...] = ()
    ) -> None:
        api = create_api(platform, Deployer(platform), api_hosts or default_api_hosts(host))
        config = uvicorn.Config(
            api, host=host, port=port, log_level="info", timeout_graceful_shutdown=STREAM_GRACE_S
        )
        super().__init__(config)
        self.platform = platform
