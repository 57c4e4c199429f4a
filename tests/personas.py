"""Personas as fixtures: one user per role, with the demo teams' scopes narrowed by tag.

Each persona's team covers workflows tagged ``onboarding``, ``contracts`` or ``customer-service``; a
workflow tagged ``batch`` is outside every team but Admins (which covers everything). Three mirror rows
are set up for every persona test:

- ``WF_INSIDE`` (tag onboarding): every persona may view it; approvals need one approver, SLA 24 h.
- ``WF_CONTRACTS`` (tag contracts): approvals need two distinct approvers, SLA 24 h (an approval policy, so
  for every approver: the admin too).
- ``WF_OUTSIDE`` (tag batch): outside every scope but the admin's.

To put a real sandbox workflow inside (or outside) the scopes, mirror it with ``place_workflow``:

    place_workflow(workflow.id, tags=["onboarding"])

Passwords are ``mintdemo`` (the suite hashes with MD5, so creating personas is cheap).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from accounts.models import Action, ApprovalPolicy, Scope, WorkflowRecord
from mintportal.mint import MintClient, models
from tests.mint_parts import link, step

PASSWORD = "mintdemo"
WF_INSIDE = "wf-onboarding"
WF_CONTRACTS = "wf-contracts"
WF_OUTSIDE = "wf-batch"
IN_SCOPE_TAGS = ["onboarding", "contracts", "customer-service"]

# team name → [(scope name, actions, tags or None for all workflows)]
TEAMS: dict[str, list[tuple[str, list[str], list[str] | None]]] = {
    "Case handlers": [
        ("Customer work", [Action.VIEW, Action.CONTINUE, Action.ANNOTATE, Action.SHARE], IN_SCOPE_TAGS),
    ],
    "Approvers": [
        ("Onboarding approvals", [Action.VIEW, Action.APPROVE], ["onboarding"]),
        ("Contract approvals", [Action.VIEW, Action.APPROVE], ["contracts"]),
    ],
    "Operators": [
        ("Customer launches", [Action.VIEW, Action.LAUNCH, Action.SHARE], IN_SCOPE_TAGS),
    ],
    "Admins": [
        ("Everything", list(Action.values), None),
    ],
}

# The approval policies of the persona workflows' tags: (name, tag, required approvals, SLA hours).
POLICIES: list[tuple[str, str, int, int | None]] = [
    ("Onboarding approvals", "onboarding", 1, 24),
    ("Contract approvals", "contracts", 2, 24),
]


def place_workflow(workflow_id: str, *, tags: Iterable[str], name: str = "") -> WorkflowRecord:
    """Mirrors a workflow with these tags, so tag scopes cover (or do not cover) it at once."""
    workflow, _ = WorkflowRecord.objects.update_or_create(
        pk=workflow_id, defaults={"name": name or workflow_id, "tags": list(tags), "seen_at": timezone.now()}
    )
    return workflow


def approval_workflow_create(
    client: MintClient, *, tags: list[str], name: str = "Approval"
) -> models.WorkflowDefinition:
    """Creates in Mint (the sandbox) a workflow whose journeys wait for approval, and mirrors it with ``tags``.

    Steps: ``name`` (journey named "Case {{ input.case }}"), ``doc`` (a file "<case>.txt"), ``check``
    (require-approval), then ``after`` (suspend, so an approved journey visibly moves on and still waits) and
    ``end``; a rejection leads to ``stop``, which faults the journey.
    """

    workflow = client.create_workflow(models.WorkflowInput(
        name=f"{name} {uuid.uuid4().hex[:8]}",
        steps=[
            step("name", "set-name", template="Case {{ input.case }}"),
            step("doc", "generate-document", filename="{{ input.case }}.txt", content="Case {{ input.case }}"),
            step("check", "require-approval"), step("after", "suspend"), step("end", "finish"),
            step("stop", "fault", message="Rejected"),
        ],
        connections=[
            link("name", "doc"), link("doc", "check"), link("check", "after", "Approved"),
            link("check", "stop", "Rejected"), link("after", "end"),
        ],
        input_parameters=[models.WorkflowInputParameter(name="case")],
    ))
    place_workflow(workflow.id, tags=tags, name=workflow.name or "")
    return workflow


def persona_policies() -> None:
    """The approval policies of ``POLICIES`` (created on first use in a test, like the teams)."""
    for name, tag, required, sla_hours in POLICIES:
        ApprovalPolicy.objects.get_or_create(
            name=name, defaults={"workflow_tag": tag, "required_approvals": required, "sla_hours": sla_hours},
        )


def team(name: str) -> Group:
    """The persona team ``name`` with its scopes (created on first use in a test), and the approval policies."""
    group, created = Group.objects.get_or_create(name=name)
    if created:
        for scope_name, actions, tags in TEAMS[name]:
            Scope.objects.create(
                team=group, name=scope_name, actions=[str(action) for action in actions],
                all_workflows=tags is None, workflow_tags=tags or [],
            )
        persona_policies()
    return group


def make_user(username: str, *teams: str, staff: bool = False) -> User:
    """A user in the named persona teams (none for an outsider)."""
    user = User.objects.create_user(username=username, password=PASSWORD, is_staff=staff)
    for name in teams:
        user.groups.add(team(name))
    return user


@pytest.fixture
def scoped_workflows(db: None) -> dict[str, WorkflowRecord]:
    return {
        WF_INSIDE: place_workflow(WF_INSIDE, tags=["onboarding"], name="Onboarding"),
        WF_CONTRACTS: place_workflow(WF_CONTRACTS, tags=["contracts"], name="Contracts"),
        WF_OUTSIDE: place_workflow(WF_OUTSIDE, tags=["batch"], name="Batch"),
    }


@pytest.fixture
def case_handler(scoped_workflows: dict[str, WorkflowRecord]) -> User:
    return make_user("handler", "Case handlers")


@pytest.fixture
def approver(scoped_workflows: dict[str, WorkflowRecord]) -> User:
    return make_user("approver", "Approvers")


@pytest.fixture
def approver2(scoped_workflows: dict[str, WorkflowRecord]) -> User:
    return make_user("approver2", "Approvers")


@pytest.fixture
def operator(scoped_workflows: dict[str, WorkflowRecord]) -> User:
    return make_user("operator", "Operators")


@pytest.fixture
def admin(scoped_workflows: dict[str, WorkflowRecord]) -> User:
    """Member of Admins (every action on every workflow, managing access included) with the staff flag."""
    return make_user("admin", "Admins", staff=True)


@pytest.fixture
def outsider(scoped_workflows: dict[str, WorkflowRecord]) -> User:
    """Signed in, but in no team: may see and do nothing."""
    return make_user("outsider")


PERSONAS = ("operator", "approver", "approver2", "case_handler", "admin", "outsider")
