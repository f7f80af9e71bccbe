"""A real `hangar server` in a subprocess, and the real CLI to drive it."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from hangar.server_options import ServerOptions, command_line

HANGAR = str(Path(sys.executable).parent / "hangar")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    api_url: str
    http_port: int
    data_dir: Path
    log_path: Path
    https_port: int = 0
    metrics_ports: tuple[int, int] = (0, 0)  # the control plane's, the edge's

    @property
    def ca_file(self) -> Path:
        """The server's own CA, which signs the edge's certificates."""
        return self.data_dir / "ca" / "ca.crt"

    def get_https(
        self, app: str, path: str = "/", timeout: float = 10.0, host: str | None = None
    ) -> httpx.Response:
        """A request over HTTPS to APP.localhost (or `host`), trusting the server's CA only."""
        host = host or f"{app}.localhost"
        trusting = ssl.create_default_context(cafile=str(self.ca_file))
        with httpx.Client(verify=trusting, timeout=timeout) as client:
            return client.get(
                f"https://127.0.0.1:{self.https_port}{path}",
                headers={"Host": f"{host}:{self.https_port}"},
                extensions={"sni_hostname": host},  # and the name the certificate must hold
            )

    def get(
        self,
        app: str,
        path: str = "/",
        timeout: float = 10.0,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A request through the edge, as a browser would send it to APP.localhost."""
        return httpx.get(
            f"http://127.0.0.1:{self.http_port}{path}",
            headers={"Host": f"{app}.localhost:{self.http_port}", **(headers or {})},
            timeout=timeout,
        )

    def stop(self, keep_edge: bool = False) -> None:
        """Stop the control plane, and unless `keep_edge` the HAProxy it started."""
        self._stop_control_plane()
        if not keep_edge:
            stop_pid_file(self.data_dir / "edge" / "haproxy.pid")

    def _stop_control_plane(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def stop_pid_file(pid_file: Path, timeout: float = 10.0) -> None:
    """Stop the process whose PID the file holds (one this test run started)."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def start_server(
    data_dir: Path,
    http_port: int | None = None,
    api_port: int | None = None,
    extra: tuple[str, ...] = (),
    *,
    https_port: int | None = None,
    metrics_ports: tuple[int, int] | None = None,
) -> RunningServer:
    """A `hangar server` on free ports (the control plane's and the edge's metrics too)."""
    api_port = api_port or free_port()
    http_port = http_port or free_port()
    https_port = https_port if https_port is not None else free_port()  # 0: no HTTPS
    metrics_port, edge_metrics_port = metrics_ports or (free_port(), free_port())
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    options = ServerOptions(
        data_dir=data_dir,
        port=api_port,
        http_host="127.0.0.1",
        http_port=http_port,
        https_port=https_port,
        metrics_port=metrics_port,
        edge_metrics_port=edge_metrics_port,
        secrets_key_file=data_dir / "secrets.key",  # never /etc/hangar; one in extra wins
        signup="open",  # the tests sign up several users; a test of invites passes --signup
    )
    command = [HANGAR, "server", *command_line(options), *extra]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    server = RunningServer(
        process,
        f"http://127.0.0.1:{api_port}",
        http_port,
        data_dir,
        log_path,
        https_port,
        (metrics_port, edge_metrics_port),
    )
    try:
        _wait_ready(server)
    except BaseException:
        server.stop()
        raise
    return server


def restart_server(server: RunningServer, extra: tuple[str, ...] = ()) -> RunningServer:
    """Another `hangar server` on the same data dir and ports (the one before stopped)."""
    api_port = int(server.api_url.rsplit(":", 1)[1])
    return start_server(
        server.data_dir,
        server.http_port,
        api_port,
        extra,
        https_port=server.https_port,
        metrics_ports=server.metrics_ports,
    )


def _wait_ready(server: RunningServer, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"hangar server exited:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.api_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"hangar server did not answer in {timeout}s:\n{server.log_tail()}")


@dataclass
class Cli:
    """The real `hangar` command with its own ~/.hangar and API URL."""

    home: Path
    api_url: str

    def __call__(
        self,
        *args: str,
        cwd: Path | None = None,
        input: str | None = None,
        timeout: float = 300,
        env_extra: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [HANGAR, *args],
            cwd=cwd,
            env=self.environment(env_extra),
            input=input,
            text=True,
            capture_output=True,
            timeout=timeout,
        )

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """What the command runs with: this CLI's home and API, no colours, wide lines."""
        env = {
            **os.environ,
            "HANGAR_HOME": str(self.home),
            "HANGAR_API_URL": self.api_url,
            "COLUMNS": "200",
            "NO_COLOR": "1",
        }
        env.pop("HANGAR_ACCESS_TOKEN", None)
        env.pop("HANGAR_API_TOKEN", None)
        env.update(extra or {})
        return env

    def ok(self, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        result = self(*args, **kwargs)  # type: ignore[arg-type]
        assert result.returncode == 0, (
            f"hangar {' '.join(args)} failed:\n{result.stderr}\n{result.stdout}"
        )
        return result
