"""Bad Mint settings stop start-up with an error naming the variable; good ones reach the client."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mintportal.mint import get_client
from tests.sandbox_process import ROOT

BASE_ENV = {"DJANGO_SETTINGS_MODULE": "mintportal.settings", "DJANGO_SECRET_KEY": "settings-test-key",
            "MINT_CLIENT_ID": "portal", "MINT_CLIENT_SECRET": "portal-secret", "REDIS_URL": "",
            "DATABASE_URL": "sqlite:///:memory:"}


def start_django(tmp_path, **overrides: str | None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MINT_", "DJANGO_"))}
    env.update(BASE_ENV, PORTAL_RUN_DIR=str(tmp_path))
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.slow
def test_good_settings_start(tmp_path) -> None:
    result = start_django(tmp_path)

    assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MINT_CLIENT_ID", None),
        ("MINT_CLIENT_SECRET", None),
        ("MINT_BASE_URL", "api.signicat.com/mint"),
        ("MINT_TOKEN_URL", "ftp://example.com/token"),
        ("MINT_READ_TIMEOUT", "soon"),
        ("MINT_MAX_RETRIES", "-1"),
    ],
)
def test_a_bad_mint_setting_stops_start_up_naming_the_variable(tmp_path, variable: str, value: str | None) -> None:
    result = start_django(tmp_path, **{variable: value})

    assert result.returncode != 0
    assert variable in result.stderr
    assert "portal-secret" not in result.stderr


def test_changed_settings_give_a_client_pointing_at_the_new_values(settings) -> None:
    settings.MINT_BASE_URL = "https://api.signicat.com/mint"
    settings.MINT_READ_TIMEOUT = 7.0
    production = get_client()
    settings.MINT_BASE_URL = "http://127.0.0.1:9/mint"

    moved = get_client()

    assert production.config.base_url == "https://api.signicat.com/mint" and production.config.read_timeout == 7.0
    assert moved is not production and moved.config.base_url == "http://127.0.0.1:9/mint"
    assert get_client() is moved
