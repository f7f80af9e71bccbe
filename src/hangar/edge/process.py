"""The haproxy master-worker process: spawn or adopt, check, reload, stop."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from hangar.edge.config import EdgePaths
from hangar.edge.files import write_atomic
from hangar.edge.runtime_api import RuntimeAPI
from hangar.errors import EdgeFailure

log = logging.getLogger(__name__)

_POLL_S = 0.02
_STOP_S = 10.0
_GRACEFUL_STOP_S = 65.0  # hard-stop-after is 60s
_FAILED_RE = re.compile(r"\[failed: (\d+)\]")
_BIND_FAILED_RE = re.compile(r"cannot bind socket \(Address already in use\) for \[([^\]]+)\]")
_MASTER_RECONNECT_S = 2.0  # the master CLI is gone for a moment while it re-executes


class HAProxyProcess:
    """One haproxy master (`-W`) with its workers, started by us or found running."""

    def __init__(self, binary: str, paths: EdgePaths, ready_timeout_s: float = 10.0) -> None:
        self.binary = binary
        self.paths = paths
        self.ready_timeout_s = ready_timeout_s
        self.stats = RuntimeAPI(paths.stats_socket)
        self.master = RuntimeAPI(paths.master_socket, reconnect_s=_MASTER_RECONNECT_S)
        self._popen: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None

    @property
    def pid(self) -> int | None:
        """The master's PID while it runs."""
        return self._pid if self.running else None

    @property
    def running(self) -> bool:
        if self._popen is not None:
            return self._popen.poll() is None
        return self._pid is not None and _alive(self._pid)

    def check(self, config_text: str) -> None:
        """Raise EdgeFailure with HAProxy's alerts unless `config_text` is valid."""
        candidate = self.paths.config.with_name("haproxy.cfg.check")
        write_atomic(candidate, config_text)
        try:
            result = self._run_check(candidate)
        finally:
            candidate.unlink(missing_ok=True)
        if result.returncode != 0:
            alerts = [line for line in result.stdout.splitlines() if "[ALERT]" in line]
            raise EdgeFailure(
                "HAProxy rejected the generated config:\n" + "\n".join(alerts),
                "This is a bug in Hangar's edge; please report it with haproxy.log.",
            )

    def _run_check(self, config: Path) -> subprocess.CompletedProcess[str]:
        args = [self.binary, "-c", "-f", str(config)]
        try:
            return subprocess.run(
                args,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EdgeFailure(f"cannot run {self.binary}: {exc}", _INSTALL_HINT) from exc

    def adopt(self) -> bool:
        """Take over a master left running by an earlier Hangar; True if found."""
        pid = _read_pid(self.paths.pid_file)
        if pid is None or not _alive(pid) or not self._is_ours(pid):
            return False
        self._popen, self._pid = None, pid
        log.info("adopted running haproxy master %d", pid)
        return True

    def start(self) -> None:
        """Spawn the master, return once its worker answers on the stats socket."""
        self.paths.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.paths.log_file.open("ab") as out:
            try:
                self._popen = subprocess.Popen(
                    self._command(),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    start_new_session=True,
                    close_fds=True,
                )
            except OSError as exc:
                raise EdgeFailure(f"cannot start {self.binary}: {exc}", _INSTALL_HINT) from exc
        self._pid = self._popen.pid
        self._wait_for(lambda: self._answering_pid() is not None, "start")
        log.info("haproxy master %d started", self._pid)

    def _command(self) -> list[str]:
        p = self.paths
        master = f"{p.master_socket},mode,600"
        return [self.binary, "-W", "-f", str(p.config), "-p", str(p.pid_file), "-S", master]

    def reload(self) -> None:
        """Hitless reload: new worker takes the listeners, old ones finish their requests."""
        old_pid = self._answering_pid()
        failed = self._failed_reloads()
        self.master.send("reload")  # the master re-executes itself and closes the CLI
        self._wait_for(lambda: self._reload_done(old_pid, failed), "reload")
        log.info("haproxy reloaded (worker %s)", self._answering_pid())

    def _reload_done(self, old_pid: int | None, failed: int) -> bool:
        if self._failed_reloads() > failed:
            raise EdgeFailure("HAProxy failed to reload", f"See {self.paths.log_file}.")
        pid = self._answering_pid()
        return pid is not None and pid != old_pid

    def stop(self, graceful: bool = False) -> None:
        """Stop master and workers (SIGUSR1 lets requests finish; SIGTERM does not)."""
        pid = self.pid
        if pid is None:
            return
        os.kill(pid, signal.SIGUSR1 if graceful else signal.SIGTERM)
        if not self._wait_exit(_GRACEFUL_STOP_S if graceful else _STOP_S):
            os.kill(pid, signal.SIGKILL)
            self._wait_exit(_STOP_S)
        self._popen, self._pid = None, None

    def _wait_exit(self, timeout_s: float) -> bool:
        if self._popen is not None:
            try:
                self._popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                return False
            return True
        deadline = time.monotonic() + timeout_s
        while self._pid is not None and _alive(self._pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(_POLL_S)
        return True

    def worker_pids(self) -> tuple[list[int], list[int]]:
        """(current workers, old workers still finishing requests), from `show proc`."""
        current: list[int] = []
        old: list[int] = []
        target = current
        for line in self.master.send("show proc").splitlines():
            if line.startswith("# old workers"):
                target = old
            elif line.startswith("#"):
                target = current if line.startswith("# workers") else []
            elif line.split()[1:2] == ["worker"]:
                target.append(int(line.split()[0]))
        return current, old

    def worker(self, pid: int) -> RuntimeAPI:
        """The runtime API of one worker (current or old), through the master CLI."""
        return RuntimeAPI(
            self.paths.master_socket, prefix=f"@!{pid} ", reconnect_s=_MASTER_RECONNECT_S
        )

    def _answering_pid(self) -> int | None:
        try:
            return self.stats.pid()
        except EdgeFailure:
            return None

    def _failed_reloads(self) -> int:
        try:
            match = _FAILED_RE.search(self.master.send("show proc"))
        except EdgeFailure:
            return 0
        return int(match.group(1)) if match else 0

    def _wait_for(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        while not done():
            if not self.running:
                raise EdgeFailure(self._exit_reason(what), self._log_hint())
            if time.monotonic() > deadline:
                raise EdgeFailure(f"HAProxy did not finish {what} in time", self._log_hint())
            time.sleep(_POLL_S)

    def _exit_reason(self, what: str) -> str:
        """Why HAProxy stopped, in words: a port held by another program is the usual one."""
        try:
            lately = self.paths.log_file.read_text(errors="replace").splitlines()[-20:]
        except OSError:
            lately = []
        taken = _BIND_FAILED_RE.findall("\n".join(lately))
        if taken:
            return (
                f"HAProxy could not listen on {taken[-1]}: another program holds that port "
                "(choose others with hangar server --http-port / --https-port / "
                "--edge-metrics-port, 0 turning HTTPS or metrics off)"
            )
        return f"HAProxy exited during {what}"

    def _log_hint(self) -> str:
        try:
            lines = self.paths.log_file.read_text(errors="replace").splitlines()[-5:]
        except OSError:
            lines = []
        return "\n".join([f"Last lines of {self.paths.log_file}:", *lines])

    def _is_ours(self, pid: int) -> bool:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return str(self.paths.config).encode() in cmdline and b"-W" in cmdline


_INSTALL_HINT = "Install HAProxy 2.6+ (Debian: apt-get install haproxy) or pass haproxy_bin."


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
