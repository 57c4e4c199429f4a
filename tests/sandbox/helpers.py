"""Helpers for the sandbox's own tests: an API client bound to one token, and workflow builders.

Every test creates its own workflows (unique names), so tests do not depend on each other's data or order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import requests

from tests.sandbox_process import SandboxProcess


def step(step_id: str, step_type: str, **properties: Any) -> dict[str, Any]:
    """A workflow step; keyword arguments become its properties."""
    return {"id": step_id, "type": step_type, "properties": properties or None}


def link(source: str, target: str, outcome: str | None = None) -> dict[str, Any]:
    return {"sourceStepId": source, "targetStepId": target, "outcome": outcome}


def chain(*steps: dict[str, Any]) -> dict[str, Any]:
    """A definition whose steps run one after another (connections without outcomes)."""
    return {"steps": list(steps),
            "connections": [link(a["id"], b["id"]) for a, b in pairwise(steps)]}


def unique(prefix: str = "wf") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class Api:
    """Plain HTTP calls to the sandbox's /mint API with a bearer token, renewed when it has expired (tests move
    the sandbox clock by hours); the auth tests call ``sandbox.api`` directly instead."""

    sandbox: SandboxProcess
    token: str

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.sandbox.api(method, path, token=self.token, **kwargs)
        if response.status_code == 401 and "expired" in response.json().get("detail", ""):
            self.token = self.sandbox.token()
            response = self.sandbox.api(method, path, token=self.token, **kwargs)
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PATCH", path, **kwargs)

    def create_workflow(self, definition: dict[str, Any], **fields: Any) -> dict[str, Any]:
        response = self.post("workflows", json={"name": unique(), **definition, **fields})
        assert response.status_code == 201, response.text
        return response.json()

    def start(self, workflow_id: str, journey_input: dict[str, Any] | None = None, **body: Any) -> dict[str, Any]:
        response = self.post(f"workflows/{workflow_id}/journeys", json={"input": journey_input, **body})
        assert response.status_code == 201, response.text
        return response.json()

    def run(self, definition: dict[str, Any], journey_input: dict[str, Any] | None = None) -> dict[str, Any]:
        """Creates a workflow, starts a journey and answers the journey as GET /journeys/{id} shows it."""
        workflow = self.create_workflow(definition)
        started = self.start(workflow["id"], journey_input)
        return self.journey(started["journeyId"])

    def journey(self, journey_id: str) -> dict[str, Any]:
        response = self.get(f"journeys/{journey_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def log(self, journey_id: str) -> dict[str, Any]:
        response = self.get(f"journeys/{journey_id}/log")
        assert response.status_code == 200, response.text
        return response.json()


def invalid_names(response: requests.Response) -> list[str]:
    """The ``invalidParams`` names of a 400 problem."""
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    return [param["name"] for param in response.json()["invalidParams"]]
