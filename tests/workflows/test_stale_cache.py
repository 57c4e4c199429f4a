"""Stale while revalidate for workflow definitions, listings and step types.

Issue 11: once the 60 s cached workflow definition expired during an outage of Mint, the launch form and the
workflow page answered 503. Now an expired entry is served at once and read again by a Celery task.
"""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from mintportal import cache as portal_cache
from mintportal.mint import errors, get_client
from tests.celery_worker import wait_for
from tests.sandbox.helpers import Api, step, unique
from workflows import selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def later(monkeypatch) -> list[float]:
    """Moves this process's clock for cached entries on: append seconds (time is what tests may patch)."""
    offset = [0.0]
    monkeypatch.setattr(portal_cache, "_clock", lambda: time.time() + sum(offset))
    return offset


@pytest.fixture
def launchable(api: Api, mint_settings) -> dict:
    return api.create_workflow({"steps": [step("end", "finish")], "inputParameters": [{"name": "customerEmail"}]},
                               name=unique("Stale"))


def test_the_workflow_page_and_launch_form_render_from_the_last_known_definition_while_mint_is_down(
    root_client: Client, sandbox, launchable: dict, later: list[float]
) -> None:
    detail = reverse("workflows:detail", kwargs={"workflow_id": launchable["id"]})
    launch = reverse("launches:new", kwargs={"workflow_id": launchable["id"]})
    assert root_client.get(detail).status_code == 200
    assert root_client.get(launch).status_code == 200
    later.append(3600)
    sandbox.add_fault(path=r"^/mint/workflows", method="GET", status=503)
    sandbox.reset_counters()

    page = root_client.get(detail)
    form = root_client.get(launch)

    assert page.status_code == 200 and launchable["name"] in page.content.decode()
    assert form.status_code == 200 and "customerEmail" in form.content.decode()
    # Served at once from the last known copy: the page did not wait on Mint.
    assert sandbox.count("getWorkflow") == 0 and sandbox.count("listWorkflowVersions") == 0


def test_while_the_breaker_is_open_the_page_shows_the_last_known_definition_with_the_outage_banner(
    root_client: Client, sandbox, mint_settings, launchable: dict, later: list[float]
) -> None:
    detail = reverse("workflows:detail", kwargs={"workflow_id": launchable["id"]})
    assert 'id="mint-outage"' not in root_client.get(detail).content.decode()
    mint_settings.MINT_MAX_RETRIES = 0
    mint_settings.MINT_BREAKER_FAILURES = 1
    sandbox.add_fault(path=r"^/mint/workflows/", method="GET", status=503)
    with pytest.raises(errors.MintServerError):
        get_client().get_workflow(launchable["id"])
    later.append(3600)
    sandbox.reset_counters()

    html = root_client.get(detail).content.decode()

    assert launchable["name"] in html and 'id="mint-outage"' in html
    assert sandbox.count("getWorkflow") == 0


def test_the_step_types_and_the_workflow_list_are_served_stale_too(root_client: Client, sandbox, launchable: dict,
                                                                   later: list[float]) -> None:
    assert selectors.step_type_list()
    assert launchable["name"] in root_client.get(reverse("workflows:list"), {"q": launchable["name"]}).content.decode()
    later.append(7200)
    sandbox.add_fault(path=r"^/mint/(step-types|workflows)", method="GET", status=503)
    sandbox.reset_counters()

    assert selectors.step_type_list()
    listing = root_client.get(reverse("workflows:list"), {"q": launchable["name"]}).content.decode()

    assert launchable["name"] in listing
    assert sandbox.count("listStepTypes") == 0 and sandbox.count("listWorkflows") == 0


def test_without_any_copy_an_outage_still_says_mint_is_unavailable(root_client: Client, sandbox,
                                                                   launchable: dict) -> None:
    sandbox.add_fault(path=r"^/mint/workflows/", method="GET", status=503)

    response = root_client.get(reverse("workflows:detail", kwargs={"workflow_id": launchable["id"]}))

    assert response.status_code == 503 and "Mint is unavailable" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_stale_definition_is_read_again_by_a_background_task(root_client: Client, api: Api, sandbox, celery_worker,
                                                               launchable: dict, later: list[float]) -> None:
    detail = reverse("workflows:detail", kwargs={"workflow_id": launchable["id"]})
    assert launchable["name"] in root_client.get(detail).content.decode()
    renamed = unique("Renamed")
    body = {key: launchable[key] for key in ("steps", "connections", "inputParameters") if key in launchable}
    assert api.put(f"workflows/{launchable['id']}", json={**body, "name": renamed}).status_code == 200
    later.append(120)

    first = root_client.get(detail).content.decode()

    assert launchable["name"] in first and renamed not in first
    wait_for(lambda: renamed in root_client.get(detail).content.decode(), timeout=30,
             message="the background refresh of the workflow definition")


def test_the_background_refresh_makes_one_attempt_and_never_sleeps_on_retry_after(sandbox, mint_settings,
                                                                                 launchable: dict) -> None:
    """A worker busy refreshing a cache entry through an outage would keep launches waiting; the next page view
    asks for another refresh anyway."""
    from workflows.tasks import workflow_cache_refill_task

    mint_settings.MINT_MAX_RETRY_WAIT = 10
    sandbox.add_fault(path=r"^/mint/workflows/", method="GET", status=503, retry_after=5)
    sandbox.reset_counters()

    started = time.monotonic()
    workflow_cache_refill_task(what="definition", params={"workflow_id": launchable["id"], "version": None})

    assert time.monotonic() - started < 1.0
    assert sandbox.count("getWorkflow") == 1
