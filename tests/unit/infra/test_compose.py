"""docker-compose.yml follows the Compose specification and has every service our code expects,
configured with the same variables as the embedded stack."""

import re
from pathlib import Path

import pytest
from compose_spec import PyCompose

from orchestrator.workflows.search import REGISTRATION

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def compose() -> dict:
    parsed = PyCompose.from_yaml((ROOT / "docker-compose.yml").read_text())
    parsed.validate()  # every network, volume, config and secret referenced is defined
    return parsed.to_dict()


def test_the_production_topology_has_every_part(compose):
    services = compose["services"]
    for name in (
        "kafka",
        "postgres",
        "temporal",
        "temporal-ui",
        "otel-collector",
        "jaeger",
        "worker",
        "intake",
        "api",
    ):
        assert name in services, name
    assert "KAFKA_PROCESS_ROLES" in services["kafka"]["environment"], "Apache Kafka in KRaft mode"
    assert services["temporal"]["environment"]["DB"].startswith("postgres"), "Temporal server on PostgreSQL"


def test_our_services_run_the_cli_serve_commands_from_the_project_image(compose):
    from orchestrator.cli.main import build_parser

    serve = next(
        a
        for a in build_parser()._subparsers._group_actions[0].choices["serve"]._actions
        if a.dest == "service"
    )
    for name in ("worker", "intake", "api"):
        service = compose["services"][name]
        assert service["build"] == "." or service["build"].get("context") == "."
        assert service["command"] == [name] and name in serve.choices


def test_services_are_configured_with_the_settings_variables_our_code_reads(compose):
    runtime = ROOT / "workers" / "runtime"
    readers = ("settings.py", "telemetry.py", "secrets.py")  # every PRIVACY_* variable our services read
    known = {v for f in readers for v in re.findall(r'"(PRIVACY_[A-Z_]+)"', (runtime / f).read_text())}
    known |= {"PRIVACY_CODEC_KEYS", "PRIVACY_API_TOKENS"}
    for name in ("worker", "intake", "api"):
        variables = {v for v in compose["services"][name]["environment"] if v.startswith("PRIVACY_")}
        assert variables <= known, f"{name}: unknown variables {variables - known}"
        assert {
            "PRIVACY_KAFKA_HOST",
            "PRIVACY_TEMPORAL_HOST",
            "PRIVACY_PG_HOST",
            "PRIVACY_CODEC_KEYS",
            "PRIVACY_SUBJECT_REF_KEY",
            "PRIVACY_AUDIT_KEY",
        } <= variables


def test_health_checks_and_search_attributes_match_the_dev_stack(compose):
    for name in ("kafka", "postgres", "temporal", "api"):
        assert compose["services"][name].get("healthcheck"), f"{name} has no health check"
    setup = " ".join(compose["services"]["temporal-setup"]["command"])
    for attribute, kind in REGISTRATION.items():
        assert f"{attribute}:{kind}" in setup


def test_temporal_is_set_up_the_production_way(compose):
    services = compose["services"]
    assert services["temporal"]["image"].startswith("temporalio/server:"), "not the auto-setup image"
    assert not any("auto-setup" in str(service.get("image", "")) for service in services.values())
    # Its schema is created by temporal-sql-tool in a one-shot service the server waits for.
    schema = services["temporal-schema"]
    script = " ".join(schema["command"])
    for step in ("temporal-sql-tool", "setup-schema", "update-schema", "temporal_visibility"):
        assert step in script, step
    assert (
        services["temporal"]["depends_on"]["temporal-schema"]["condition"] == "service_completed_successfully"
    )
    assert "restart" not in schema, "a one-shot setup must not be restarted"
    setup = " ".join(services["temporal-setup"]["command"])
    assert "namespace create" in setup


def test_long_running_services_restart_on_failure_and_have_health_checks(compose):
    services = compose["services"]
    one_shot = {"temporal-schema", "temporal-setup"}
    for name in ("kafka", "postgres", "temporal-db", "temporal", "worker", "intake", "api"):
        assert services[name].get("restart") in ("on-failure", "unless-stopped", "always"), name
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in one_shot:
        assert services[name].get("restart", "no") == "no", name
    # PostgreSQL is healthy when it answers a query, not merely when its port is open.
    assert "SELECT 1" in str(services["postgres"]["healthcheck"]["test"])
