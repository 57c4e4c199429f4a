"""Measurements that must run in a process of their own, so that its peak memory is theirs alone.

    python -m bench.probes sync [--full]     one journey sync; prints its result, seconds and peak RSS
    python -m bench.probes upload CSV WORKFLOW_ID
                                             streams a CSV into a bulk launch; prints its id, seconds, peak RSS
    python -m bench.probes churn --count N --every S --seconds T
                                             every S seconds continues N waiting journeys in Mint and runs an
                                             incremental sync, for T seconds (live activity during a load test)

The environment (DATABASE_URL, REDIS_URL, MINT_*) is the benchmark's, set by ``python -m bench``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _setup() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mintportal.settings")
    django.setup()


def probe_sync(full: bool) -> dict[str, object]:
    from journeys.services.sync import journey_sync

    baseline = _peak_rss_mb()
    began = time.perf_counter()
    result = journey_sync(full=full)
    return {**result.as_dict(), "wall_seconds": round(time.perf_counter() - began, 3),
            "peak_rss_mb": round(_peak_rss_mb(), 1), "rss_before_mb": round(baseline, 1)}


def probe_upload(csv_path: str, workflow_id: str) -> dict[str, object]:
    from django.contrib.auth.models import User

    from launches.services import bulk_launch_upload
    from workflows.selectors import workflow_get

    parameters = [parameter.name for parameter in workflow_get(workflow_id=workflow_id).input_parameters]
    actor = User.objects.get(username="bench")
    baseline = _peak_rss_mb()
    began = time.perf_counter()
    with open(csv_path, "rb") as file:
        bulk = bulk_launch_upload(workflow_id=workflow_id, parameters=parameters, file=file, filename="bench.csv",
                                  journey_url_ttl=3600, actor=actor)
    return {"bulk_id": str(bulk.id), "rows": bulk.row_count, "invalid": bulk.invalid_count,
            "seconds": round(time.perf_counter() - began, 3), "peak_rss_mb": round(_peak_rss_mb(), 1),
            "rss_before_mb": round(baseline, 1)}


# The step at which the seeded address-change journeys wait to be continued by hand, and what continues it.
WAITING_STEP = "verify"
WAITING_INPUT = {"ok": True}


def waiting_journey_ids(count: int) -> list[str]:
    """Up to ``count`` mirrored journeys, at random, waiting at the seeded address-change workflows' ``verify``
    step: the ones a benchmark can continue to make the mirror change."""
    from journeys.models import Journey

    waiting = Journey.objects.filter(status="active", workflow_name__icontains="address").order_by("?")
    return list(waiting.values_list("id", flat=True)[:count])


def probe_churn(count: int, every: float, seconds: float) -> dict[str, object]:
    """Continues ``count`` journeys waiting at the seeded address-change workflows' "verify" step, then syncs,
    every ``every`` seconds: what case handlers and the beat schedule do to the mirror all day."""
    from journeys.services.sync import journey_sync
    from mintportal.mint import get_client

    client = get_client()
    syncs = upserted = 0
    deadline = time.monotonic() + seconds
    next_round = time.monotonic() + every
    while next_round < deadline:
        time.sleep(max(0.0, next_round - time.monotonic()))
        next_round += every
        for journey_id in waiting_journey_ids(count):
            client.resume_journey(journey_id, step_id=WAITING_STEP, input=WAITING_INPUT)
        upserted += journey_sync().upserted
        syncs += 1
    return {"syncs": syncs, "rows_upserted": upserted}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.probes")
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync")
    sync.add_argument("--full", action="store_true")
    upload = commands.add_parser("upload")
    upload.add_argument("csv_path")
    upload.add_argument("workflow_id")
    churn = commands.add_parser("churn")
    churn.add_argument("--count", type=int, required=True)
    churn.add_argument("--every", type=float, required=True)
    churn.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args(argv)
    _setup()
    if args.command == "sync":
        result = probe_sync(args.full)
    elif args.command == "churn":
        result = probe_churn(args.count, args.every, args.seconds)
    else:
        result = probe_upload(args.csv_path, args.workflow_id)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
