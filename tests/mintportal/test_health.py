"""Honest health: /healthz (liveness, no I/O), /readyz (what this instance can serve), the 503 page while the
database is down, and the Prometheus metrics at /metrics.

Issue 11: with PostgreSQL stopped for 10 s the portal answered a generic 500 page and /healthz still said ok.
The database test runs a private PostgreSQL (initdb/pg_ctl into a temporary directory, on a free port) and the
portal under gunicorn against it, and stops and starts that PostgreSQL itself.
"""

from __future__ import annotations

import glob
import ipaddress
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.test import Client

from mintportal.mint import errors, get_client, paths
from tests.celery_worker import wait_for
from tests.conftest import require_service
from tests.sandbox_process import ROOT, free_port

HTMX = {"HTTP_HX_REQUEST": "true"}
DB_DOWN = "The portal's database is unavailable; try again shortly"


def test_healthz_answers_at_once_without_touching_the_database(client: Client) -> None:
    # Without the django_db mark any database access fails the test.
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_each_check_and_answers_200_when_pages_can_be_served(client: Client, mint_settings) -> None:
    response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] in {"ok", "degraded"}
    assert {"database", "cache", "broker", "mint", "journey_sync"} <= set(body["checks"])
    assert body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"] and body["checks"]["broker"]["ok"]
    assert body["checks"]["mint"] == {"ok": True, "workflow-reads": "closed", "journey-reads": "closed",
                                      "writes": "closed", "ms": body["checks"]["mint"]["ms"]}


@pytest.mark.django_db
def test_an_open_breaker_degrades_readiness_but_keeps_the_instance_in_service(client: Client, mint_settings,
                                                                               sandbox) -> None:
    mint_settings.MINT_MAX_RETRIES = 0
    mint_settings.MINT_BREAKER_FAILURES = 1
    sandbox.add_fault(path=r"^/mint/step-types$", status=503)
    with pytest.raises(errors.MintServerError):
        get_client().list_step_types()

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["mint"]["workflow-reads"] == "open"


@pytest.mark.django_db
def test_metrics_need_the_token_or_an_allowed_address(client: Client, settings) -> None:
    settings.METRICS_TOKEN = None
    settings.METRICS_ALLOWED_NETWORKS = []
    assert client.get("/metrics").status_code == 404

    settings.METRICS_TOKEN = "metrics-secret"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-secret").status_code == 200

    settings.METRICS_TOKEN = None
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403


@pytest.mark.django_db
def test_metrics_count_mint_calls_requests_by_view_and_breaker_states(client: Client, settings, mint_settings,
                                                                     sandbox) -> None:
    settings.METRICS_TOKEN = "metrics-secret"
    mint_settings.MINT_MAX_RETRIES = 0
    mint_settings.MINT_BREAKER_FAILURES = 2
    sandbox.add_fault(path=r"^/mint/step-types$", status=503)
    for _ in range(3):
        with pytest.raises((errors.MintServerError, errors.MintCircuitOpenError)):
            get_client().list_step_types()
    client.get("/healthz")

    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-secret").content.decode()

    assert f'mintportal_mint_calls_total{{operation="{paths.LIST_STEP_TYPES.name}",outcome="server"}}' in text
    assert f'mintportal_mint_calls_total{{operation="{paths.LIST_STEP_TYPES.name}",outcome="circuit_open"}}' in text
    assert 'mintportal_request_duration_seconds_count{method="GET",view="healthz"}' in text
    assert 'mintportal_mint_breaker_open{group="workflow-reads"} 1.0' in text
    assert 'mintportal_mint_breaker_open{group="journey-reads"} 0.0' in text


# --- PostgreSQL stopped under a running portal -------------------------------------------------------------


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own in a temporary directory, on a free port, trust auth.

    PostgreSQL refuses to run as root, so as root the cluster belongs to (and runs as) the ``postgres`` user.
    """

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *argv: str) -> None:
        subprocess.run([*self.as_user, *argv], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "start")

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def remove(self) -> None:
        subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                        "stop"], check=False, capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bindir = _postgres_bin()
    require_service("PostgreSQL server binaries", bindir is not None, "install postgresql (initdb, pg_ctl)")
    database = PrivatePostgres(bindir)  # type: ignore[arg-type]
    try:
        database.init()
        database.start()
        yield database
    finally:
        database.remove()


@pytest.fixture
def portal_on_private_postgres(private_postgres: PrivatePostgres, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The portal under gunicorn on the private PostgreSQL (migrated, one superuser): (base URL, session id)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MINT_", "DJANGO_", "REDIS_URL"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "mintportal.settings", "DJANGO_SECRET_KEY": "health-test-key",
        "DJANGO_SECURE_COOKIES": "false", "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DATABASE_URL": private_postgres.url,
        "PORTAL_RUN_DIR": str(tmp_path), "MINT_CLIENT_ID": "unused", "MINT_CLIENT_SECRET": "unused",
        "MINT_SYNC_INTERVAL": "0", "LOG_LEVEL": "WARNING",
    })
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True,
                   timeout=300)
    script = ("from django.contrib.auth.models import User\nfrom django.test import Client\n"
              "user = User.objects.create_superuser('root', 'root@example.com', 'x')\n"
              "client = Client()\nclient.force_login(user)\nprint(client.cookies['sessionid'].value)\n")
    session = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True, timeout=120).stdout.strip().splitlines()[-1]
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("ab")
    web = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "mintportal.wsgi", "--bind",
                            f"127.0.0.1:{port}", "--workers", "1", "--threads", "4", "--worker-class", "gthread"],
                           cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return requests.get(f"{base}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_for(answers, timeout=60, message="gunicorn to answer")
        yield base, session
    finally:
        web.terminate()
        web.wait(timeout=30)


def test_with_postgresql_stopped_pages_answer_503_and_readiness_fails_until_it_returns(
    private_postgres: PrivatePostgres, portal_on_private_postgres: tuple[str, str]
) -> None:
    base, session = portal_on_private_postgres
    http = requests.Session()
    http.cookies.set("sessionid", session)
    assert http.get(f"{base}/journeys/", timeout=10).status_code == 200
    # Load balancers ask without a session.
    assert requests.get(f"{base}/readyz", timeout=10).json()["checks"]["database"]["ok"] is True

    private_postgres.stop()

    page = http.get(f"{base}/journeys/", timeout=10)
    region = http.get(f"{base}/journeys/", headers={"HX-Request": "true"}, timeout=10)
    ready = requests.get(f"{base}/readyz", timeout=10)
    began = time.monotonic()
    live = requests.get(f"{base}/healthz", timeout=10)
    for answer in (page, region):
        assert answer.status_code == 503
        assert DB_DOWN in answer.text and "Traceback" not in answer.text
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable" and ready.json()["checks"]["database"]["ok"] is False
    assert live.status_code == 200 and time.monotonic() - began < 0.5

    private_postgres.start()

    wait_for(lambda: requests.get(f"{base}/readyz", timeout=10).status_code == 200, timeout=30,
             message="readiness to return with the database")
    assert http.get(f"{base}/journeys/", timeout=10).status_code == 200


def test_in_multiprocess_mode_a_scrape_sums_the_mint_calls_of_every_process(sandbox, mint_settings,
                                                                          tmp_path: Path) -> None:
    """gunicorn's workers (and Celery's) each count in memory; with PROMETHEUS_MULTIPROC_DIR a scrape of any one
    process reports the sum of all of them."""
    from django.conf import settings

    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PORTAL_RUN_DIR": str(settings.RUN_DIR),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "MINT_BASE_URL": sandbox.base_url,
        "MINT_TOKEN_URL": sandbox.token_url, "MINT_CLIENT_ID": sandbox.client_id,
        "MINT_CLIENT_SECRET": sandbox.client_secret,
    }
    call = "import django; django.setup()\nfrom mintportal.mint import get_client\nget_client().list_step_types()\n"
    scrape = ("import django; django.setup()\nfrom mintportal.metrics import _exposition\n"
              "print(_exposition().decode())\n")
    for _ in range(2):
        subprocess.run([sys.executable, "-c", call], cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
    text = subprocess.run([sys.executable, "-c", scrape], cwd=ROOT, env=env, check=True, capture_output=True,
                          text=True, timeout=60).stdout

    assert f'mintportal_mint_calls_total{{operation="{paths.LIST_STEP_TYPES.name}",outcome="ok"}} 2.0' in text
