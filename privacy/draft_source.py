"""The first draft of a workflow's personal fields, from its latest journeys read live from Mint.

The samples are journey data in clear, so they go to ``privacy.detect.draft`` (which answers with paths, kinds and
reasons, never a value) and nowhere else: nothing here stores, logs or returns a value.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from mintportal.mint import errors, get_client
from mintportal.mint import models as mint
from privacy import detect

SAMPLE_SIZE: Final = 25
# Detail reads in flight at once: 25 one after the other would keep the admin waiting on Mint's latency 25 times.
READ_CONCURRENCY: Final = 5


def _sample(journey: mint.JourneyDetail) -> dict[str, Any]:
    """A journey's data in the shape the mirror stores and declarations' paths name."""
    return {"input": dict(journey.input), "steps": dict(journey.step_data)}


def journey_samples(*, workflow_id: str, limit: int = SAMPLE_SIZE) -> list[dict[str, Any]]:
    """The data of the workflow's ``limit`` most recently created journeys, newest first; a journey deleted between
    the listing and its read is left out. Mint errors other than that propagate (the caller shows the outage)."""
    client = get_client()
    listed = client.list_journeys(workflow_id=workflow_id, sort="-createdAt", limit=limit).data
    samples: list[dict[str, Any]] = []
    with ThreadPoolExecutor(max_workers=READ_CONCURRENCY, thread_name_prefix="privacy-draft") as pool:
        reads = [pool.submit(client.get_journey, row.id) for row in listed]
        for read in reads:
            try:
                samples.append(_sample(read.result()))
            except errors.MintNotFoundError:
                continue
    return samples


def draft_suggestions(*, workflow_id: str) -> list[detect.Suggestion]:
    """What ``privacy.detect.draft`` proposes to declare from the workflow's latest journeys, sorted by path."""
    return detect.draft(journey_samples(workflow_id=workflow_id))
