"""The time budget of a web request: one short attempt per read, never a sleep on Retry-After, a cap on the whole.

Issue 11: with Mint answering 503 + Retry-After 5, every gunicorn thread slept inside the client and throughput
fell from ~150 to 2 requests/s; with Mint 20 s slow, pages (and /healthz behind them) waited up to 30 s.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.test import Client
from django.urls import reverse

from mintportal.mint import MintClient, errors, get_client
from mintportal.mint.budget import time_budget
from tests.celery_worker import wait_for
from tests.sandbox.helpers import Api, step, unique


@pytest.fixture
def no_jitter(monkeypatch) -> None:
    monkeypatch.setattr("mintportal.mint.retry.random.uniform", lambda low, high: low)


def test_a_web_request_never_sleeps_on_retry_after(sandbox, client: MintClient, no_jitter) -> None:
    client.list_step_types()
    sandbox.reset_counters()
    sandbox.add_fault(path=r"^/mint/step-types$", status=503, retry_after=2)

    started = time.monotonic()
    with time_budget(3.0), pytest.raises(errors.MintServerError) as caught:
        client.list_step_types()

    assert time.monotonic() - started < 0.5
    assert caught.value.retry_after == 2
    assert sandbox.count("listStepTypes") == 1


def test_a_worker_still_honours_retry_after(sandbox, client: MintClient, no_jitter) -> None:
    sandbox.add_fault(path=r"^/mint/step-types$", status=503, retry_after=1, times=1)

    started = time.monotonic()
    assert client.list_step_types()

    assert time.monotonic() - started >= 1.0
    assert sandbox.count("listStepTypes") == 2


def test_a_slow_mint_costs_a_web_request_no_more_than_its_budget(sandbox, client: MintClient) -> None:
    client.list_step_types()
    sandbox.add_fault(path=r"^/mint/step-types$", latency_ms=3000)

    started = time.monotonic()
    with time_budget(0.5), pytest.raises(errors.MintTimeoutError):
        client.list_step_types()

    assert time.monotonic() - started < 1.2


def test_the_budget_is_shared_by_every_read_of_one_request(sandbox, client: MintClient) -> None:
    client.list_step_types()
    sandbox.add_fault(path=r"^/mint/step-types$", latency_ms=3000, times=1)
    sandbox.reset_counters()

    with time_budget(0.5):
        with pytest.raises(errors.MintTimeoutError):
            client.list_step_types()
        with pytest.raises(errors.MintBudgetExhaustedError) as caught:
            client.list_workflows(limit=1)

    assert caught.value.request_sent is False and caught.value.retryable
    assert sandbox.count("listWorkflows") == 0


def test_outside_a_web_request_there_is_no_budget(sandbox, mint_settings) -> None:
    mint_settings.MINT_WEB_TIMEOUT = 0.2
    sandbox.add_fault(path=r"^/mint/step-types$", latency_ms=600, times=1)

    assert get_client().list_step_types()
    assert sandbox.count("listStepTypes") == 1


@pytest.mark.django_db
def test_a_page_answers_at_once_when_mint_asks_to_retry_later(sandbox, mint_settings, admin) -> None:
    api = Api(sandbox=sandbox, token=sandbox.token())
    workflow = api.create_workflow({"steps": [step("end", "finish")]}, name=unique("busy"))
    mint_settings.MINT_MAX_RETRY_WAIT = 10
    sandbox.add_fault(path=r"^/mint/workflows/", method="GET", status=503, retry_after=5)
    browser = Client()
    browser.force_login(admin)

    started = time.monotonic()
    response = browser.get(reverse("workflows:detail", kwargs={"workflow_id": workflow["id"]}))

    assert time.monotonic() - started < 1.0
    assert response.status_code == 503 and "Mint is unavailable" in response.content.decode()
    assert sandbox.count("getWorkflow") == 1


@pytest.mark.django_db
def test_a_page_waits_on_a_slow_mint_no_longer_than_the_web_timeout(sandbox, mint_settings, admin) -> None:
    api = Api(sandbox=sandbox, token=sandbox.token())
    workflow = api.create_workflow({"steps": [step("end", "finish")]}, name=unique("slow"))
    get_client().list_step_types()
    mint_settings.MINT_WEB_TIMEOUT = 0.5
    sandbox.add_fault(path=r"^/mint/workflows/", method="GET", latency_ms=5000)
    browser = Client()
    browser.force_login(admin)

    started = time.monotonic()
    response = browser.get(reverse("workflows:detail", kwargs={"workflow_id": workflow["id"]}))

    assert time.monotonic() - started < 1.5
    assert response.status_code == 503
    assert sandbox.count("getWorkflow") == 1


def test_no_more_page_threads_than_the_bulkhead_allows_wait_on_mint_at_once(sandbox, mint_settings) -> None:
    mint_settings.MINT_WEB_CONCURRENCY = 1
    client = get_client()
    client.list_step_types()
    sandbox.add_fault(path=r"^/mint/step-types$", latency_ms=1000, times=1)
    sandbox.reset_counters()
    waiting = threading.Event()
    outcome: list[object] = []

    def slow_page() -> None:
        with time_budget(3.0):
            waiting.set()
            outcome.append(client.list_step_types())

    slow = threading.Thread(target=slow_page)
    slow.start()
    waiting.wait(timeout=10)
    # The slow page has the only slot once its request is in flight at the sandbox.
    wait_for(lambda: sandbox.count("listStepTypes") == 1, timeout=10, message="the slow call to reach the sandbox")
    started = time.monotonic()
    with time_budget(3.0), pytest.raises(errors.MintBudgetExhaustedError):
        client.list_step_types()
    refused_in = time.monotonic() - started
    slow.join(timeout=30)

    assert refused_in < 0.2 and outcome
    assert sandbox.count("listStepTypes") == 1
    with time_budget(3.0):
        assert client.list_step_types()
