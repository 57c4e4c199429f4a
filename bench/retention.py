"""The retention benchmark (issue 16): ``.venv/bin/python -m bench.retention``.

Fills a throw-away database (``BENCH_RETENTION_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/mintportal_bench_retention``, dropped and created) with ``--journeys`` ended
journeys past their retention over 20 workflows (five of them with a rule of their own), each with pseudonymised
data (a national id, a name and free input), its ``PersonalValue`` rows, a name holding the person's name, and a
launch with the input for every tenth; plus ``--journeys // 5`` journeys retention must leave alone (still
running, or ended inside their retention). Then it times a full retention run (every batch, as the beat task
runs it until nothing is due), ``--repeat`` times from the same copy of the tables, and a second run that finds
nothing, with and without the partial index ``journey_retention_due`` (journeys migration 0013), and prints the
plan PostgreSQL chooses for one batch.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from bench.common import timed
from bench.world import database_only_setup

WORKFLOWS = 20
BATCH = 5000
PEOPLE = 2000
NOW = datetime(2026, 12, 1, tzinfo=UTC)
# The tables a run changes, copied once after the fill and restored before each timed run.
TABLES = ("journeys_journey", "journeys_personalvalue", "launches_launch")
INDEX = "journey_retention_due"


def fill(*, journeys: int) -> None:
    """Mirror rows, personal value rows and launches (large INSERTs; fast, not realistic)."""
    from journeys.models import Journey, JourneyStatus, PersonalValue
    from launches.models import Launch, LaunchStatus
    from privacy.masking import PersonalField, hashes_in, pseudonymise
    from privacy.models import RetentionRule

    fields = [PersonalField("input.nationalId", "national_id"), PersonalField("input.fullName", "name")]
    # A pool of people, pseudonymised once: the markers are what the mirror would hold.
    people = []
    for person in range(PEOPLE):
        name = f"Kari{person} Nordmann{person}"
        data = pseudonymise({"input": {"nationalId": f"{14038500000 + person:011d}", "fullName": name,
                                       "case": f"C-{person}"}, "steps": {"review": {"score": person % 100}}}, fields)
        people.append((name, data, sorted(hashes_in(data))))
    for workflow in range(5):
        RetentionRule.objects.create(workflow_id=f"wf-{workflow}", days=30 * (workflow + 1), updated_at=NOW)
    kept = journeys // 5
    total = journeys + kept
    for first in range(0, total, BATCH):
        rows: list[Journey] = []
        values: list[PersonalValue] = []
        launches: list[Launch] = []
        for index in range(first, min(total, first + BATCH)):
            name, data, hashes = people[index % PEOPLE]
            due = index < journeys
            # Due journeys ended 200–400 days ago (past every rule); the others are running or ended yesterday.
            ended = NOW - timedelta(days=200 + index % 200, seconds=index) if due else NOW - timedelta(days=1)
            status = (JourneyStatus.FINISHED, JourneyStatus.FAULTED, JourneyStatus.CANCELLED)[index % 3]
            if not due and index % 2:
                status = JourneyStatus.ACTIVE
            end_field = {"finished": "finished_at", "faulted": "faulted_at", "cancelled": "cancelled_at"}.get(status)
            journey_id = f"j-{index:07d}"
            rows.append(Journey(
                id=journey_id, workflow_id=f"wf-{index % WORKFLOWS}", workflow_name="Workflow", version=1,
                status=status, name=f"Onboarding – {name}", created_at=ended - timedelta(hours=1),
                last_executed_at=ended, seen_at=NOW, data=data, **({end_field: ended} if end_field else {}),
            ))
            values.extend(PersonalValue(journey_id=journey_id, hash=value) for value in hashes)
            if index % 10 == 0:
                launches.append(Launch(key=f"bench-{index}", workflow_id=f"wf-{index % WORKFLOWS}",
                                       input=data["input"], journey_url_ttl=60, status=LaunchStatus.STARTED,
                                       created_at=ended, journey_id=journey_id))
        Journey.objects.bulk_create(rows)
        PersonalValue.objects.bulk_create(values)
        Launch.objects.bulk_create(launches)


def snapshot() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"CREATE TABLE bench_copy_{table} AS TABLE {table}")


def restore() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
        for table in TABLES:
            cursor.execute(f"INSERT INTO {table} SELECT * FROM bench_copy_{table}")
        cursor.execute(f"ANALYZE {', '.join(TABLES)}")


def plan() -> str:
    from django.db import connection
    from django.db.models import Q

    from compliance.selectors import retention_due

    query = retention_due(now=NOW)[:1000]
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", params)
        first = "\n".join(f"    {line}" for (line,) in cursor.fetchall())
    # A later batch: the keyset condition on top.
    later = retention_due(now=NOW).filter(Q(ended__gt=NOW - timedelta(days=300)) |
                                          Q(ended=NOW - timedelta(days=300), id__gt="j"),
                                          ended__gte=NOW - timedelta(days=300))[:1000]
    sql, params = later.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (COSTS OFF) {sql}", params)
        keyset = "\n".join(f"    {line}" for (line,) in cursor.fetchall())
    return f"  first batch:\n{first}\n  a later batch (keyset):\n{keyset}"


def run_once() -> tuple[float, int, int]:
    from compliance.services.retention import retention_apply

    started = time.perf_counter()
    run = retention_apply(now=NOW, max_batches=None)
    return time.perf_counter() - started, run.total, run.batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    database_only_setup(name="retention")
    from django.conf import settings
    from django.db import connection

    started = time.perf_counter()
    fill(journeys=args.journeys)
    snapshot()
    restore()
    print(f"database: {connection.display_name}; {args.journeys} due journeys + {args.journeys // 5} to keep, "
          f"batch {settings.RETENTION_BATCH_SIZE}; filled in {time.perf_counter() - started:.1f} s")
    index_sql = _index_sql()
    for with_index in (True, False):
        with connection.cursor() as cursor:
            cursor.execute(index_sql if with_index else f"DROP INDEX IF EXISTS {INDEX}")
        restore()
        print(f"\n== {'with' if with_index else 'without'} the partial index {INDEX}")
        print(plan())
        runs = []
        for _ in range(args.repeat if with_index else 1):
            restore()
            runs.append(run_once())
        seconds = [run[0] for run in runs]
        median = statistics.median(seconds)
        total, batches = runs[0][1], runs[0][2]
        second = statistics.median(timed(lambda: run_once(), 3))
        print(f"full run: median {median:.2f} s of {[round(value, 2) for value in seconds]}, {total} journeys in "
              f"{batches} batches, {total / median:,.0f} rows/s; second run (nothing due): {second * 1000:.1f} ms")
    with connection.cursor() as cursor:
        cursor.execute(index_sql)


def _index_sql() -> str:
    import importlib

    return str(importlib.import_module("journeys.migrations.0013_retention_index").SQL)


if __name__ == "__main__":
    main()
