"""``python -m sandbox``: strict settings, kept-alive connections and a clean stop on SIGTERM."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sandbox_process import ROOT, SandboxProcess


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("SANDBOX_TOKEN_TTL", "0", "SANDBOX_TOKEN_TTL must be between 1 and 3600"),
    ("SANDBOX_CONTROL", "maybe", "SANDBOX_CONTROL must be true or false"),
    ("SANDBOX_CLIENT_SECRET", "", "SANDBOX_CLIENT_SECRET must be set"),
    ("SANDBOX_PUBLIC_URL", "ftp://x", "SANDBOX_PUBLIC_URL must be an http(s) URL"),
])
def test_a_bad_setting_stops_start_up_naming_the_variable(tmp_path: Path, variable: str, value: str,
                                                          message: str) -> None:
    env = {**os.environ, "SANDBOX_DATABASE_PATH": str(tmp_path / "db.sqlite3"), "SANDBOX_CLIENT_ID": "c",
           "SANDBOX_CLIENT_SECRET": "s", variable: value}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "-m", "sandbox", "migrate"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    process = SandboxProcess(workdir=tmp_path)
    process.start()
    assert process.process is not None
    process.process.terminate()
    assert process.process.wait(timeout=10) == 0
    assert "Mint sandbox stopped" in process.log_tail()


def test_serve_keeps_a_connection_alive_between_requests(sandbox: SandboxProcess) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
    try:
        connection.request("GET", "/_sandbox/health")
        first = connection.getresponse()
        first.read()
        socket_used = connection.sock

        connection.request("POST", "/mint/workflows", body=b"{}", headers={"Content-Type": "application/json"})
        second = connection.getresponse()
        second.read()

        assert first.status == 200
        assert second.status == 401
        assert socket_used is not None
        assert connection.sock is socket_used
    finally:
        connection.close()
