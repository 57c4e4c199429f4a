"""The suite's markers come from the fixtures a test uses (tests/conftest.py), so a new test cannot forget them
and `make test-fast` (everything unmarked) never starts the sandbox, a worker, Chromium, Redis or PostgreSQL."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_MARKERS, SANDBOX_TESTS, pytest_collection_modifyitems

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class CollectedTest:
    """What the hook reads of a collected test: its fixtures (with their dependencies) and its file."""

    fixturenames: list[str]
    path: Path = ROOT / "tests" / "accounts" / "test_example.py"
    markers: list[str] = field(default_factory=list)

    def add_marker(self, marker: str) -> None:
        self.markers.append(marker)


def marked(*fixtures: str, path: Path = CollectedTest.path) -> list[str]:
    test = CollectedTest(fixturenames=list(fixtures), path=path)
    pytest_collection_modifyitems([test])  # type: ignore[list-item]  # the hook reads only these attributes
    return test.markers


@pytest.mark.parametrize(("fixtures", "markers"), [
    (("client", "db"), []),
    (("mint_settings", "sandbox", "sandbox_process"), ["sandbox"]),
    (("celery_worker", "celery_worker_process", "sandbox_process"), ["sandbox", "worker"]),
    (("browser_page", "chromium"), ["browser"]),
    (("redis_server",), ["needs_redis"]),
    (("redis_cache", "redis_url"), ["needs_redis"]),
    (("postgresql",), ["needs_postgres"]),
])
def test_a_test_is_marked_by_the_fixtures_it_uses(fixtures: tuple[str, ...], markers: list[str]) -> None:
    assert sorted(marked(*fixtures)) == markers


def test_the_sandboxs_own_tests_are_marked_sandbox_whatever_they_use() -> None:
    assert marked("tmp_path", path=SANDBOX_TESTS / "test_example.py") == ["sandbox"]


def test_every_marker_set_is_declared_with_strict_markers_on() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    declared = {line.split(":", 1)[0] for line in options["markers"]}

    assert "--strict-markers" in options["addopts"]
    assert {*FIXTURE_MARKERS.values(), "sandbox", "slow"} <= declared


def test_the_fast_lane_leaves_out_every_declared_marker() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    declared = {line.split(":", 1)[0] for line in options["markers"]}
    fast = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("FAST_TESTS :="))

    assert {f"not {marker}" for marker in declared} <= {part.strip() for part in fast.split(":=", 1)[1].split(" and ")}
