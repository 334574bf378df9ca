"""Runtime settings from environment variables, with the embedded stack's defaults.

Every address is overridable so that tests, a second stack, or production can run
beside the defaults. README.md lists these variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a port number") from None
    if not 0 < value < 65536:
        raise SystemExit(f"{name}={raw!r} is outside 1..65535")
    return value


@dataclass(frozen=True)
class Settings:
    state_dir: Path = field(default_factory=lambda: Path(_env("PRIVACY_STATE_DIR", ".state")).resolve())
    kafka_host: str = field(default_factory=lambda: _env("PRIVACY_KAFKA_HOST", "127.0.0.1"))
    kafka_port: int = field(default_factory=lambda: _port("PRIVACY_KAFKA_PORT", 9092))
    temporal_host: str = field(default_factory=lambda: _env("PRIVACY_TEMPORAL_HOST", "127.0.0.1"))
    temporal_port: int = field(default_factory=lambda: _port("PRIVACY_TEMPORAL_PORT", 7233))
    temporal_ui_port: int = field(default_factory=lambda: _port("PRIVACY_TEMPORAL_UI_PORT", 8233))
    temporal_namespace: str = field(default_factory=lambda: _env("PRIVACY_TEMPORAL_NAMESPACE", "default"))
    task_queue: str = field(default_factory=lambda: _env("PRIVACY_TASK_QUEUE", "privacy-requests"))
    pg_host: str = field(default_factory=lambda: _env("PRIVACY_PG_HOST", "127.0.0.1"))
    pg_port: int = field(default_factory=lambda: _port("PRIVACY_PG_PORT", 5432))
    pg_user: str = field(default_factory=lambda: _env("PRIVACY_PG_USER", "privacy"))
    pg_password: str = field(default_factory=lambda: os.environ.get("PRIVACY_PG_PASSWORD", ""))
    pg_database: str = field(default_factory=lambda: _env("PRIVACY_PG_DATABASE", "privacy"))
    api_host: str = field(default_factory=lambda: _env("PRIVACY_API_HOST", "127.0.0.1"))
    api_port: int = field(default_factory=lambda: _port("PRIVACY_API_PORT", 8080))
    intake_app_id: str = field(default_factory=lambda: _env("PRIVACY_INTAKE_APP_ID", "privacy-intake"))

    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.kafka_host}:{self.kafka_port}"

    @property
    def temporal_address(self) -> str:
        return f"{self.temporal_host}:{self.temporal_port}"

    @property
    def temporal_ui_url(self) -> str:
        return f"http://{self.temporal_host}:{self.temporal_ui_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def callback_base_url(self) -> str:
        """Where partners reach our callback gateway (the API), as they see it."""
        return _env("PRIVACY_CALLBACK_BASE_URL", self.api_url).rstrip("/")

    @property
    def consent_window(self) -> tuple[int, float]:
        """Consent changes are batched up to this many, or this many seconds, whichever comes first.
        5,000: per batch, a workflow, its activities and Kafka tasks cost the same whatever its
        size (bench (d): 5,000 → a third of 1,000's Temporal CPU); a trickle still waits 0.5 s."""
        raw_max, raw_seconds = (
            _env("PRIVACY_CONSENT_BATCH_MAX", "5000"),
            _env("PRIVACY_CONSENT_WINDOW_SECONDS", "0.5"),
        )
        try:
            return max(int(raw_max), 1), max(float(raw_seconds), 0.01)
        except ValueError:
            raise SystemExit(
                f"PRIVACY_CONSENT_BATCH_MAX={raw_max!r} or "
                f"PRIVACY_CONSENT_WINDOW_SECONDS={raw_seconds!r} is not a number"
            ) from None

    @property
    def workflow_cache(self) -> int:
        """How many workflow runs the worker keeps in memory (Temporal's sticky cache). A request
        waiting weeks for a partner need not stay cached: evicted, it is replayed from its short
        history when the partner answers. 60 runs keep a burst's requests moving (bench (b): a burst
        of 100 UPJUNOO erasures, 800 workflows, ran as fast as with 100 and faster than with 300)."""
        raw = _env("PRIVACY_WORKFLOW_CACHE", "60")
        try:
            return max(int(raw), 1)
        except ValueError:
            raise SystemExit(f"PRIVACY_WORKFLOW_CACHE={raw!r} is not a number of workflow runs") from None

    @property
    def metrics_seconds(self) -> float:
        """How often metrics are exported (and the ledger's gauges read)."""
        raw = _env("PRIVACY_OTEL_METRICS_SECONDS", "10")
        try:
            return max(float(raw), 0.1)
        except ValueError:
            raise SystemExit(f"PRIVACY_OTEL_METRICS_SECONDS={raw!r} is not a number of seconds") from None

    @property
    def callback_max_age(self) -> timedelta:
        """How old a partner's signed callback may be before it counts as a replay."""
        raw = _env("PRIVACY_CALLBACK_MAX_AGE_SECONDS", "600")
        try:
            return timedelta(seconds=float(raw))
        except ValueError:
            raise SystemExit(f"PRIVACY_CALLBACK_MAX_AGE_SECONDS={raw!r} is not a number of seconds") from None

    @property
    def drp_verification_base_url(self) -> str:
        """Where a person reaches our DRP verification page (the ``user_verification_url``'s base,
        as the person's browser sees the API: HTTPS in production, as the spec asks)."""
        return _env("PRIVACY_DRP_VERIFICATION_BASE_URL", self.callback_base_url).rstrip("/")

    @property
    def drp_notify_seconds(self) -> float:
        """How often DRP agents' status callbacks are looked for (orchestrator/api/drp_notify.py)."""
        raw = _env("PRIVACY_DRP_NOTIFY_SECONDS", "2")
        try:
            return max(float(raw), 0.1)
        except ValueError:
            raise SystemExit(f"PRIVACY_DRP_NOTIFY_SECONDS={raw!r} is not a number of seconds") from None

    @property
    def intake_retry_seconds(self) -> float:
        """How long the intake retries an event while PostgreSQL or Temporal is down, before it
        alerts and sends the event to the DLQ as dependency_unavailable."""
        raw = _env("PRIVACY_INTAKE_RETRY_SECONDS", "600")
        try:
            return max(float(raw), 0.0)
        except ValueError:
            raise SystemExit(f"PRIVACY_INTAKE_RETRY_SECONDS={raw!r} is not a number of seconds") from None

    @property
    def sandbox_dir(self) -> Path:
        return Path(_env("PRIVACY_SANDBOX_DIR", str(self.state_dir / "sandbox"))).resolve()

    @property
    def secrets_dir(self) -> Path:
        """Where ``file:NAME`` secret references of HTTP systems are read (files mode 0600)."""
        return Path(_env("PRIVACY_SECRETS_DIR", str(self.state_dir / "secrets"))).resolve()

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    def pg_dsn(self, database: str | None = None) -> str:
        password = f":{self.pg_password}" if self.pg_password else ""
        return (
            f"postgresql://{self.pg_user}{password}@{self.pg_host}:{self.pg_port}/"
            f"{database or self.pg_database}"
        )
