"""Our own services as background processes: intake, worker, API, and the sandbox's async tools."""

from __future__ import annotations

import sys
from pathlib import Path

from infra.processes import ProcessSpec, ProcessSupervisor
from workers.runtime.settings import Settings

SERVICES = ("sandbox", "worker", "intake", "api")


def _ready_file(settings: Settings, name: str) -> Path:
    return settings.state_dir / "run" / f"{name}.ready"


def service_spec(settings: Settings, name: str) -> ProcessSpec:
    return ProcessSpec(
        name=name,
        argv=[sys.executable, "-m", "orchestrator.cli.main", "serve", name],
        port=settings.api_port if name == "api" else None,
        env={"PRIVACY_STATE_DIR": str(settings.state_dir), "PYTHONUNBUFFERED": "1"},
        ready=lambda: _ready_file(settings, name).exists(),
        port_hint="PRIVACY_API_PORT" if name == "api" else "",
        keep_up=True,
    )


def start_service(settings: Settings, name: str, timeout: float = 90) -> bool:
    supervisor = ProcessSupervisor(settings.state_dir)
    if supervisor.pid(name) is None:
        _ready_file(settings, name).unlink(missing_ok=True)
    return supervisor.start(service_spec(settings, name), timeout=timeout)


def start_services(settings: Settings, names: tuple[str, ...] = SERVICES, timeout: float = 90) -> list[str]:
    """Start the named services together and wait until each says it is ready."""
    supervisor = ProcessSupervisor(settings.state_dir)
    for name in names:
        if supervisor.pid(name) is None:
            _ready_file(settings, name).unlink(missing_ok=True)
    return supervisor.start_all([service_spec(settings, name) for name in names], timeout=timeout)


def stop_services(settings: Settings, names: tuple[str, ...] = SERVICES) -> list[str]:
    supervisor = ProcessSupervisor(settings.state_dir)
    stopped = [name for name in reversed(names) if supervisor.stop(name)]
    for name in names:
        _ready_file(settings, name).unlink(missing_ok=True)
    return stopped
