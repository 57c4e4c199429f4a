"""Starts the sandbox as a real process on a free loopback port and drives its control API.

Tests reach the sandbox only over HTTP, as the portal does. The control endpoints under /_sandbox/
(faults, counters, clock, clients, webhooks) are the sandbox's test extension, documented in README.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SandboxProcess:
    """A running sandbox and the credentials of its API client with both Mint roles."""

    workdir: Path
    client_id: str = "tests-client"
    client_secret: str = "tests-client-secret"
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/mint"

    @property
    def token_url(self) -> str:
        return f"{self.root_url}/auth/open/connect/token"

    @property
    def log_path(self) -> Path:
        return self.workdir / "sandbox.log"

    def start(self, timeout: float = 60.0) -> None:
        self.port = self.port or free_port()
        env = {
            **os.environ,
            "SANDBOX_DATABASE_PATH": str(self.workdir / "sandbox.sqlite3"),
            "SANDBOX_CONTROL": "true",
            "SANDBOX_PUBLIC_URL": self.root_url,
            "SANDBOX_CLIENT_ID": self.client_id,
            "SANDBOX_CLIENT_SECRET": self.client_secret,
            **self.extra_env,
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"sandbox exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if self.http.get(f"{self.root_url}/_sandbox/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"sandbox did not answer within {timeout}s:\n{self.log_tail()}")
            # Polling for readiness of a child process: the one place a short pause is the right tool.
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    # --- the control API -------------------------------------------------------------------

    def control(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.http.request(method, f"{self.root_url}/_sandbox/{path.lstrip('/')}", timeout=10, **kwargs)
        response.raise_for_status()
        return response

    def reset(self) -> None:
        """Clears faults, counters, config overrides, webhooks and the clock offset; keeps data."""
        self.control("POST", "reset")

    def counters(self) -> dict[str, int]:
        return self.control("GET", "counters").json()

    def count(self, operation: str) -> int:
        return self.counters().get(operation, 0)

    def reset_counters(self) -> None:
        self.control("DELETE", "counters")

    def add_fault(self, *, path: str, method: str | None = None, status: int | None = None,
                  latency_ms: int = 0, retry_after: int | None = None, times: int | None = None) -> str:
        body = {"path": path, "method": method, "status": status, "latencyMs": latency_ms,
                "retryAfter": retry_after, "times": times}
        return self.control("POST", "faults", json=body).json()["id"]

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    def add_client(self, client_id: str, client_secret: str, roles: list[str]) -> None:
        self.control("POST", "clients", json={"clientId": client_id, "clientSecret": client_secret, "roles": roles})

    def set_config(self, **values: Any) -> None:
        self.control("PUT", "config", json=values)

    def revoke_tokens(self) -> None:
        self.control("POST", "tokens/revoke")

    def advance_clock(self, seconds: float) -> str:
        return self.control("POST", "clock", json={"advance": seconds}).json()["now"]

    def freeze_clock(self) -> str:
        """Stops real time for the sandbox until the next reset: only advance_clock moves it then."""
        return self.control("POST", "clock", json={"advance": 0, "freeze": True}).json()["now"]

    # --- plain API calls, for arranging data in tests ---------------------------------------

    def token(self, client_id: str | None = None, client_secret: str | None = None) -> str:
        response = self.http.post(self.token_url, data={
            "grant_type": "client_credentials", "scope": "signicat-api",
            "client_id": client_id or self.client_id, "client_secret": client_secret or self.client_secret,
        }, timeout=10)
        response.raise_for_status()
        return response.json()["access_token"]

    def api(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.token()}", **kwargs.pop("headers", {})}
        return self.http.request(method, f"{self.base_url}/{path.lstrip('/')}", headers=headers, timeout=30, **kwargs)
