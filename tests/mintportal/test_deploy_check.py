"""Deployment settings, each read in a process of its own with a chosen environment (as a server would start).

- With only the required variables set, Django's deployment checklist passes with no warning: HTTPS redirect,
  HSTS, Secure ``__Host-`` cookies are on by default.
- The embedded default (``make run``) keeps working over plain http with its demo.env, including one written
  before these variables existed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Each case starts Django in a process of its own.
pytestmark = pytest.mark.slow

PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client
client = Client()
login = client.get("/login/", HTTP_HOST="127.0.0.1")
health = client.get("/healthz", HTTP_HOST="127.0.0.1")
print(json.dumps({
    "session_cookie": settings.SESSION_COOKIE_NAME, "csrf_cookie": settings.CSRF_COOKIE_NAME,
    "secure": settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT, "hsts": settings.SECURE_HSTS_SECONDS,
    "proxy_header": settings.SECURE_PROXY_SSL_HEADER,
    "idle": settings.SESSION_IDLE_TIMEOUT, "lifetime": settings.SESSION_COOKIE_AGE,
    "login": [login.status_code, login.get("Location", "")], "health": health.status_code,
}))
"""


def required_only(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A production-like environment: the required variables and nothing else (plus a scratch run folder)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "mintportal.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "MINT_CLIENT_ID": "portal",
        "MINT_CLIENT_SECRET": secrets.token_urlsafe(32),
        "PORTAL_RUN_DIR": str(tmp_path),
        **extra,
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], check=False, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def probe(env: dict[str, str]) -> dict:
    result = run(["-c", PROBE], env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def demo_env() -> dict[str, str]:
    output = run([str(ROOT / "scripts" / "make-demo-env")], {"PATH": os.environ.get("PATH", "")}).stdout
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def test_the_deployment_checklist_passes_with_only_the_required_variables(tmp_path: Path) -> None:
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], required_only(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def compose_portal_environment(given: dict[str, str]) -> dict[str, str]:
    """The portal's environment in docker-compose.yml, interpolated as Compose would with ``given`` set."""
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-portal-environment"]

    def interpolate(match: re.Match[str]) -> str:
        name, operator, fallback = match.group(1), match.group(2) or "", match.group(3) or ""
        value = given.get(name, "")
        if operator == ":?" and not value:
            raise AssertionError(f"compose requires {name}")
        return value or (fallback if operator == ":-" else "")

    return {key: re.sub(r"\$\{(\w+)(:-|:\?)?([^}]*)\}", interpolate, str(value)) for key, value in raw.items()}


def test_the_compose_stack_is_https_only_unless_told_otherwise(tmp_path: Path) -> None:
    given = {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "MINT_CLIENT_SECRET": "s", "MINT_WEBHOOK_SECRET": "w"}
    environment = compose_portal_environment(given)
    # Only the security settings matter here: no database or Redis server is reached.
    environment = {k: v for k, v in environment.items() if k not in {"DATABASE_URL", "REDIS_URL", "PORTAL_RUN_DIR"}}
    settings = probe({**required_only(tmp_path), **environment})

    assert settings["secure"] and settings["ssl_redirect"] and settings["hsts"] == 31536000
    assert settings["session_cookie"] == "__Host-sessionid"


def test_production_defaults_are_https_only_with_host_only_cookies(tmp_path: Path) -> None:
    settings = probe(required_only(tmp_path))

    assert (settings["session_cookie"], settings["csrf_cookie"]) == ("__Host-sessionid", "__Host-csrftoken")
    assert settings["secure"] and settings["ssl_redirect"] and settings["hsts"] == 31536000
    assert settings["login"] == [301, "https://127.0.0.1/login/"]
    # The container health check and webhook deliveries come over the internal network in plain http.
    assert settings["health"] == 200
    assert (settings["idle"], settings["lifetime"]) == (1800, 43200)


def test_behind_a_proxy_the_https_header_is_trusted_only_when_named(tmp_path: Path) -> None:
    settings = probe(required_only(tmp_path, DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto"))

    assert settings["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert probe(required_only(tmp_path))["proxy_header"] is None


def test_the_embedded_default_serves_plain_http_with_its_demo_env(tmp_path: Path) -> None:
    demo = demo_env()
    settings = probe(required_only(tmp_path, **{k: v for k, v in demo.items() if k != "PORTAL_RUN_DIR"}))

    assert settings["login"] == [200, ""]
    assert (settings["session_cookie"], settings["secure"], settings["hsts"]) == ("sessionid", False, 0)


def test_a_demo_env_written_before_the_https_variables_still_serves_plain_http(tmp_path: Path) -> None:
    # An existing var/demo.env is never rewritten: it says only that cookies are not secure.
    demo = {k: v for k, v in demo_env().items() if not k.startswith(("DJANGO_SECURE_SSL", "DJANGO_SECURE_HSTS"))}
    settings = probe(required_only(tmp_path, **demo))

    assert settings["login"] == [200, ""]
    assert (settings["ssl_redirect"], settings["hsts"], settings["csrf_cookie"]) == (False, 0, "csrftoken")


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("PORTAL_SESSION_IDLE_TIMEOUT", "half an hour", "PORTAL_SESSION_IDLE_TIMEOUT must be a whole number"),
    ("PORTAL_SESSION_IDLE_TIMEOUT", "90000", "must not be longer than PORTAL_SESSION_MAX_AGE"),
    ("DJANGO_SECURE_HSTS_SECONDS", "-1", "DJANGO_SECURE_HSTS_SECONDS must be between"),
    ("DJANGO_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https", "must be an HTTP header name"),
    ("PORTAL_CLIENT_ADDRESS_HEADER", "X Forwarded For", "must be an HTTP header name"),
])
def test_a_bad_security_variable_stops_start_up_naming_it(tmp_path: Path, variable: str, value: str,
                                                         message: str) -> None:
    result = run(["manage.py", "check"], required_only(tmp_path, **{variable: value}))

    assert result.returncode != 0 and message in result.stderr
