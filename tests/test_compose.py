"""docker-compose.yml: valid against the Compose specification, with the whole stack and its health checks.

No Docker engine runs on our machines, so the file is validated with check-jsonschema's bundled
Compose schema (see ../shared/DESIGN.md) and read for what the stack must contain.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_docker_compose_validates_against_the_compose_specification():
    checker = Path(sys.executable).with_name("check-jsonschema")

    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_stack_has_every_service_with_a_health_check():
    services = compose()["services"]

    assert {"postgres", "redis", "web", "worker", "beat", "sandbox"} <= set(services)
    for name in ("postgres", "redis", "web", "worker", "beat", "sandbox"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "mintportal", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "mintportal", "beat"]


def test_the_portal_containers_share_only_postgresql_and_redis():
    services = compose()["services"]

    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://")
        assert "volumes" not in services[name] or name == "beat"
    assert services["sandbox"]["environment"]["SANDBOX_WEBHOOK_URL"].endswith("/webhooks/mint")


def test_the_image_the_stack_builds_exists():
    assert (ROOT / "Dockerfile").is_file()
    assert "requirements.txt" in (ROOT / "Dockerfile").read_text()
