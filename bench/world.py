"""The benchmarks' world: a sandbox process and its control API, a fresh PostgreSQL database and Redis for the
portal, the portal's environment, gunicorn and Celery workers.

Every script builds its world from these: the scale benchmark (``python -m bench``) over a seeded sandbox, and
``outage`` and ``chaos`` over :func:`small_world`, the sandbox's demo data mirrored.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import uuid
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from bench.common import PYTHON, ROOT, Processes, answers, free_port, log, wait_until

CLIENT_ID = "bench-client"
CLIENT_SECRET = f"bench-{uuid.uuid4().hex}"


class Sandbox:
    """The sandbox process's control API and its Mint API, as the benchmark's API client."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self._token = ""

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.url}/_sandbox/{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def counters(self) -> dict[str, int]:
        return self.control("GET", "counters")

    def token(self) -> str:
        if not self._token:
            response = self.http.post(f"{self.url}/auth/open/connect/token", data={
                "grant_type": "client_credentials", "scope": "signicat-api",
                "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, timeout=30)
            response.raise_for_status()
            self._token = response.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        for _ in range(2):
            headers = {"Authorization": f"Bearer {self.token()}"}
            response = self.http.request(method, f"{self.url}/mint/{path}", headers=headers, timeout=60, **kwargs)
            if response.status_code != 401:
                break
            # The token expired during a long run: fetch a new one once.
            self._token = ""
        return response


def counter_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {op: after.get(op, 0) - before.get(op, 0) for op in after if after.get(op, 0) != before.get(op, 0)}


# --- the sandbox ----------------------------------------------------------------------------------------


def sandbox_env(workdir: Path) -> dict[str, str]:
    """The environment of a sandbox on a free port with its database in ``workdir`` and the control API on."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SANDBOX_", "DJANGO_"))}
    env.update({
        "SANDBOX_DATABASE_PATH": str(workdir / "sandbox.sqlite3"),
        "SANDBOX_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SANDBOX_CLIENT_ID": CLIENT_ID,
        "SANDBOX_CLIENT_SECRET": CLIENT_SECRET,
        "SANDBOX_CONTROL": "true",
    })
    return env


def serve_sandbox(processes: Processes, env: dict[str, str]) -> Sandbox:
    """Serves the sandbox of ``env`` over HTTP and gives the benchmark's API client both roles."""
    url = env["SANDBOX_PUBLIC_URL"]
    processes.start("sandbox", [PYTHON, "-m", "sandbox", "serve", "--host", "127.0.0.1", "--port",
                                str(urlsplit(url).port)], env)
    wait_until(lambda: answers(f"{url}/_sandbox/health"), timeout=120, what="the sandbox")
    sandbox = Sandbox(url)
    sandbox.control("POST", "clients", json={"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
                                             "roles": ["Flow Viewer", "Flow Editor"]})
    return sandbox


# --- the portal -----------------------------------------------------------------------------------------


def prepare_database(url: str) -> None:
    """An empty database at ``url``: a PostgreSQL database dropped and created, or a SQLite file removed."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        Path(parts.path).unlink(missing_ok=True)
        return
    import psycopg

    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def database_only_setup(*, name: str) -> dict[str, str]:
    """Configures this process as a portal process over a fresh, migrated database and nothing else (no sandbox,
    no workers): for benches that time queries. The database is ``BENCH_<NAME>_DATABASE_URL``, by default
    PostgreSQL's ``mintportal_bench_<name>``, dropped and created. Returns the environment, for child processes."""
    url = os.environ.get(f"BENCH_{name.upper()}_DATABASE_URL",
                         f"postgres://postgres@127.0.0.1:5432/mintportal_bench_{name}")
    env = dict(os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE="mintportal.settings", LOG_LEVEL="WARNING")
    env.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    env.setdefault("MINT_CLIENT_ID", "bench")
    env.setdefault("MINT_CLIENT_SECRET", "bench-secret")
    env.setdefault("PORTAL_RUN_DIR", str(ROOT / "var" / f"bench-{name}"))
    Path(env["PORTAL_RUN_DIR"]).mkdir(parents=True, exist_ok=True)
    prepare_database(url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    sys.path.insert(0, str(ROOT))
    django_setup(env)
    return env


def prepare_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def portal_env(args: argparse.Namespace, workdir: Path, sandbox_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINT_", "DJANGO_", "CELERY_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "mintportal.settings",
        "DJANGO_SECRET_KEY": uuid.uuid4().hex,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_COOKIES": "false",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CACHE_KEY_PREFIX": "bench",
        "PORTAL_RUN_DIR": str(workdir / "portal"),
        "LOG_LEVEL": "WARNING",
        "MINT_BASE_URL": f"{sandbox_url}/mint",
        "MINT_TOKEN_URL": f"{sandbox_url}/auth/open/connect/token",
        "MINT_CLIENT_ID": CLIENT_ID,
        "MINT_CLIENT_SECRET": CLIENT_SECRET,
        "MINT_SYNC_OVERLAP_SECONDS": "120",
        "BULK_LAUNCH_CHUNK_SIZE": str(args.chunk_size),
    })
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)


def prepare_portal(args: argparse.Namespace, workdir: Path, sandbox: Sandbox, **settings: str) -> dict[str, str]:
    """A fresh PostgreSQL database (migrated) and Redis for a portal over ``sandbox``; returns the portal's
    environment, with ``settings`` added to it."""
    prepare_database(args.database_url)
    prepare_redis(args.redis_url)
    env = portal_env(args, workdir, sandbox.url) | settings
    migrate(env)
    return env


def run_json(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Runs a probe in a process of its own and returns the JSON object it printed last."""
    completed = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{completed.stdout}\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def django_setup(env: dict[str, str]) -> None:
    """Configures this process as a portal process of the benchmark's world (for direct service calls)."""
    os.environ.update(env)
    import django

    django.setup()


def session_cookie() -> str:
    """A signed-in superuser's session, for the load generators (after :func:`django_setup`)."""
    from django.contrib.auth.models import User
    from django.test import Client

    user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def start_gunicorn(processes: Processes, env: dict[str, str], args: argparse.Namespace) -> tuple[
        subprocess.Popen[bytes], str]:
    """gunicorn over the portal (``--web-workers`` x ``--web-threads``); returns the process and its base URL."""
    port = free_port()
    web = processes.start("gunicorn", [
        str(Path(PYTHON).with_name("gunicorn")), "mintportal.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.web_workers), "--threads", str(args.web_threads), "--worker-class", "gthread",
        "--keep-alive", "30"], env)
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: answers(f"{base}/healthz"), timeout=60, what="gunicorn")
    return web, base


def start_workers(processes: Processes, env: dict[str, str], count: int, tag: str) -> list[subprocess.Popen[bytes]]:
    """``count`` Celery workers (``-P solo`` each, like one container each), once each says it is ready."""
    workers = []
    for index in range(count):
        name = f"worker-{tag}-{index}"
        workers.append(processes.start(name, [
            PYTHON, "-m", "celery", "-A", "mintportal", "worker", "-P", "solo", "-n", f"{name}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"], env))
    for index in range(count):
        log_path = processes.workdir / f"worker-{tag}-{index}.log"
        wait_until(partial(_says_ready, log_path), timeout=120, what=f"worker {tag}-{index} to be ready")
    return workers


def _says_ready(log_path: Path) -> bool:
    return log_path.exists() and b" ready." in log_path.read_bytes()


def small_world(args: argparse.Namespace, processes: Processes, workdir: Path) -> tuple[Sandbox, dict[str, str], str]:
    """Starts the sandbox with its demo data, a fresh PostgreSQL database (``args.database_url``, dropped and
    created) and Redis (``args.redis_url``, flushed), migrates and mirrors Mint (a full sync, then the
    workflows), configures this process as a portal process and starts gunicorn (``args.web_workers`` x
    ``args.web_threads``, the bulkhead at half the threads). Returns the sandbox, the portal's environment and
    the portal's base URL. Shared by ``outage`` and ``chaos``."""
    s_env = sandbox_env(workdir)
    log("the sandbox with its demo data")
    for command in ("migrate", "demo"):
        subprocess.run([PYTHON, "-m", "sandbox", command], cwd=ROOT, env=s_env, check=True, capture_output=True)
    sandbox = serve_sandbox(processes, s_env)
    log("PostgreSQL and Redis, migrate, first sync")
    # The bulkhead as README recommends it: half of each process's threads at most wait on Mint.
    env = prepare_portal(args, workdir, sandbox, MINT_WEB_CONCURRENCY=str(max(1, args.web_threads // 2)))
    run_json([PYTHON, "-m", "bench.probes", "sync", "--full"], env)
    django_setup(env)
    from workflows.sync import workflow_sync

    workflow_sync()
    _web, base = start_gunicorn(processes, env, args)
    return sandbox, env, base
