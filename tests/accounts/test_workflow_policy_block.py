"""The workflow page shows, read-only, the approval policy that applies to the workflow."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from accounts.models import ApprovalPolicy
from mintportal.mint import get_client
from tests.personas import approval_workflow_create

pytestmark = pytest.mark.django_db


def policy_block(user: User, workflow_id: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("workflows:detail", kwargs={"workflow_id": workflow_id}))
    assert response.status_code == 200
    block = re.search(r'<section class="card" id="approval-policy">.*?</section>', response.content.decode(), re.S)
    assert block is not None
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block.group(0)))


def test_it_shows_the_rules_and_the_policy_they_come_from(mint_settings, approver: User) -> None:
    workflow = approval_workflow_create(get_client(), tags=["contracts"])

    text = policy_block(approver, workflow.id)

    assert "Approvals needed 2 distinct approvers" in text
    assert "Self-approval Not allowed" in text and "SLA 24 h" in text
    assert "Who may approve Any team whose scope allows approving" in text
    assert "From Contract approvals (tag contracts)" in text


def test_several_policies_show_the_strictest_rules_and_the_teams_they_share(mint_settings, approver: User) -> None:
    workflow = approval_workflow_create(get_client(), tags=["contracts", "onboarding"])
    ApprovalPolicy.objects.filter(name="Onboarding approvals").update(sla_hours=4)
    approvers = Group.objects.get(name="Approvers")
    ApprovalPolicy.objects.get(name="Onboarding approvals").approver_teams.set([approvers])

    text = policy_block(approver, workflow.id)

    assert "Approvals needed 2 distinct approvers" in text and "SLA 4 h" in text
    assert "Who may approve Approvers" in text and "the strictest of each rule applies" in text

    ApprovalPolicy.objects.get(name="Contract approvals").approver_teams.set([Group.objects.create(name="Legal")])
    assert "Who may approve Nobody" in policy_block(approver, workflow.id)


def test_without_a_policy_it_says_the_defaults_apply(mint_settings, case_handler: User) -> None:
    workflow = approval_workflow_create(get_client(), tags=["customer-service"])

    text = policy_block(case_handler, workflow.id)

    assert "Approvals needed 1 distinct approver " in text and "SLA none" in text
    assert "No policy matches this workflow" in text
