"""Fixtures for tests that act on journeys through the sandbox: the portal's Mint client, workflows that wait for an
approval, a manual step or the end user's form (mirrored with the given tags, so they fall inside or outside the
personas' scopes), and journeys started in them and mirrored as the journey page would. Registered for every test
folder in tests/conftest.py; the approvals and bulk tests use them."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from journeys.models import Journey
from journeys.services.sync import journey_refresh
from launches.models import Launch, LaunchStatus
from mintportal.mint import MintClient, get_client, models
from tests.mint_parts import link, step
from tests.personas import approval_workflow_create, place_workflow


@pytest.fixture
def mint(mint_settings) -> MintClient:
    """The portal's Mint client, pointed at the sandbox process."""
    return get_client()


@pytest.fixture
def approval_workflow(mint: MintClient) -> Callable[..., str]:
    """Creates a workflow whose journeys wait for approval ``check`` (see ``approval_workflow_create``) and
    mirrors it with ``tags``; returns its id."""

    def create(*, tags: list[str], name: str = "Approval") -> str:
        return approval_workflow_create(mint, tags=tags, name=name).id

    return create


@pytest.fixture
def suspend_workflow(mint: MintClient) -> Callable[..., str]:
    """Creates a workflow that waits at suspend step ``hold``; mirrors it with ``tags`` and returns its id."""

    def create(*, tags: list[str], name: str = "Manual") -> str:
        workflow = mint.create_workflow(models.WorkflowInput(
            name=f"{name} {uuid.uuid4().hex[:8]}",
            steps=[step("name", "set-name", template="Manual {{ input.case }}"), step("hold", "suspend"),
                   step("end", "finish")],
            connections=[link("name", "hold"), link("hold", "end")],
            input_parameters=[models.WorkflowInputParameter(name="case")],
        ))
        place_workflow(workflow.id, tags=tags, name=workflow.name or "")
        return workflow.id

    return create


@pytest.fixture
def form_workflow(mint: MintClient) -> Callable[..., str]:
    """A workflow whose journeys wait for the end user's form (a journey URL leads somewhere)."""

    def create(*, tags: list[str], name: str = "Form") -> str:
        workflow = mint.create_workflow(models.WorkflowInput(
            name=f"{name} {uuid.uuid4().hex[:8]}",
            steps=[step("name", "set-name", template="Form {{ input.case }}"),
                   step("details", "form", fields=[{"name": "phone", "label": "Phone", "type": "text"}]),
                   step("end", "finish")],
            connections=[link("name", "details"), link("details", "end")],
            input_parameters=[models.WorkflowInputParameter(name="case")],
        ))
        place_workflow(workflow.id, tags=tags, name=workflow.name or "")
        return workflow.id

    return create


@pytest.fixture
def start(mint: MintClient) -> Callable[..., Journey]:
    """Starts a journey and mirrors it from its detail (as the journey page would); returns the mirror row."""

    def run(workflow_id: str, case: str, *, launched_by: User | None = None) -> Journey:
        started = mint.start_journey(workflow_id, input={"case": case})
        if launched_by is not None:
            Launch.objects.create(
                key=f"test-{started.journey_id}", workflow_id=workflow_id, journey_url_ttl=60,
                status=LaunchStatus.STARTED, created_by=launched_by, created_at=timezone.now(),
                journey_id=started.journey_id,
            )
        row = journey_refresh(journey_id=started.journey_id)
        assert row is not None
        return Journey.objects.get(pk=row.id)

    return run
