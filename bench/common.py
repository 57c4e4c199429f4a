"""What every benchmark script shares: its log line, waiting for a condition, free ports, a description of the
machine, the child processes it starts, the options naming the world's PostgreSQL, Redis and web server, and the
run directory its results go to (``bench/results/<kind>-<timestamp>/``: results.json, results.md, the logs)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], object], *, timeout: float, what: str, interval: float = 0.2) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 (a health check while a server starts)."""
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory": memory, "python": platform.python_version(),
            "system": platform.platform()}


def run_together(work: Callable[[int], object], count: int) -> float:
    """Runs ``work(0)`` … ``work(count - 1)`` in threads released at the same moment; returns the seconds from
    that moment until the last one finished."""
    start_line = threading.Barrier(count + 1)

    def worker(index: int) -> None:
        start_line.wait()
        work(index)

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


@dataclass
class Processes:
    """Child processes of the run, stopped (by their own pid) when the run ends."""

    workdir: Path
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log_file = (self.workdir / f"{name}.log").open("ab")
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        self.children.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes], *, kill: bool = False) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop_all(self) -> None:
        for process in reversed(self.children):
            self.stop(process)


def parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """A script's parser with the options of the world it builds: PostgreSQL (dropped and created), Redis
    (flushed), gunicorn's layout and the bulk launch chunk size the portal runs with."""
    parser = argparse.ArgumentParser(prog=prog, description=(doc or "").splitlines()[0])
    # One gunicorn process per core, with threads to cover the waits on PostgreSQL and Redis; more processes
    # than cores only add context switches (3 x 2 gave p95 89 ms where 2 x 4 gave 59 ms, same run).
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--chunk-size", type=int, default=50)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mintportal_bench"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    return parser


@dataclass
class Run:
    """One run: its directory, its child processes and the results written there when it ends."""

    workdir: Path
    processes: Processes
    results: dict[str, Any]

    def publish(self, table: str) -> None:
        """Writes the Markdown table beside results.json and prints it."""
        (self.workdir / "results.md").write_text(table + "\n")
        print("\n" + table)
        log(f"results in {self.workdir}")


@contextmanager
def run(kind: str, args: argparse.Namespace) -> Iterator[Run]:
    """A run directory ``bench/results/<kind>-<timestamp>/`` (the scale benchmark's ``kind`` is empty), with
    ``started_at``, the machine and the options in its results; whatever happens, the child processes are
    stopped and results.json holds what was measured so far."""
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    stamp = started_at.replace(":", "")
    workdir = ROOT / "bench" / "results" / (f"{kind}-{stamp}" if kind else stamp)
    (workdir / "portal").mkdir(parents=True, exist_ok=True)
    current = Run(workdir, Processes(workdir), {"started_at": started_at, "machine": machine(),
                                                "args": {k: str(v) if isinstance(v, Path) else v
                                                         for k, v in vars(args).items()}})
    try:
        yield current
    finally:
        current.processes.stop_all()
        (workdir / "results.json").write_text(json.dumps(current.results, indent=2, default=str))


def timed(call: Callable[[], Any], repeat: int) -> list[float]:
    """The seconds each of ``repeat`` calls of ``call`` took, one after another."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` (0–1) of ``values`` lie: the nearest rank, no interpolation."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
