"""``manage.py mint_check`` says in plain words what works and what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.sandbox_process import ROOT


def run_check() -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("mint_check", stdout=out, no_color=True)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_a_client_with_both_roles_passes_and_writes_nothing(sandbox, mint_settings) -> None:
    output, error = run_check()

    assert error is None
    assert "token OK" in output and "Flow Viewer OK" in output and "Flow Editor OK" in output
    assert sandbox.count("token") <= 1 and sandbox.count("listWorkflows") == 1
    assert sandbox.count("createWorkflow") == 1


def test_a_viewer_only_client_is_told_flow_editor_is_missing(sandbox, own_credentials) -> None:
    own_credentials(["Flow Viewer"])

    output, error = run_check()

    assert "token OK" in output and "Flow Viewer OK" in output and "Flow Editor missing" in output
    assert error is not None and "Flow Editor missing" in str(error)


def test_wrong_credentials_are_reported_as_a_token_failure(mint_settings) -> None:
    mint_settings.MINT_CLIENT_SECRET = "wrong-secret"

    output, error = run_check()

    assert "token FAILED" in output and "Flow Viewer not checked" in output
    assert error is not None
    assert "wrong-secret" not in output and "wrong-secret" not in str(error)


def test_the_command_exits_non_zero_when_a_role_is_missing(sandbox, tmp_path) -> None:
    sandbox.add_client("tests-viewer-cli", "viewer-cli-secret", ["Flow Viewer"])
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PORTAL_RUN_DIR": str(tmp_path),
           "MINT_BASE_URL": sandbox.base_url, "MINT_TOKEN_URL": sandbox.token_url,
           "MINT_CLIENT_ID": "tests-viewer-cli", "MINT_CLIENT_SECRET": "viewer-cli-secret"}

    result = subprocess.run([sys.executable, "manage.py", "mint_check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)

    assert result.returncode != 0
    assert "Flow Viewer OK" in result.stdout and "Flow Editor missing" in result.stdout
    assert "viewer-cli-secret" not in result.stdout + result.stderr


@pytest.mark.parametrize("roles", [[]])
def test_a_client_without_roles_is_told_both_are_missing(sandbox, own_credentials, roles) -> None:
    own_credentials(roles)

    output, error = run_check()

    assert "Flow Viewer missing" in output and "Flow Editor missing" in output
    assert error is not None
