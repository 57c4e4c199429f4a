"""The single sign-on variables are parsed strictly: a bad value stops start-up naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.sandbox_process import ROOT

# Each case starts Django in a process of its own.
pytestmark = pytest.mark.slow

REQUIRED = {"MINT_CLIENT_ID": "c", "MINT_CLIENT_SECRET": "s", "DJANGO_SECRET_KEY": "k" * 50}


def check(tmp_path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **REQUIRED, "PORTAL_RUN_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "mintportal.settings",
           **variables}
    code = "import django; django.setup(); from django.conf import settings; print(repr(settings.OIDC_ISSUER))"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize(("variables", "message"), [
    ({"OIDC_ISSUER": "http://id.example.com", "OIDC_CLIENT_ID": "p", "OIDC_CLIENT_SECRET": "s"},
     "OIDC_ISSUER must start with https://"),
    ({"OIDC_ISSUER": "ftp://id.example.com"}, "OIDC_ISSUER must be a URL starting with"),
    ({"OIDC_ISSUER": "https://id.example.com", "OIDC_CLIENT_SECRET": "s"}, "OIDC_CLIENT_ID must be set"),
    ({"OIDC_ISSUER": "https://id.example.com", "OIDC_CLIENT_ID": "p"}, "OIDC_CLIENT_SECRET must be set"),
    ({"OIDC_SCOPES": "profile email"}, "OIDC_SCOPES must include openid"),
    ({"OIDC_TIMEOUT": "0"}, "OIDC_TIMEOUT must be between"),
])
def test_a_bad_sso_setting_stops_start_up_naming_the_variable(tmp_path, variables: dict[str, str],
                                                              message: str) -> None:
    result = check(tmp_path, **variables)
    assert result.returncode != 0
    assert message in result.stderr


def test_sso_is_off_without_an_issuer_and_on_with_one(tmp_path) -> None:
    assert check(tmp_path, OIDC_ISSUER="").stdout.strip() == "''"
    on = check(tmp_path, OIDC_ISSUER="https://id.example.com/", OIDC_CLIENT_ID="p", OIDC_CLIENT_SECRET="s")
    assert on.stdout.strip() == "'https://id.example.com'"
    loopback = check(tmp_path, OIDC_ISSUER="http://127.0.0.1:8001/oidc", OIDC_CLIENT_ID="p", OIDC_CLIENT_SECRET="s")
    assert loopback.returncode == 0, loopback.stderr
