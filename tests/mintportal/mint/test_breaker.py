"""The circuit breaker per group of Mint operations, against the sandbox process and its faults.

It opens after repeated failures, then fails fast (the sandbox's call counter stands still), lets one probe
through after the cool-down, and closes when the probe succeeds; its state is shared with other processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.core.cache import caches
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from mintportal.mint import MintClient, MintConfig, errors, get_client
from mintportal.mint.breaker import CLOSED, HALF_OPEN, JOURNEY_READS, OPEN, WORKFLOW_READS, WRITES, CircuitBreakers
from mintportal.mint.budget import time_budget
from mintportal.mint.paths import GET_JOURNEY, LIST_STEP_TYPES, START_JOURNEY
from tests.sandbox_process import ROOT

STEP_TYPES = r"^/mint/step-types$"


@pytest.fixture
def breaker_client(mint_settings) -> MintClient:
    """A client whose breakers open after 3 failures, calls made once (no retries), a 10 s cool-down."""
    mint_settings.MINT_MAX_RETRIES = 0
    mint_settings.MINT_BREAKER_FAILURES = 3
    mint_settings.MINT_BREAKER_COOLDOWN = 10
    client = get_client()
    client.breakers.reset()
    return client


@pytest.fixture
def later(breaker_client: MintClient, monkeypatch) -> list[float]:
    """Moves the breakers' clock: append seconds to it (time is the one thing the tests patch)."""
    offset = [0.0]
    monkeypatch.setattr(breaker_client.breakers, "clock", lambda: time.time() + sum(offset))
    return offset


def fail_until_open(sandbox, client: MintClient) -> None:
    sandbox.add_fault(path=STEP_TYPES, status=503)
    for _ in range(3):
        with pytest.raises(errors.MintServerError):
            client.list_step_types()


def test_it_opens_after_repeated_failures_and_then_fails_fast_without_calling_mint(sandbox, breaker_client) -> None:
    fail_until_open(sandbox, breaker_client)
    assert sandbox.count("listStepTypes") == 3

    started = time.monotonic()
    for _ in range(20):
        with pytest.raises(errors.MintCircuitOpenError) as caught:
            breaker_client.list_step_types()

    assert time.monotonic() - started < 1.0
    assert sandbox.count("listStepTypes") == 3
    assert caught.value.request_sent is False and caught.value.retryable
    assert 0 < caught.value.retry_after <= 10
    assert breaker_client.breakers.states()[WORKFLOW_READS] == OPEN


def test_fewer_failures_than_the_threshold_or_a_success_between_keep_it_closed(sandbox, breaker_client) -> None:
    sandbox.add_fault(path=STEP_TYPES, status=503, times=2)
    for _ in range(2):
        with pytest.raises(errors.MintServerError):
            breaker_client.list_step_types()
    assert breaker_client.list_step_types()
    sandbox.add_fault(path=STEP_TYPES, status=503, times=2)
    for _ in range(2):
        with pytest.raises(errors.MintServerError):
            breaker_client.list_step_types()

    assert breaker_client.breakers.states()[WORKFLOW_READS] == CLOSED


def test_refusals_of_one_request_are_not_failures_of_mint(sandbox, breaker_client) -> None:
    for _ in range(5):
        with pytest.raises(errors.MintNotFoundError):
            breaker_client.get_journey("no-such-journey")

    assert breaker_client.breakers.states()[JOURNEY_READS] == CLOSED


def test_after_the_cool_down_one_probe_goes_through_and_its_success_closes_it(sandbox, breaker_client, later) -> None:
    fail_until_open(sandbox, breaker_client)
    sandbox.clear_faults()
    later.append(10)
    assert breaker_client.breakers.states()[WORKFLOW_READS] == HALF_OPEN

    assert breaker_client.list_step_types()
    assert breaker_client.list_step_types()

    assert sandbox.count("listStepTypes") == 5
    assert breaker_client.breakers.states()[WORKFLOW_READS] == CLOSED


def test_a_failed_probe_opens_it_for_another_cool_down(sandbox, breaker_client, later) -> None:
    fail_until_open(sandbox, breaker_client)
    later.append(10)

    with pytest.raises(errors.MintServerError):
        breaker_client.list_step_types()
    with pytest.raises(errors.MintCircuitOpenError):
        breaker_client.list_step_types()

    assert sandbox.count("listStepTypes") == 4
    assert breaker_client.breakers.states()[WORKFLOW_READS] == OPEN


def test_only_one_probe_goes_through_while_half_open(sandbox, breaker_client, later) -> None:
    fail_until_open(sandbox, breaker_client)
    sandbox.clear_faults()
    sandbox.add_fault(path=STEP_TYPES, latency_ms=800, times=1)
    later.append(10)
    outcomes: list[str] = []

    def call() -> None:
        try:
            breaker_client.list_step_types()
            outcomes.append("ok")
        except errors.MintCircuitOpenError:
            outcomes.append("open")

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["ok"] + ["open"] * 5
    assert sandbox.count("listStepTypes") == 4


def test_groups_open_independently(sandbox, breaker_client, suspend_workflow) -> None:
    fail_until_open(sandbox, breaker_client)

    journey = breaker_client.start_journey(suspend_workflow.id)
    assert breaker_client.get_journey(journey.journey_id).id == journey.journey_id
    states = breaker_client.breakers.states()
    assert (states[WORKFLOW_READS], states[JOURNEY_READS], states[WRITES]) == (OPEN, CLOSED, CLOSED)


def test_another_process_sees_the_breaker_open_and_does_not_call_mint(sandbox, breaker_client) -> None:
    fail_until_open(sandbox, breaker_client)
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PORTAL_RUN_DIR": str(settings.RUN_DIR),
        "CACHE_KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", ""),
        "MINT_BASE_URL": sandbox.base_url, "MINT_TOKEN_URL": sandbox.token_url,
        "MINT_CLIENT_ID": sandbox.client_id, "MINT_CLIENT_SECRET": sandbox.client_secret,
        "MINT_MAX_RETRIES": "0", "MINT_BREAKER_FAILURES": "3", "MINT_BREAKER_COOLDOWN": "10",
    }
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    script = ("import django; django.setup()\n"
              "from mintportal.mint import errors, get_client\n"
              "try:\n    get_client().list_step_types()\nexcept errors.MintCircuitOpenError:\n    print('open')\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60, check=False)

    assert result.stdout.strip() == "open", result.stderr[-2000:]
    assert sandbox.count("listStepTypes") == 3


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(st.sampled_from(["ok", "fail"]), st.floats(min_value=0, max_value=20)),
                      max_size=40))
def test_it_never_lets_a_call_through_while_open_and_opens_after_enough_failures_in_a_row(steps, settings) -> None:
    """An invariant over any sequence of outcomes and pauses, on the breaker alone (local memory cache):
    a call is admitted only while closed, or as the single probe once the cool-down has passed; and the
    threshold's worth of failures in a row within the window always leaves it open."""
    settings.CACHES = {**settings.CACHES, "breaker-test": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                           "LOCATION": "breaker-invariant"}}
    caches["breaker-test"].clear()
    config = MintConfig(base_url="http://mint.invalid", token_url="http://mint.invalid/token", client_id="c",
                        client_secret="s", breaker_failures=3, breaker_window=30, breaker_cooldown=10)
    now = [1000.0]
    breakers = CircuitBreakers(config, cache_alias="breaker-test", clock=lambda: now[0])
    streak, streak_started, open_until = 0, None, None
    for item in steps:
        if isinstance(item, float):
            now[0] += item
            continue
        probing = open_until is not None and now[0] >= open_until
        try:
            ticket = breakers.admit(LIST_STEP_TYPES)
        except errors.MintCircuitOpenError:
            assert open_until is not None and (now[0] < open_until or not probing)
            continue
        assert open_until is None or probing
        if item == "ok":
            breakers.succeeded(ticket)
            streak, streak_started, open_until = 0, None, None
        else:
            breakers.failed(ticket, errors.MintServerError("down", status=503))
            if probing:
                open_until = now[0] + 10
                continue
            if streak_started is None or now[0] - streak_started > 30:
                streak, streak_started = 0, now[0]
            streak += 1
            if streak >= 3:
                open_until = now[0] + 10
        expected = CLOSED if open_until is None else (OPEN if now[0] < open_until else HALF_OPEN)
        assert breakers.states()[WORKFLOW_READS] == expected
    assert breakers.states()[JOURNEY_READS] == CLOSED
    breakers.admit(GET_JOURNEY)
    breakers.admit(START_JOURNEY)


def test_a_timeout_caused_by_the_pages_earlier_calls_does_not_count_against_mint(sandbox, breaker_client,
                                                                                 mint_settings) -> None:
    mint_settings.MINT_BREAKER_FAILURES = 1
    mint_settings.MINT_WEB_TIMEOUT = 1.0
    client = get_client()
    client.list_step_types()
    sandbox.add_fault(path=STEP_TYPES, latency_ms=700)

    with time_budget(1.0):
        client.list_step_types()
        with pytest.raises(errors.MintTimeoutError):
            client.list_step_types()

    assert client.breakers.states()[WORKFLOW_READS] == CLOSED
