"""``manage.py privacy_demo_setup``: the demo workflows' personal fields and the data protection officer, the same
after a second run; nobody else gains the right to reveal."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from accounts.models import Action, AuditEvent, Scope
from accounts.policy import user_can
from privacy import kinds
from privacy.management.commands.privacy_demo_setup import _port_open
from privacy.models import PersonalDataDeclaration
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, chain, step
from tests.sandbox_process import SandboxProcess, free_port

pytestmark = pytest.mark.django_db

EXPECTED = {
    "Customer onboarding": [
        {"path": "steps.login.name", "kind": kinds.NAME},
        {"path": "steps.login.birthDate", "kind": kinds.BIRTH_DATE},
        {"path": "steps.login.nationalId", "kind": kinds.NATIONAL_ID},
        {"path": "steps.details.email", "kind": kinds.EMAIL},
        {"path": "steps.details.phone", "kind": kinds.PHONE},
        {"path": "steps.details.address", "kind": kinds.ADDRESS},
    ],
    "Address change": [
        {"path": "input.customerName", "kind": kinds.NAME},
        {"path": "input.newAddress", "kind": kinds.ADDRESS},
        {"path": "input.email", "kind": kinds.EMAIL},
    ],
    "Contract signing": [
        {"path": "steps.review.signatory", "kind": kinds.NAME},
        {"path": "input.contactName", "kind": kinds.NAME},
        {"path": "input.contactEmail", "kind": kinds.EMAIL},
        {"path": "steps.notify.to", "kind": kinds.EMAIL},
        {"path": "steps.review.comments", "kind": kinds.FREE_TEXT},
    ],
    "Batch KYC check": [{"path": "input.customers.name", "kind": kinds.NAME}],
}


def snapshot() -> dict[str, Any]:
    """Every row the command may write, as comparable values."""
    return {
        "declarations": sorted(PersonalDataDeclaration.objects.values_list("workflow_id", "version", "fields",
                                                                             "updated_at")),
        "teams": sorted(Group.objects.values_list("name", flat=True)),
        "scopes": sorted((scope.team.name, scope.name, scope.all_workflows, tuple(scope.actions))
                         for scope in Scope.objects.select_related("team")),
        "users": sorted(User.objects.values_list("username", "password", "is_staff", "is_superuser")),
        "members": sorted(User.groups.through.objects.values_list("user__username", "group__name")),
        "audit": AuditEvent.objects.count(),
    }


def run(*args: str) -> str:
    out = StringIO()
    call_command("privacy_demo_setup", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_teams() -> None:
    call_command("demo_setup", "--skip-sync", stdout=StringIO())


@pytest.fixture
def demo_workflows(api: Api, mint_settings) -> dict[str, str]:
    """Workflows in the sandbox named as the demo's (sandbox/demo.py), by name → id."""
    return {name: api.create_workflow(chain(step("done", "finish")), name=name)["id"] for name in EXPECTED}


def test_it_declares_the_demo_workflows_fields_found_in_mint(demo_teams: None, demo_workflows: dict) -> None:
    output = run("--wait", "5")
    for name, workflow_id in demo_workflows.items():
        declaration = PersonalDataDeclaration.objects.get(workflow_id=workflow_id, version=1)
        assert declaration.fields == EXPECTED[name], name
        assert AuditEvent.objects.filter(action="workflow.personal_data", workflow_id=workflow_id,
                                         actor_username="system").count() == 1
        assert f"Personal data of {name} ({workflow_id}): declared" in output


def test_a_second_run_changes_no_row(demo_teams: None, demo_workflows: dict) -> None:
    run()
    first = snapshot()
    output = run()
    assert snapshot() == first
    assert "declared" not in output.replace("up to date", "")
    assert all(f"({workflow_id}): up to date" in output for workflow_id in demo_workflows.values())


def test_the_data_protection_officer_may_reveal_and_nobody_else_gains_anything(demo_teams: None) -> None:
    place_workflow("wf-demo-onboarding", tags=["onboarding", "kyc"], name="Customer onboarding")
    before = {team: sorted(Scope.objects.filter(team__name=team).values_list("name", "actions"))
              for team in ("Case handlers", "Approvers", "Operators", "Admins")}
    run("--skip-mint")
    after = {team: sorted(Scope.objects.filter(team__name=team).values_list("name", "actions"))
             for team in before}
    assert after == before

    dpo = authenticate(username="dpo", password="mintdemo")
    assert isinstance(dpo, User) and not dpo.is_staff and not dpo.is_superuser
    assert list(dpo.groups.values_list("name", flat=True)) == ["Data protection"]
    for action in (Action.VIEW, Action.REVEAL, Action.AUDIT, Action.ERASE):
        assert user_can(user=dpo, action=action, workflow_id="wf-demo-onboarding"), action
    for action in (Action.MANAGE, Action.LAUNCH, Action.CONTINUE, Action.APPROVE, Action.MANAGE_ACCESS):
        assert not user_can(user=dpo, action=action, workflow_id="wf-demo-onboarding"), action
    # Case handlers, approvers and operators see masks.
    for username in ("handler", "approver", "approver2", "operator"):
        user = User.objects.get(username=username)
        assert user_can(user=user, action=Action.VIEW, workflow_id="wf-demo-onboarding"), username
        assert not user_can(user=user, action=Action.REVEAL, workflow_id="wf-demo-onboarding"), username


def test_without_mint_it_finds_the_workflows_in_the_mirror(db: None) -> None:
    place_workflow("wf-demo-batch", tags=["batch", "kyc"], name="Batch KYC check")
    place_workflow("wf-other", tags=["batch"], name="Batch KYC check v2")
    output = run("--skip-mint")
    assert PersonalDataDeclaration.objects.get(workflow_id="wf-demo-batch").fields == EXPECTED["Batch KYC check"]
    assert not PersonalDataDeclaration.objects.filter(workflow_id="wf-other").exists()
    assert "Personal data of Customer onboarding: workflow not found" in output


def test_when_mint_is_unreachable_it_falls_back_to_the_mirror(settings) -> None:
    settings.MINT_BASE_URL = f"http://127.0.0.1:{free_port()}/mint"
    place_workflow("wf-demo-address", tags=["customer-service"], name="Address change")
    output = run()
    assert "Mint unreachable" in output
    assert PersonalDataDeclaration.objects.get(workflow_id="wf-demo-address").fields == EXPECTED["Address change"]
    assert User.objects.filter(username="dpo").exists()


def test_it_waits_for_mints_port(settings, sandbox: SandboxProcess, mint_settings) -> None:
    assert _port_open(seconds=0)
    settings.MINT_BASE_URL = f"http://127.0.0.1:{free_port()}/mint"
    assert not _port_open(seconds=0)
