"""Background processes the stack starts: pid files, logs, health waits, and stopping only ours.

Each process runs in its own session (process group) with its pid in ``<state>/pids`` and its
output in ``<state>/logs``; ``stop`` signals only process groups recorded there. A spec with
``keep_up`` runs under ``infra.keeper`` (in the same group), which restarts it when it crashes
(then runs its ``after_restart`` command) and writes its restarts and last exit to
``<state>/run/<name>.keeper.json``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from infra.keeper import KeeperStatus, keeper_argv, read_status


class StackError(RuntimeError):
    """Something the user must fix: a port taken, a binary missing, a service that won't start."""


@dataclass
class ProcessSpec:
    name: str
    argv: list[str]
    port: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None  # PostgreSQL refuses to run as root
    stop_signal: int = signal.SIGTERM
    ready: Callable[[], bool] | None = None  # beyond the port accepting connections
    port_hint: str = ""  # the environment variable that moves this port
    keep_up: bool = False  # restarted with backoff when it crashes (infra.keeper)
    after_restart: list[str] | None = None  # run by the keeper after each restart (infra.recovery)


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ProcessSupervisor:
    def __init__(self, state_dir: Path, host: str = "127.0.0.1") -> None:
        self.state_dir = state_dir
        self.host = host
        self.pid_dir = state_dir / "pids"
        self.log_dir = state_dir / "logs"

    def pid_file(self, name: str) -> Path:
        return self.pid_dir / f"{name}.pid"

    def keeper_file(self, name: str) -> Path:
        return self.state_dir / "run" / f"{name}.keeper.json"

    def keeper_status(self, name: str) -> KeeperStatus | None:
        """Restarts and last exit of a kept-up process, or None if it has no keeper."""
        return read_status(self.keeper_file(name))

    def pid(self, name: str) -> int | None:
        """The recorded pid of ``name`` if that process is still alive."""
        try:
            pid = int(self.pid_file(name).read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        # A zombie child of ours counts as dead.
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return None
        return pid

    def start(self, spec: ProcessSpec, timeout: float = 60.0) -> bool:
        """Start ``spec`` unless it already runs; wait until healthy. True when started now."""
        return bool(self.start_all([spec], timeout))

    def start_all(self, specs: list[ProcessSpec], timeout: float = 60.0) -> list[str]:
        """Launch every spec not yet running at once, then wait for each; the names started."""
        launched = [(spec, process) for spec in specs if (process := self._launch(spec)) is not None]
        for spec, process in launched:
            self._wait_healthy(spec, process, timeout)
        return [spec.name for spec, _ in launched]

    def _launch(self, spec: ProcessSpec) -> subprocess.Popen[bytes] | None:
        if self.pid(spec.name) is not None:
            return None
        if spec.port is not None and port_open(self.host, spec.port):
            hint = f"; set {spec.port_hint} to another port" if spec.port_hint else ""
            raise StackError(
                f"{spec.name}: port {self.host}:{spec.port} is already in use by another process{hint}"
            )
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{spec.name}.log"
        argv, user = spec.argv, spec.user
        if spec.keep_up:
            self.keeper_file(spec.name).parent.mkdir(parents=True, exist_ok=True)
            self.keeper_file(spec.name).unlink(missing_ok=True)
            # The keeper keeps our user (it writes its status); it runs the process as spec.user.
            argv = keeper_argv(self.keeper_file(spec.name), argv, spec.user, spec.after_restart)
            user = None
        with open(log_path, "ab") as log:
            try:
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, **spec.env},
                    start_new_session=True,
                    user=user,
                    group=user,
                    extra_groups=[] if user else None,
                )
            except FileNotFoundError as exc:
                raise StackError(f"{spec.name}: cannot run {spec.argv[0]}: {exc}") from exc
        self.pid_file(spec.name).write_text(str(process.pid))
        return process

    def _wait_healthy(self, spec: ProcessSpec, process: subprocess.Popen[bytes], timeout: float) -> None:
        log_path = self.log_dir / f"{spec.name}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.pid_file(spec.name).unlink(missing_ok=True)
                kept = self.keeper_status(spec.name) if spec.keep_up else None
                what = (
                    f"will not stay up ({kept.restarts} restarts, last exit {kept.last_exit})"
                    if kept and kept.state == "gave_up"
                    else f"exited with code {process.returncode} while starting"
                )
                raise StackError(f"{spec.name} {what}; see {log_path}:\n{_tail(log_path)}")
            if self._healthy(spec):
                return
            time.sleep(0.2)
        self.stop(spec.name, spec.stop_signal)
        raise StackError(f"{spec.name} did not become healthy within {timeout:.0f}s; see {log_path}")

    def _healthy(self, spec: ProcessSpec) -> bool:
        if spec.port is not None and not port_open(self.host, spec.port):
            return False
        return spec.ready() if spec.ready else True

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15.0) -> bool:
        """Stop the process group recorded for ``name``; True if something was running."""
        pid = self.pid(name)
        if pid is None:
            self.pid_file(name).unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid(name) is not None:
            time.sleep(0.1)
        if self.pid(name) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            time.sleep(0.2)
        self.pid_file(name).unlink(missing_ok=True)
        return True

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash would; for fault tests."""
        pid = self.pid(name)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.pid(name) is not None:
                time.sleep(0.05)
        self.pid_file(name).unlink(missing_ok=True)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
