"""The plumbing every benchmark script shares (bench/common.py): its run directory and its threads released at once."""

from __future__ import annotations

import argparse
import json
import shutil
import threading
from pathlib import Path

import pytest

from bench import common


def test_a_run_keeps_what_it_measured_and_stops_its_processes_when_it_fails() -> None:
    args = argparse.Namespace(clients=3, sandbox_db=Path("/tmp/seeded.sqlite3"))
    workdir = None
    try:
        with pytest.raises(RuntimeError), common.run("test", args) as run:
            workdir = run.workdir
            sleeper = run.processes.start("sleeper", [common.PYTHON, "-c", "import time; time.sleep(60)"], {})
            run.results["measured"] = 42
            raise RuntimeError("the world fell over")
        assert workdir is not None and workdir.name.startswith("test-")
        results = json.loads((workdir / "results.json").read_text())
        assert results["measured"] == 42
        assert results["args"] == {"clients": 3, "sandbox_db": "/tmp/seeded.sqlite3"}
        assert set(results) >= {"started_at", "machine"}
        assert sleeper.poll() is not None
    finally:
        if workdir is not None:
            shutil.rmtree(workdir)


def test_threads_run_together_once_each() -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        with lock:
            seen.append(index)

    seconds = common.run_together(work, 5)
    assert sorted(seen) == [0, 1, 2, 3, 4]
    assert seconds >= 0


def test_every_script_takes_the_world_options() -> None:
    args = common.parser("python -m bench x", "Doc.").parse_args(["--web-threads", "8"])
    assert (args.web_workers, args.web_threads, args.chunk_size) == (2, 8, 50)
    assert args.database_url and args.redis_url
