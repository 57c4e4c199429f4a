"""Logs as JSON lines (``PORTAL_LOG_FORMAT=json``): every line a process writes to stderr is one JSON object
with time, level, logger and message, plus the message's ``key=value`` pairs; never a secret.

Each case runs the portal as its own process (a management command, a Celery worker, beat), since logging is
configured once per process at start-up.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mintportal.logs import JsonLinesFormatter
from tests.sandbox_process import SandboxProcess, free_port

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A process of its own: its run directory (SQLite file, file cache, filesystem broker), no Redis."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PORTAL_RUN_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}", **overrides}
    env.pop("REDIS_URL", None)
    return env


def _json_lines(stderr: str, *, command_output: str = "") -> list[dict]:
    """Every stderr line parsed; a line starting with ``command_output`` is the command's own message."""
    lines = [line for line in stderr.splitlines()
             if line.strip() and not (command_output and line.startswith(command_output))]
    assert lines, "the process logged nothing"
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"a log line is not JSON: {line!r}")
    for entry in parsed:
        assert {"time", "level", "logger", "message"} <= entry.keys(), entry
    return parsed


def _mint_check(tmp_path: Path, sandbox: SandboxProcess, secret: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "mint_check"], check=False, cwd=ROOT, capture_output=True, text=True,
        timeout=60,
        env=_env(tmp_path, MINT_BASE_URL=sandbox.base_url, MINT_TOKEN_URL=sandbox.token_url,
                 MINT_CLIENT_ID=sandbox.client_id, MINT_CLIENT_SECRET=secret, MINT_MAX_RETRIES="0", **env),
    )


def test_a_command_logs_json_lines_with_the_trace_id_as_a_field_and_never_the_secret(
    tmp_path: Path, sandbox: SandboxProcess
) -> None:
    secret = f"wrong-secret-{uuid.uuid4().hex}"

    result = _mint_check(tmp_path, sandbox, secret, PORTAL_LOG_FORMAT="json")

    # mint_check ends by printing why it failed (a CommandError, not a log record).
    entries = _json_lines(result.stderr, command_output="CommandError: ")
    failed = [entry for entry in entries if entry["message"].startswith("mint call failed")]
    assert failed, entries
    assert failed[0]["level"] == "WARNING"
    assert failed[0]["logger"].startswith("mintportal.mint")
    assert failed[0]["status"] == "401"
    assert failed[0]["trace_id"] and f"trace_id={failed[0]['trace_id']}" in failed[0]["message"]
    assert secret not in result.stderr + result.stdout


def test_text_stays_the_default_format(tmp_path: Path, sandbox: SandboxProcess) -> None:
    result = _mint_check(tmp_path, sandbox, "wrong-secret")

    lines = [line for line in result.stderr.splitlines() if "mint call failed" in line]
    assert lines
    assert " WARNING mintportal.mint" in lines[0]
    assert not lines[0].startswith("{")


def test_an_unknown_log_format_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "manage.py", "check"], check=False, cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env=_env(tmp_path, PORTAL_LOG_FORMAT="yaml"))

    assert result.returncode != 0
    assert "PORTAL_LOG_FORMAT must be one of text, json, got 'yaml'" in result.stderr


@pytest.fixture
def celery_process(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen, Path]]]:
    """Starts ``celery -A mintportal <args>`` with JSON logs; the fixture stops what it started."""
    started: list[subprocess.Popen] = []

    def start(*args: str) -> tuple[subprocess.Popen, Path]:
        stderr = tmp_path / f"{args[0]}-{len(started)}.stderr"
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "mintportal", *args], cwd=ROOT,
            env=_env(tmp_path, PORTAL_LOG_FORMAT="json", MINT_SYNC_INTERVAL="0", MINT_SWEEP_INTERVAL="0"),
            stdout=subprocess.DEVNULL, stderr=stderr.open("wb"),
        )
        started.append(process)
        return process, stderr

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for(path: Path, text: str, process: subprocess.Popen, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        content = path.read_text(errors="replace")
        if text in content:
            return content
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{text!r} not logged (exit code {process.returncode}):\n{content[-3000:]}")
        time.sleep(0.05)


@pytest.mark.slow
def test_a_celery_worker_logs_json_lines(celery_process) -> None:
    # A queue of its own: the worker takes nothing another test queued.
    process, stderr = celery_process("worker", "-P", "solo", "-n", f"logs-{uuid.uuid4().hex[:6]}@%h",
                                     "-Q", "logging-test", "--without-gossip", "--without-mingle",
                                     "--without-heartbeat", "-l", "INFO")

    content = _wait_for(stderr, " ready.", process)

    entries = _json_lines(content)
    assert any(entry["message"].endswith(" ready.") and entry["logger"].startswith("celery") for entry in entries)


@pytest.mark.slow
def test_celery_beat_logs_json_lines(celery_process, tmp_path: Path) -> None:
    process, stderr = celery_process("beat", "-s", str(tmp_path / "beat-schedule"), "-l", "INFO")

    content = _wait_for(stderr, "Starting", process)

    entries = _json_lines(content)
    assert any(entry["logger"].startswith("celery.beat") for entry in entries)


@given(message=st.text(), level=st.sampled_from([logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR]),
       extra=st.dictionaries(st.from_regex(r"[a-z]{1,8}_x", fullmatch=True),
                             st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none())))
def test_every_record_is_one_line_of_json_that_keeps_its_message(message: str, level: int, extra: dict) -> None:
    record = logging.LogRecord("mintportal.test", level, __file__, 1, "%s", (message,), None)
    record.__dict__.update(extra)

    line = JsonLinesFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == message
    assert entry["level"] == logging.getLevelName(level)
    assert entry["logger"] == "mintportal.test"


def test_objects_attached_to_a_record_stay_out_of_the_line() -> None:
    class Request:
        def __repr__(self) -> str:
            return "<WSGIRequest: GET '/journeys/?token=leaked-value'>"

    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/journeys/",),
                               None)
    record.__dict__.update(request=Request(), data={"args": "leaked-value"}, status_code=404)

    entry = json.loads(JsonLinesFormatter().format(record))

    assert entry["status_code"] == 404
    assert "leaked-value" not in json.dumps(entry)


@pytest.mark.slow
def test_gunicorn_and_the_web_requests_log_json_lines(tmp_path: Path) -> None:
    port = free_port()
    stdout, stderr = tmp_path / "web.stdout", tmp_path / "web.stderr"
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "mintportal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--access-logfile", "-"],
        cwd=ROOT, env=_env(tmp_path, PORTAL_LOG_FORMAT="json"), stdout=stdout.open("wb"), stderr=stderr.open("wb"),
    )
    try:
        _wait_for(stderr, "Booting worker", web)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz?probe=1", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page", timeout=5)
        _wait_for(stdout, "/no-such-page", web)
        _wait_for(stderr, "Not Found", web)
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(timeout=20)

    errors = _json_lines(stderr.read_text())
    access = _json_lines(stdout.read_text())
    assert any(entry["logger"] == "gunicorn.error" for entry in errors)
    not_found = [entry for entry in errors if entry["logger"] == "django.request"]
    assert not_found[0]["status_code"] == 404
    assert any("GET /healthz " in entry["message"] for entry in access)
    # The access log names paths without their query strings (gunicorn.conf.py): an address can hold a person's
    # value, such as a national id typed into the journeys list's exact search.
    assert not any("probe" in entry["message"] or "probe" in entry for entry in access)
