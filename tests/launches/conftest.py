"""Fixtures for the launch tests: a sandbox workflow with input parameters and a form, inside the scopes."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.personas import place_workflow
from tests.sandbox.helpers import Api, chain, step


@dataclass(frozen=True)
class LaunchWorkflow:
    id: str
    name: str
    parameters: tuple[str, ...]


@pytest.fixture
def launch_workflow(api: Api, mint_settings) -> LaunchWorkflow:
    """A workflow taking ``email`` and ``fullName`` whose journeys wait for the end user's form."""
    definition = chain(
        step("details", "form", fields=[{"name": "phone", "label": "Phone", "type": "text", "required": True}]),
        step("done", "finish"),
    )
    workflow = api.create_workflow(definition, inputParameters=[{"name": "email"}, {"name": "fullName"}])
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    return LaunchWorkflow(id=workflow["id"], name=workflow["name"], parameters=("email", "fullName"))
