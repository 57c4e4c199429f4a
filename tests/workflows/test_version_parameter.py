"""The ``?version=`` parameter of a workflow's page: a bad value is the asker's mistake (400), never Mint's."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.sandbox.helpers import Api, chain, step, unique

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("version", ["2147483648", "99999999999999999999", "0", "-1", "1.5", "latest"])
def test_a_version_outside_mints_range_is_refused_with_a_400_naming_the_parameter(
    root_client: Client, api: Api, sandbox, mint_settings, version: str
) -> None:
    workflow = api.create_workflow(chain(step("done", "finish")), name=unique("versioned"))
    sandbox.reset_counters()
    response = root_client.get(reverse("workflows:detail", kwargs={"workflow_id": workflow["id"]}),
                               {"version": version})
    assert response.status_code == 400
    assert "version" in response.content.decode()
    assert sandbox.count("getWorkflow") == 0


def test_a_version_in_range_is_shown(root_client: Client, api: Api, mint_settings) -> None:
    workflow = api.create_workflow(chain(step("done", "finish")), name=unique("versioned"))
    response = root_client.get(reverse("workflows:detail", kwargs={"workflow_id": workflow["id"]}), {"version": "1"})
    assert response.status_code == 200
