"""What a person sees when Mint fails under a page: a clear message with the trace id, never a traceback."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse

from tests.sandbox.helpers import Api, step, unique

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def workflow_url(api: Api, mint_settings) -> str:
    workflow = api.create_workflow({"steps": [step("end", "finish")]}, name=unique("fragile"))
    mint_settings.MINT_MAX_RETRIES = 0
    return reverse("workflows:detail", kwargs={"workflow_id": workflow["id"]})


def test_a_mint_server_error_shows_the_unavailable_page_and_logs_the_trace_id(
    root_client: Client, sandbox, workflow_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.add_fault(path="^/mint/workflows/", method="GET", status=500)
    with caplog.at_level(logging.WARNING, logger="mintportal.outage"):
        response = root_client.get(workflow_url)
    html = response.content.decode()
    assert response.status_code == 503
    assert "Mint is unavailable" in html and "Traceback" not in html
    record = next(r for r in caplog.records if r.name == "mintportal.outage")
    trace_id = record.getMessage().split("trace_id=")[1]
    assert trace_id != "-" and f"<code>{trace_id}</code>" in html
    # The outage is remembered briefly, so the next page shows the banner too.
    assert 'id="mint-outage"' in root_client.get(reverse("accounts:dashboard")).content.decode()


def test_a_rate_limit_says_how_long_to_wait(root_client: Client, sandbox, workflow_url: str) -> None:
    sandbox.add_fault(path="^/mint/workflows/", method="GET", status=429, retry_after=7)
    response = root_client.get(workflow_url)
    assert response.status_code == 503
    assert "Mint is busy, try again in 7 s." in response.content.decode()
    assert response["Retry-After"] == "7"


def test_for_htmx_the_failure_becomes_a_flash_message(root_client: Client, sandbox, workflow_url: str) -> None:
    sandbox.add_fault(path="^/mint/workflows/", method="GET", status=503)
    response = root_client.get(workflow_url, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#flash" and response["HX-Reswap"] == "beforeend"
    assert 'class="flash flash-error"' in html and "Mint is unavailable right now" in html
    assert "<html" not in html


def test_the_banner_goes_once_mint_answers_again(root_client: Client, sandbox, workflow_url: str) -> None:
    sandbox.add_fault(path="^/mint/workflows$", method="GET", status=500, times=1)
    assert 'id="mint-outage"' in root_client.get(reverse("workflows:list")).content.decode()
    assert 'id="mint-outage"' not in root_client.get(reverse("workflows:list"), {"q": "x"}).content.decode()
