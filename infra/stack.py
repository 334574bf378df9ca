"""The embedded real stack: PostgreSQL, the Tansu Kafka-protocol broker, the Temporal dev server.

``up`` is idempotent (running parts are left alone), ``down`` stops only what ``up`` recorded,
``status`` says what runs where. ``up`` returns once each server is really ready
(``infra.readiness``: a query answered, the namespace described, metadata answered).
Each server runs under ``infra.keeper``, like our services: a crashed server is restarted with
backoff, and counts as up again only once ``infra.recovery`` found it ready (and gave the
broker back its topics); ``privacyctl status`` reports its restarts and last exit. A killed
postmaster leaves its ``postmaster.pid``, which PostgreSQL itself finds stale and replaces, and
backends that may hold its shared memory a moment longer: the restart then fails ("pre-existing
shared memory block is still in use") and the keeper's backoff tries again once they are gone.
Ports come from ``workers.runtime.settings`` (environment variables).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from infra.binaries import postgres_bindir, tansu_broker, temporal_cli
from infra.processes import ProcessSpec, ProcessSupervisor, StackError, port_open
from infra.readiness import broker_ready, postgres_ready, temporal_ready
from workers.runtime.settings import Settings

INFRA_PARTS = ("postgres", "broker", "temporal")


@dataclass
class Stack:
    settings: Settings
    search_attributes: dict[str, str]

    @property
    def supervisor(self) -> ProcessSupervisor:
        return ProcessSupervisor(self.settings.state_dir)

    def up(self) -> list[str]:
        """Start whatever is not running; returns the names started now."""
        return self.supervisor.start_all([self._postgres(), self._broker(), self._temporal()], timeout=90)

    def down(self, names: tuple[str, ...] = INFRA_PARTS) -> list[str]:
        stopped = []
        for name in reversed(names):
            sig = signal.SIGINT if name == "postgres" else signal.SIGTERM  # fast shutdown
            if self.supervisor.stop(name, sig):
                stopped.append(name)
        return stopped

    def status(self) -> dict[str, int | None]:
        return {name: self.supervisor.pid(name) for name in INFRA_PARTS}

    # -- PostgreSQL ---------------------------------------------------------------------
    def _postgres(self) -> ProcessSpec:
        s = self.settings
        bindir = postgres_bindir()
        data = s.state_dir / "pg" / "data"
        user = _postgres_os_user()
        if not (data / "PG_VERSION").exists():
            _initdb(bindir, data, s.pg_user, user)
        return ProcessSpec(
            name="postgres",
            argv=[
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(s.pg_port),
                "-c",
                f"listen_addresses={s.pg_host}",
                "-c",
                f"unix_socket_directories={data.parent}",
                "-c",
                "max_connections=300",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                # A dev stack's tables are small; the OS page cache keeps the rest. The default
                # (128 MB) fills with every row touched and counts as each request's memory
                # (bench (e)).
                "-c",
                "shared_buffers=16MB",
                *_statement_statistics(bindir),
            ],
            port=s.pg_port,
            ready=lambda: postgres_ready(s.pg_host, s.pg_port, s.pg_user),
            user=user,
            stop_signal=signal.SIGINT,
            port_hint="PRIVACY_PG_PORT",
            keep_up=True,
            after_restart=[sys.executable, "-m", "infra.recovery", "postgres"],
            env=self._addresses(),
        )

    # -- Kafka-protocol broker --------------------------------------------------------------
    def _broker(self) -> ProcessSpec:
        s = self.settings
        url = f"tcp://{s.kafka_host}:{s.kafka_port}"
        return ProcessSpec(
            name="broker",
            argv=[
                tansu_broker(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            port=s.kafka_port,
            ready=lambda: broker_ready(s.kafka_bootstrap),
            port_hint="PRIVACY_KAFKA_PORT",
            keep_up=True,
            after_restart=[sys.executable, "-m", "infra.recovery", "broker"],
            env=self._addresses(),
        )

    # -- Temporal dev server ----------------------------------------------------------------
    def _temporal(self) -> ProcessSpec:
        s = self.settings
        s.state_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            temporal_cli(),
            "server",
            "start-dev",
            "--ip",
            s.temporal_host,
            "--port",
            str(s.temporal_port),
            "--ui-ip",
            s.temporal_host,
            "--ui-port",
            str(s.temporal_ui_port),
            "--db-filename",
            str(s.state_dir / "temporal.db"),
            # WAL without fsync: 2.6x the default's throughput (measured 4.0 vs 1.6 fan-outs/s),
            # still persisted to the file; only an OS crash can lose a dev stack's last writes.
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=off",
            "--namespace",
            s.temporal_namespace,
            "--log-level",
            "warn",
            "--ui-disable-news-fetch",
            # A workflow's activity handed straight back with its workflow task's answer when the
            # worker hosting the workflow has a free slot (one worker runs both: serve.py).
            "--dynamic-config-value",
            "system.enableActivityEagerExecution=true",
            # One partition per task queue: a backlog is served in arrival (and priority) order,
            # where four partitions picked at random shuffled a burst (one worker needs no more).
            "--dynamic-config-value",
            "matching.numTaskqueueReadPartitions=1",
            "--dynamic-config-value",
            "matching.numTaskqueueWritePartitions=1",
            # The server reads its transfer queue (a child's completion for its parent, a workflow
            # task for the matching service) at most 20 times a second by default: after a second
            # of steady traffic every hop waited for the limiter, and a partner's signed callback
            # took 0.13 s to close its request instead of 0.07 s (bench (e)).
            "--dynamic-config-value",
            "history.transferProcessorMaxPollRPS=200",
            *_bounded_workflow_cache(),
        ]
        for name, kind in self.search_attributes.items():
            argv += ["--search-attribute", f"{name}={kind}"]
        return ProcessSpec(
            name="temporal",
            argv=argv,
            # Go collects garbage when the heap has grown by GOGC % since the last collection
            # (default 100: up to twice what is live). 25 keeps the server's footprint near what it
            # holds, for a little more collector CPU (bench (e) at 10,000 open: 9.6 -> 7.9 kB per
            # request against 50; bench (b) unchanged within its noise).
            env={**self._addresses(), "GOGC": os.environ.get("PRIVACY_TEMPORAL_GOGC") or "25"},
            port=s.temporal_port,
            ready=lambda: (
                port_open(s.temporal_host, s.temporal_ui_port)
                and temporal_ready(s.temporal_address, s.temporal_namespace)
            ),
            port_hint="PRIVACY_TEMPORAL_PORT",
            keep_up=True,
            after_restart=[sys.executable, "-m", "infra.recovery", "temporal"],
        )

    def _addresses(self) -> dict[str, str]:
        """The stack's addresses, for the keeper's recovery (infra.recovery) after a restart."""
        s = self.settings
        return {
            "PRIVACY_STATE_DIR": str(s.state_dir),
            "PRIVACY_PG_HOST": s.pg_host, "PRIVACY_PG_PORT": str(s.pg_port), "PRIVACY_PG_USER": s.pg_user,
            "PRIVACY_KAFKA_HOST": s.kafka_host, "PRIVACY_KAFKA_PORT": str(s.kafka_port),
            "PRIVACY_TEMPORAL_HOST": s.temporal_host, "PRIVACY_TEMPORAL_PORT": str(s.temporal_port),
            "PRIVACY_TEMPORAL_NAMESPACE": s.temporal_namespace,
        }  # fmt: skip


def _statement_statistics(bindir: Path) -> list[str]:
    """pg_stat_statements where the server has it: the time each statement costs, for profiling
    (``make bench``); a server without it starts without it."""
    if not (bindir.parent / "lib" / "pg_stat_statements.so").exists():
        return []
    return ["-c", "shared_preload_libraries=pg_stat_statements"]


def _postgres_os_user() -> str | None:
    """PostgreSQL will not run as root; use the Debian ``postgres`` account then."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise StackError("running as root needs an OS user `postgres` for the database server") from None
    return "postgres"


def _initdb(bindir: Path, data: Path, db_user: str, os_user: str | None) -> None:
    data.mkdir(parents=True, exist_ok=True)
    if os_user:
        # Every folder up to the data dir must be reachable by the server's OS user.
        shutil.chown(data.parent, os_user, os_user)
        shutil.chown(data, os_user, os_user)
        _allow_traversal(data.parent)
    result = subprocess.run(
        [str(bindir / "initdb"), "-D", str(data), "-U", db_user, "--auth=trust", "-E", "UTF8", "--no-sync"],
        capture_output=True,
        text=True,
        user=os_user,
        group=os_user,
        extra_groups=[] if os_user else None,
    )
    if result.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        raise StackError(f"initdb failed:\n{result.stdout}\n{result.stderr}")


def _allow_traversal(path: Path) -> None:
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _bounded_workflow_cache() -> list[str]:
    """The dev server keeps every workflow it touched in its mutable-state cache (host level,
    ~256,000 entries by default), so each request waiting weeks for a partner stays in its memory.
    Bounded here (``PRIVACY_TEMPORAL_CACHE`` entries): a workflow evicted is read back from the
    database when it next moves — one SQLite read, not a replay. With 200 a burst of 100 UPJUNOO
    erasures (800 workflows) ran faster than with 1,000 (bench (b)), on less memory (bench (e))."""
    entries = os.environ.get("PRIVACY_TEMPORAL_CACHE") or "200"
    if not entries.isdigit() or int(entries) < 1:
        raise SystemExit(f"PRIVACY_TEMPORAL_CACHE={entries!r} is not a number of workflows")
    return [
        "--dynamic-config-value",
        f"history.hostLevelCacheMaxSize={entries}",
        "--dynamic-config-value",
        f"history.cacheMaxSize={entries}",
    ]
