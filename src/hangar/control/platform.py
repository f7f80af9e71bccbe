"""Everything the use cases need, wired once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hangar.control.acme_certificates import AcmeCertificates
from hangar.control.activities import Activities
from hangar.control.background import Background
from hangar.control.login_limits import LoginLimits
from hangar.control.machine_traffic import MachineTraffic
from hangar.control.metrics import Metrics
from hangar.control.platform_log import PlatformLog, edge_access_log
from hangar.control.secrets import SecretStore
from hangar.domain.image_names import BASE_IMAGES
from hangar.ports import Builder, CertificateAuthority, Edge, HealthProbe, Runtime
from hangar.store.database import Database


@dataclass
class Settings:
    data_dir: Path
    domain: str = "localhost"
    http_port: int = 80
    https_port: int = 0  # 0: plain HTTP only
    drain_timeout_s: float = 30.0
    smoke_window_s: float = 5.0  # a machine must keep running this long after its checks pass
    keep_images: int = 5  # release images kept per app (see control/images.py)
    allowed_images: tuple[str, ...] = BASE_IMAGES  # deployable by any app with --image
    upload_quota_bytes: int = 4 * 1024**3  # each user's pending uploads, unpacked
    upload_ttl_s: float = 3600.0  # an upload not deployed by then is removed
    signup_policy: str = "open"  # or "invite" (the server's default): see control/accounts.py

    def app_url(self, app: str) -> str:
        """Where users reach the app: over HTTPS when the edge serves it."""
        if self.https_port:
            port = "" if self.https_port == 443 else f":{self.https_port}"
            return f"https://{self.hostname(app)}{port}"
        port = "" if self.http_port == 80 else f":{self.http_port}"
        return f"http://{self.hostname(app)}{port}"

    @property
    def ca_dir(self) -> Path:
        """Where the server keeps its own certificate authority (edge/local_ca.py)."""
        return self.data_dir / "ca"

    def hostname(self, app: str) -> str:
        return f"{app}.{self.domain}"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def contexts_dir(self) -> Path:
        """Uploads a deploy has taken, until its build is done."""
        return self.data_dir / "contexts"


@dataclass
class Platform:
    db: Database
    runtime: Runtime
    builder: Builder
    edge: Edge
    health: HealthProbe
    settings: Settings
    secrets: SecretStore
    platform_log: PlatformLog = field(default_factory=PlatformLog)  # see control/platform_log.py
    edge_log: PlatformLog = field(default_factory=edge_access_log)  # a line per request
    background: Background = field(default_factory=Background)  # see control/background.py
    login_limits: LoginLimits = field(default_factory=LoginLimits)  # see control/login_limits.py
    activities: Activities = field(default_factory=Activities)  # see control/activities.py
    metrics: Metrics = field(default_factory=Metrics)  # see control/metrics.py
    traffic: MachineTraffic = field(default_factory=MachineTraffic)  # last request per machine
    ca: CertificateAuthority | None = None  # when the edge serves HTTPS (edge/local_ca.py)
    acme: AcmeCertificates | None = None  # with --acme-directory (control/acme_certificates.py)
