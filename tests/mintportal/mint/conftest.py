"""Fixtures for the Mint client's tests: clients pointed at the sandbox process, and workflows to run."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from mintportal.mint import MintClient, MintConfig, get_client, models
from tests.mint_parts import chain, step, unique

BOTH_ROLES = ["Flow Viewer", "Flow Editor"]


@pytest.fixture
def client(mint_settings) -> MintClient:
    """The process-wide client, pointed at the sandbox with the API client that holds both roles."""
    return get_client()


@pytest.fixture
def paging_client(mint_settings) -> MintClient:
    """A client whose ``iter_*`` methods fetch two items per page, so that paging shows with few items."""
    return MintClient(MintConfig.from_settings(), page_limit=2)


@pytest.fixture
def own_credentials(sandbox, mint_settings) -> Callable[..., tuple[str, str]]:
    """Registers a new API client in the sandbox and points MINT_* at it; returns (client id, secret).

    A client id of its own gives a test a token cache key no other test has used, so that it can count
    the sandbox's token calls from an empty cache.
    """

    def register(roles: list[str] | None = None) -> tuple[str, str]:
        client_id = f"tests-{uuid.uuid4().hex[:12]}"
        client_secret = f"secret-{uuid.uuid4().hex}"
        sandbox.add_client(client_id, client_secret, BOTH_ROLES if roles is None else roles)
        mint_settings.MINT_CLIENT_ID = client_id
        mint_settings.MINT_CLIENT_SECRET = client_secret
        return client_id, client_secret

    return register


@pytest.fixture
def viewer_client(own_credentials) -> MintClient:
    """A client whose API client has Flow Viewer only."""
    own_credentials(["Flow Viewer"])
    return get_client()


@pytest.fixture
def suspend_workflow(client: MintClient) -> models.WorkflowDefinition:
    """A workflow that pauses at a suspend step and then finishes: journeys of it wait until resumed."""
    return client.create_workflow(models.WorkflowInput(
        name=unique("Suspend"),
        steps=[step("hold", "suspend"), step("end", "finish")],
        connections=chain("hold", "end"),
    ))
