"""The chaos soak's harness (``python -m bench chaos``, bench/chaos.py) runs end to end on a tiny configuration.

A few seconds of load with a fault and a worker kill every few seconds, against a private Redis the test starts
and a throw-away PostgreSQL database beside the suite's: proof that the soak builds its world, injects, drains and
reports, not a measurement (bench/README.md, "Chaos soak", has those).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import require_service
from tests.redis_server import RedisServer
from tests.sandbox_process import ROOT

pytestmark = [pytest.mark.needs_postgres, pytest.mark.needs_redis]


@pytest.fixture
def scratch_database() -> str:
    url = os.environ.get("DATABASE_URL", "")
    require_service("PostgreSQL", url.startswith("postgres"), "set DATABASE_URL to a PostgreSQL server")
    parts = urlsplit(url)
    return parts._replace(path=f"/chaos_smoke_{uuid.uuid4().hex[:8]}").geturl()


def test_the_chaos_soak_reports_every_figure_and_exits_by_the_bar(
    scratch_database: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    import psycopg

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MINT_", "DATABASE_", "REDIS_"))}
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "bench", "chaos", "--minutes", "0.25", "--every", "6", "--seed", "7",
             "--clients", "3", "--rate", "2", "--workers", "1", "--drain", "40",
             "--database-url", scratch_database, "--redis-url", redis_server.url],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False,
        )
    finally:
        admin = urlsplit(scratch_database)._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{urlsplit(scratch_database).path[1:]}" WITH (FORCE)')
    output = completed.stdout + completed.stderr
    assert "seed 7" in output
    found = re.search(r"results in (\S+)", output)
    assert found, output[-3000:]
    results = json.loads((Path(found.group(1)) / "results.json").read_text())
    assert results["seed"] == 7
    assert results["requests"] > 0 and set(results["pages"]) == {"journeys list", "inbox", "journey page",
                                                                   "dashboard"}
    assert results["launches_requested"] > 0
    assert [event["event"] for event in results["events"]], "no fault or kill was injected"
    assert any(event["event"] == "worker SIGKILL" for event in results["events"])
    # Exactly once towards Mint and no 5xx hold even in a few seconds; the exit code follows the bar.
    assert results["duplicates"] == 0
    assert results["errors"]["portal_5xx"] == 0
    assert completed.returncode == (1 if results["bar_missed"] else 0), output[-3000:]
