"""The single sign-on demo: the variables make-demo-env adds to an older demo.env, and the demo mappings."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.models import AuditEvent
from sso.models import ClaimMapping
from tests.sandbox_process import ROOT

SCRIPT = ROOT / "scripts" / "make-demo-env"


def run(*args: str) -> dict[str, str]:
    output = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in output.splitlines())


def test_a_fresh_demo_env_has_one_sso_client_for_portal_and_sandbox() -> None:
    values = run()
    assert values["OIDC_ISSUER"] == "http://127.0.0.1:8001/oidc"
    assert values["OIDC_CLIENT_ID"] == values["SANDBOX_OIDC_CLIENT_ID"]
    assert values["OIDC_CLIENT_SECRET"] == values["SANDBOX_OIDC_CLIENT_SECRET"]
    assert "http://127.0.0.1:8000/sso/callback/" in values["SANDBOX_OIDC_REDIRECT_URIS"].split(",")


def test_an_older_demo_env_gets_only_what_it_lacks_and_keeps_its_secrets(tmp_path: Path) -> None:
    older = tmp_path / "demo.env"
    older.write_text("MINT_CLIENT_ID=mint-portal-demo\nMINT_CLIENT_SECRET=kept\nSANDBOX_CLIENT_ID=mint-portal-demo\n"
                     "SANDBOX_CLIENT_SECRET=kept\nOIDC_CLIENT_SECRET=older-sso\n")
    missing = run("--missing-from", str(older))
    assert not {"MINT_CLIENT_ID", "MINT_CLIENT_SECRET", "OIDC_CLIENT_SECRET"} & set(missing)
    assert missing["SANDBOX_OIDC_CLIENT_SECRET"] == "older-sso"
    assert "OIDC_ISSUER" in missing


@pytest.mark.django_db
def test_the_demo_mappings_are_made_once_and_audited() -> None:
    for name in ("Case handlers", "Operators"):
        Group.objects.create(name=name)
    output = StringIO()
    call_command("sso_demo_setup", stdout=output)
    call_command("sso_demo_setup", stdout=output)
    assert sorted(ClaimMapping.objects.values_list("claim_value", "team__name")) == [
        ("portal-case-handlers", "Case handlers"), ("portal-operators", "Operators")]
    assert "team Approvers does not exist, skipped" in output.getvalue()
    assert AuditEvent.objects.filter(action="access.sso_mapping.create").count() == 2
