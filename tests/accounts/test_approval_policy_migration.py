"""accounts 0008: the four-eyes rules on team scopes become approval policies of the workflows they cover, and
back."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import ApprovalPolicy, Scope

BEFORE = ("accounts", "0007_workflow_record")


def migrate_everything() -> None:
    # Every app, not only accounts: going back may also unapply later migrations of apps that depend on it.
    call_command("migrate", verbosity=0)


def historical_models() -> Any:
    """The models as migration 0007 left them (scopes with their rules), which the current classes no longer are."""
    return MigrationExecutor(connection).loader.project_state(BEFORE).apps


@pytest.mark.django_db(transaction=True)
def test_migrating_turns_scope_rules_into_policies_of_what_the_scope_covers_and_back() -> None:
    call_command("migrate", *BEFORE, verbosity=0)
    try:
        apps = historical_models()
        scope, group = apps.get_model("accounts", "Scope"), apps.get_model("auth", "Group")
        approvers, admins = group.objects.create(name="Approvers"), group.objects.create(name="Admins")
        rows: list[dict[str, Any]] = [
            # A stricter tag scope: one policy per tag, self-approval forbidden even where the scope allowed it.
            {"team": approvers, "name": "Contracts", "workflow_tags": ["contracts", "b2b"],
             "actions": ["view", "approve"], "required_approvals": 2, "sla_hours": 24, "forbid_self_approval": False},
            # A stricter scope by id: one policy per workflow id.
            {"team": approvers, "name": "Two", "workflow_ids": ["wf-1", "wf-2"], "actions": ["approve"],
             "required_approvals": 3},
            # Every workflow: one policy matching every workflow.
            {"team": admins, "name": "Everything", "all_workflows": True, "actions": ["view", "approve"],
             "sla_hours": 8},
            # Nothing stricter than the defaults, or no right to approve: no policy.
            {"team": admins, "name": "Plain", "all_workflows": True, "actions": ["approve"]},
            {"team": admins, "name": "Viewers", "workflow_tags": ["kyc"], "actions": ["view"], "required_approvals": 4},
        ]
        for row in rows:
            scope.objects.create(**row)
    finally:
        migrate_everything()

    policies = {
        (policy.all_workflows, policy.workflow_id, policy.workflow_tag):
        (policy.name, policy.required_approvals, policy.forbid_self_approval, policy.sla_hours,
         list(policy.approver_teams.all()))
        for policy in ApprovalPolicy.objects.all()
    }
    assert policies == {
        (False, "", "contracts"): ("Approvers: Contracts (tag contracts)", 2, True, 24, []),
        (False, "", "b2b"): ("Approvers: Contracts (tag b2b)", 2, True, 24, []),
        (False, "wf-1", ""): ("Approvers: Two (workflow wf-1)", 3, True, None, []),
        (False, "wf-2", ""): ("Approvers: Two (workflow wf-2)", 3, True, None, []),
        (True, "", ""): ("Admins: Everything (all workflows)", 1, True, 8, []),
    }
    assert {field.name for field in Scope._meta.get_fields()}.isdisjoint(
        {"required_approvals", "forbid_self_approval", "sla_hours"})

    call_command("migrate", *BEFORE, verbosity=0)
    try:
        back = {row.name: (row.required_approvals, row.forbid_self_approval, row.sla_hours)
                for row in historical_models().get_model("accounts", "Scope").objects.all()}
        # Each approve scope takes the strictest policy matching anything it covers (every-workflow ones too).
        assert back == {"Contracts": (2, True, 8), "Two": (3, True, 8), "Everything": (3, True, 8),
                        "Plain": (3, True, 8), "Viewers": (1, True, None)}
    finally:
        migrate_everything()
