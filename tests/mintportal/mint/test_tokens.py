"""Access tokens: fetched once, shared by threads and processes, renewed near expiry, replaced once on a 401."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from mintportal.mint import MintClient, errors, get_client
from tests.sandbox_process import ROOT


def test_calls_share_one_token(sandbox, own_credentials) -> None:
    own_credentials()
    client = get_client()

    for _ in range(3):
        client.list_workflows(limit=1)

    assert sandbox.count("token") == 1
    assert sandbox.count("listWorkflows") == 3


def test_threads_of_one_process_fetch_one_token(sandbox, own_credentials) -> None:
    own_credentials()
    client = get_client()

    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(lambda _: client.list_workflows(limit=1), range(24)))

    assert len(pages) == 24
    assert sandbox.count("token") == 1


def test_a_token_near_expiry_is_renewed_once(sandbox, own_credentials) -> None:
    own_credentials()
    client = get_client()
    offset = 0.0
    client.tokens.clock = lambda: time.time() + offset
    client.list_workflows(limit=1)

    # 600 s tokens are renewed when less than 60 s (10%) are left.
    offset = 545.0
    client.list_workflows(limit=1)
    client.list_workflows(limit=1)

    assert sandbox.count("token") == 2


def test_a_revoked_token_is_replaced_and_the_call_retried_once(sandbox, own_credentials) -> None:
    own_credentials()
    client = get_client()
    client.list_workflows(limit=1)
    sandbox.revoke_tokens()

    client.list_workflows(limit=1)

    assert sandbox.count("token") == 2
    assert sandbox.count("listWorkflows") == 3


def test_a_second_401_reaches_the_caller_after_exactly_one_new_token(sandbox, own_credentials) -> None:
    own_credentials()
    client = get_client()
    sandbox.add_fault(path=r"^/mint/workflows$", method="GET", status=401)

    with pytest.raises(errors.MintAuthenticationError) as caught:
        client.list_workflows()

    assert caught.value.status == 401 and caught.value.operation == "listWorkflows"
    assert sandbox.count("listWorkflows") == 2
    assert sandbox.count("token") == 2


def test_a_start_journey_with_a_revoked_token_starts_one_journey(sandbox, own_credentials, suspend_workflow) -> None:
    own_credentials()
    client: MintClient = get_client()
    workflow_id = suspend_workflow.id
    client.list_workflows(limit=1)
    sandbox.revoke_tokens()
    sandbox.reset_counters()

    started = client.start_journey(workflow_id)

    assert started.journey_id
    assert sandbox.count("startJourney") == 2
    assert sandbox.count("token") == 1
    assert client.get_journey(started.journey_id).workflow_id == workflow_id


class Worker:
    """A portal process running tests/mintportal/mint/token_worker.py, driven line by line."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.mintportal.mint.token_worker"],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def expect(self, answer: str) -> None:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line != answer:
            self.process.kill()
            stderr = self.process.stderr.read() if self.process.stderr else ""
            raise AssertionError(f"worker answered {line!r}: {stderr}")

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run_two_processes(sandbox, cache_env: dict[str, str]) -> list[int]:
    """Two processes share one cache; both make concurrent calls, then both step past the renewal time
    and call again. Returns the sandbox's token count after each round."""
    client_id = f"tests-{uuid.uuid4().hex[:12]}"
    client_secret = f"secret-{uuid.uuid4().hex}"
    sandbox.add_client(client_id, client_secret, ["Flow Viewer", "Flow Editor"])
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "MINT_BASE_URL": sandbox.base_url,
           "MINT_TOKEN_URL": sandbox.token_url, "MINT_CLIENT_ID": client_id, "MINT_CLIENT_SECRET": client_secret,
           **cache_env}
    workers = [Worker(env), Worker(env)]
    counts = []
    try:
        for worker in workers:
            worker.expect("ready")
        for command in ("call 4", "advance 545", "call 4"):
            for worker in workers:
                worker.send(command)
            for worker in workers:
                worker.expect("ok")
            if command.startswith("call"):
                counts.append(sandbox.count("token"))
    finally:
        for worker in workers:
            worker.close()
    return counts


def test_two_processes_sharing_a_file_cache_fetch_one_token_per_expiry(sandbox, tmp_path) -> None:
    env = {"PORTAL_RUN_DIR": str(tmp_path), "REDIS_URL": ""}

    assert run_two_processes(sandbox, env) == [1, 2]


def test_two_processes_sharing_redis_fetch_one_token_per_expiry(sandbox, tmp_path, redis_url: str) -> None:
    env = {"PORTAL_RUN_DIR": str(tmp_path), "REDIS_URL": redis_url, "CACHE_KEY_PREFIX": f"tests-{uuid.uuid4().hex[:8]}"}

    assert run_two_processes(sandbox, env) == [1, 2]
