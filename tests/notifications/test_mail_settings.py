"""The mail settings, read in a process of their own from a chosen environment (as a server would start): SMTP from
the EMAIL_* variables, files under the run directory without them, and a clear refusal of a contradiction."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

PROBE = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps({"mailers": settings.MAILERS, "from": settings.DEFAULT_FROM_EMAIL,
                  "base": settings.PORTAL_BASE_URL}))
"""


def probe(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "mintportal.settings",
        "DJANGO_SECRET_KEY": "x" * 50, "MINT_CLIENT_ID": "portal", "MINT_CLIENT_SECRET": "secret",
        "PORTAL_RUN_DIR": str(tmp_path), **extra,
    }
    return subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", PROBE], check=False, cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def test_without_a_mail_server_mails_are_files_under_the_run_directory(tmp_path: Path) -> None:
    result = probe(tmp_path)
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout)
    assert read["mailers"]["default"] == {"BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                                          "OPTIONS": {"file_path": str(tmp_path / "mail")}}
    assert read["base"] == "http://127.0.0.1:8000"


def test_an_smtp_server_is_configured_from_the_environment(tmp_path: Path) -> None:
    result = probe(tmp_path, EMAIL_HOST="smtp.example.test", EMAIL_HOST_USER="portal", EMAIL_HOST_PASSWORD="pw",
                   EMAIL_FROM="Portal <portal@example.test>", PORTAL_BASE_URL="https://portal.example.test/")
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout)
    assert read["mailers"]["default"]["OPTIONS"] == {
        "host": "smtp.example.test", "port": 587, "username": "portal", "password": "pw", "use_tls": True,
        "use_ssl": False, "timeout": 10,
    }
    assert read["from"] == "Portal <portal@example.test>"
    assert read["base"] == "https://portal.example.test"
    implicit = json.loads(probe(tmp_path, EMAIL_HOST="smtp.example.test", EMAIL_USE_SSL="true").stdout)
    assert implicit["mailers"]["default"]["OPTIONS"]["port"] == 465
    assert implicit["mailers"]["default"]["OPTIONS"]["use_tls"] is False


@pytest.mark.parametrize(("extra", "message"), [
    ({"EMAIL_HOST": "smtp.example.test", "EMAIL_USE_SSL": "true", "EMAIL_USE_TLS": "true"},
     "EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true"),
    ({"EMAIL_HOST": "smtp.example.test", "EMAIL_PORT": "0"}, "EMAIL_PORT must be between 1 and 65535"),
    ({"EMAIL_FROM": "nobody"}, "EMAIL_FROM must be an e-mail address"),
    ({"NOTIFICATIONS_DEFAULT_MODE": "hourly"}, "NOTIFICATIONS_DEFAULT_MODE must be one of"),
    ({"NOTIFICATIONS_DIGEST_HOUR": "24"}, "NOTIFICATIONS_DIGEST_HOUR must be between 0 and 23"),
])
def test_a_bad_mail_setting_stops_start_up_naming_the_variable(tmp_path: Path, extra: dict, message: str) -> None:
    result = probe(tmp_path, **extra)
    assert result.returncode != 0
    assert message in result.stderr
