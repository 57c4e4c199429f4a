"""Retries: Retry-After, the budget, and starting a journey only when a repeat cannot make a second one."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from mintportal.mint import MintClient, errors, get_client
from mintportal.mint.retry import RetryPolicy, parse_retry_after
from tests.sandbox_process import free_port


@pytest.fixture
def no_jitter(monkeypatch) -> None:
    """Backoff waits nothing, so that a test's measured time is Retry-After's alone."""
    monkeypatch.setattr("mintportal.mint.retry.random.uniform", lambda low, high: low)


def test_it_waits_at_least_retry_after_before_retrying(sandbox, client: MintClient, no_jitter) -> None:
    sandbox.add_fault(path=r"^/mint/workflows$", method="GET", status=429, retry_after=1, times=1)

    started = time.monotonic()
    page = client.list_workflows()
    waited = time.monotonic() - started

    assert page.total_count >= 0
    assert waited >= 1.0
    assert sandbox.count("listWorkflows") == 2


def test_the_retry_budget_ends_the_retries(sandbox, mint_settings, no_jitter) -> None:
    mint_settings.MINT_MAX_RETRIES = 2
    sandbox.add_fault(path=r"^/mint/step-types$", status=503)

    with pytest.raises(errors.MintServerError) as caught:
        get_client().list_step_types()

    assert (caught.value.status, caught.value.retryable) == (503, True)
    assert sandbox.count("listStepTypes") == 3


def test_reads_are_retried_after_a_bad_gateway(sandbox, client: MintClient, no_jitter) -> None:
    sandbox.add_fault(path=r"^/mint/step-types$", status=502, times=2)

    assert client.list_step_types()
    assert sandbox.count("listStepTypes") == 3


def test_a_read_that_times_out_is_retried(sandbox, mint_settings, no_jitter) -> None:
    mint_settings.MINT_READ_TIMEOUT = 0.3
    sandbox.add_fault(path=r"^/mint/step-types$", latency_ms=1000, times=1)

    assert get_client().list_step_types()
    assert sandbox.count("listStepTypes") == 2


def test_a_read_timeout_on_start_journey_raises_outcome_unknown_after_one_start(
    sandbox, mint_settings, suspend_workflow, no_jitter
) -> None:
    mint_settings.MINT_READ_TIMEOUT = 0.5
    sandbox.add_fault(path=rf"^/mint/workflows/{suspend_workflow.id}/journeys$", latency_ms=1500, times=1)

    with pytest.raises(errors.MintOutcomeUnknownError) as caught:
        get_client().start_journey(suspend_workflow.id)

    assert caught.value.operation == "startJourney" and not caught.value.retryable
    assert sandbox.count("startJourney") == 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_server_error_on_start_journey_raises_outcome_unknown_without_retrying(
    sandbox, client: MintClient, suspend_workflow, no_jitter, status: int
) -> None:
    sandbox.add_fault(path=rf"^/mint/workflows/{suspend_workflow.id}/journeys$", status=status, times=1)

    with pytest.raises(errors.MintOutcomeUnknownError) as caught:
        client.start_journey(suspend_workflow.id)

    assert caught.value.status == status
    assert sandbox.count("startJourney") == 1


def test_start_journey_is_retried_after_a_rate_limit(sandbox, client: MintClient, suspend_workflow, no_jitter) -> None:
    sandbox.add_fault(path=rf"^/mint/workflows/{suspend_workflow.id}/journeys$", status=429, times=1)

    started = client.start_journey(suspend_workflow.id)

    assert client.get_journey(started.journey_id).status == "active"
    assert sandbox.count("startJourney") == 2


def test_start_journey_is_retried_after_a_503_with_retry_after(
    sandbox, client: MintClient, suspend_workflow, no_jitter
) -> None:
    sandbox.add_fault(path=rf"^/mint/workflows/{suspend_workflow.id}/journeys$", status=503, retry_after=1, times=1)

    started = client.start_journey(suspend_workflow.id)

    assert started.journey_id
    assert sandbox.count("startJourney") == 2
    assert client.list_journeys(workflow_id=suspend_workflow.id).total_count == 1


def test_start_journey_is_retried_when_the_connection_is_refused(mint_settings, caplog, no_jitter) -> None:
    mint_settings.MINT_BASE_URL = f"http://127.0.0.1:{free_port()}/mint"
    mint_settings.MINT_MAX_RETRIES = 2
    caplog.set_level("INFO", logger="mintportal.mint")

    with pytest.raises(errors.MintConnectionError) as caught:
        get_client().start_journey("any-workflow")

    assert not isinstance(caught.value, errors.MintOutcomeUnknownError)
    assert sum("retrying" in r.getMessage() and "startJourney" in r.getMessage() for r in caplog.records) == 2


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)

    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now.timestamp()) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now.timestamp()) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_backoff_grows_exponentially_with_full_jitter_under_the_cap(monkeypatch) -> None:
    monkeypatch.setattr("mintportal.mint.retry.random.uniform", lambda low, high: high)
    policy = RetryPolicy(max_retries=5, max_wait=1.5, base=0.25)

    assert [policy.backoff(n) for n in range(5)] == [0.25, 0.5, 1.0, 1.5, 1.5]
