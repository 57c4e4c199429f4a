"""Case files as a service: one journey's PDF (audited ``journey.case_file``), and batches of up to 1,000 rendered by a
Celery task into one zip (one PDF per journey and a ``manifest.csv``), audited ``case_file.batch`` with the count.

A batch run is safe to repeat (Celery acknowledges late, so a killed worker's run is delivered again): it starts
the zip over from the first journey, writing a ``.part`` file that replaces the zip only when complete. A journey
that cannot be rendered (no longer visible to the owner, Mint unavailable) is listed in the manifest with the
reason, never dropped; the job fails as a whole only when the zip itself cannot be written.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Final

from celery import signature
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.services import audit_record
from compliance.casefile import CaseFile, content_digest, render
from compliance.casefile_models import CaseFileJob, CaseFileJobState
from compliance.casefile_record import casefile_for
from journeys.selectors import JourneyFilters, journey_queryset, query_without_personal_values
from mintportal.csv_export import csv_lines
from mintportal.errors import ApplicationError, NotVisible, Refused
from mintportal.mint import errors

logger = logging.getLogger(__name__)

MAX_JOURNEYS: Final = 1000
# compliance/tasks.py imports this module, so the task is queued by its registered name.
RUN_TASK: Final = "compliance.tasks.casefile_job_run_task"
MANIFEST: Final = "manifest.csv"
MANIFEST_COLUMNS: Final = ("journey_id", "file_name", "record_sha256", "pdf_sha256", "error")
# How long a finished batch's zip is kept for its owner to download.
KEEP_ZIPS: Final = timedelta(days=1)
_UNSAFE_NAME: Final = re.compile(r"[^A-Za-z0-9._-]")

Viewer = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class GeneratedCaseFile:
    case: CaseFile
    content: bytes
    digest: str  # content_digest(case), as the PDF's footer prints it


def casefile_file_name(journey_id: str) -> str:
    return f"case-file-{_UNSAFE_NAME.sub('_', journey_id)}.pdf"


def casefile_generate(*, user: AbstractBaseUser, journey_id: str) -> GeneratedCaseFile:
    """The case file of one journey as ``user`` may see it, rendered, and one audit event saying so (the record's
    digest in its detail; no name or value of the journey). Raises ``NotVisible`` (nothing audited) for a journey
    outside their scope, and Mint's error when Mint cannot give the journey."""
    case = casefile_for(user=user, journey_id=journey_id)
    content = render(case)
    digest = content_digest(case)
    audit_record(actor=user, action="journey.case_file", workflow_id=case.workflow_id, journey_id=journey_id,
                 summary="Case file generated", detail={"record_sha256": digest})
    return GeneratedCaseFile(case=case, content=content, digest=digest)


# --- batches -----------------------------------------------------------------------------------------------


def casefile_jobs_dir() -> Path:
    return Path(settings.RUN_DIR) / "casefiles"


def casefile_job_create(*, owner: AbstractBaseUser, filters: JourneyFilters, query: str,
                        time_zone: str) -> CaseFileJob:
    """Records a batch of the journeys ``owner`` may view that match ``filters`` (as the journeys list shows them)
    and queues its run once committed; audited ``case_file.batch`` with the count. Refused, with nothing recorded,
    when more than ``MAX_JOURNEYS`` or no journeys match."""
    ids = list(journey_queryset(user=owner, filters=filters).values_list("id", flat=True)[:MAX_JOURNEYS + 1])
    if len(ids) > MAX_JOURNEYS:
        raise Refused(f"More than {MAX_JOURNEYS:,} journeys match these filters. Case files are made for at most "
                      f"{MAX_JOURNEYS:,} journeys at a time: narrow the filters (a workflow, a status, a time span) "
                      "and ask again. Nothing was started.")
    if not ids:
        raise Refused("No journeys match these filters, so there are no case files to make.")
    with transaction.atomic():
        # Kept without its personal values (a data filter may match a national id); not audited at all, since a
        # name search may hold a person's name.
        job = CaseFileJob.objects.create(owner_id=owner.pk, query=query_without_personal_values(query), journey_ids=ids,
                                         total=len(ids), time_zone=time_zone, created_at=timezone.now())
        audit_record(actor=owner, action="case_file.batch", summary=f"Case files requested for {len(ids)} journeys",
                     detail={"count": len(ids), "job_id": str(job.id)})
        _after_commit(lambda: signature(RUN_TASK, args=(str(job.id),)).apply_async(), f"case file job {job.id}")
    return job


def _after_commit(queue: Callable[[], object], what: str) -> None:
    def run() -> None:
        try:
            queue()
        except Exception:
            # The job stays queued; its page says so and the owner may ask again.
            logger.exception("could not queue %s", what)

    transaction.on_commit(run)


def casefile_job_get(*, user: Viewer, job_id: uuid.UUID) -> CaseFileJob:
    """The job, for its owner only: anyone else's is ``NotVisible`` (a 404), whatever their rights, since its
    journeys were chosen in the owner's scope."""
    job = CaseFileJob.objects.filter(pk=job_id, owner_id=user.pk).first() if user.is_authenticated else None
    if job is None:
        raise NotVisible("No such case file job.")
    return job


def casefile_job_zip(*, job: CaseFileJob) -> Path:
    """The finished zip of a job; ``Refused`` while it is being made or when it could not be."""
    path = Path(job.zip_path) if job.zip_path else None
    if job.state != CaseFileJobState.DONE or path is None or not path.is_file():
        raise Refused("The case files are not ready: this job has not finished." if job.is_running
                      else "The case files of this job are not available.")
    return path


@dataclass(frozen=True)
class _Rendered:
    journey_id: str
    file_name: str
    content: bytes = b""
    digest: str = ""
    error: str = ""


def _render_one(owner: AbstractBaseUser, journey_id: str) -> _Rendered:
    name = casefile_file_name(journey_id)
    try:
        case = casefile_for(user=owner, journey_id=journey_id)
        content = render(case)
    except NotVisible:
        return _Rendered(journey_id, "", error="Not visible to the job's owner (any more), or no such journey.")
    except ApplicationError as exc:
        return _Rendered(journey_id, "", error=exc.message)
    except errors.MintError as exc:
        return _Rendered(journey_id, "", error=f"Mint could not give the journey ({type(exc).__name__}, trace id "
                                               f"{exc.trace_id or '-'}).")
    except Exception as exc:  # noqa: BLE001 - one journey's failure is listed in the manifest, the batch goes on
        # Only the type: an exception's message might quote a personal value.
        logger.error("case file job: journey %s failed: %s", journey_id, type(exc).__name__)
        return _Rendered(journey_id, "", error=f"The case file could not be rendered ({type(exc).__name__}).")
    return _Rendered(journey_id, name, content=content, digest=content_digest(case))


def casefile_job_run(*, job_id: uuid.UUID) -> CaseFileJob | None:
    """Renders each journey's case file for the job's owner into the job's zip, counting progress as it goes;
    a finished or failed job is left as it is. Returns the job as it ends (None when there is no such job)."""
    job = CaseFileJob.objects.select_related("owner").filter(pk=job_id).first()
    if job is None or job.state in (CaseFileJobState.DONE, CaseFileJobState.FAILED):
        return job
    directory = casefile_jobs_dir()
    directory.mkdir(parents=True, exist_ok=True)
    final, partial = directory / f"{job.id}.zip", directory / f"{job.id}.zip.part"
    jobs = CaseFileJob.objects.filter(pk=job.id)
    jobs.update(state=CaseFileJobState.RUNNING, started_at=timezone.now(), done=0, failed=0, error="")
    try:
        with timezone.override(job.time_zone), zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            manifest: list[tuple[str, str, str, str, str]] = []
            for journey_id in job.journey_ids:
                rendered = _render_one(job.owner, str(journey_id))
                if rendered.error:
                    jobs.update(failed=F("failed") + 1)
                else:
                    archive.writestr(rendered.file_name, rendered.content)
                    jobs.update(done=F("done") + 1)
                manifest.append((rendered.journey_id, rendered.file_name, rendered.digest,
                                 hashlib.sha256(rendered.content).hexdigest() if rendered.content else "",
                                 rendered.error))
            archive.writestr(MANIFEST, "".join(csv_lines(MANIFEST_COLUMNS, manifest)))
        os.replace(partial, final)
    except OSError as exc:
        logger.error("case file job %s: the zip could not be written: %s", job.id, type(exc).__name__)
        jobs.update(state=CaseFileJobState.FAILED, finished_at=timezone.now(),
                    error=f"The zip could not be written ({type(exc).__name__}).")
        partial.unlink(missing_ok=True)
        return jobs.first()
    jobs.update(state=CaseFileJobState.DONE, zip_path=str(final), finished_at=timezone.now())
    return jobs.first()


def casefile_jobs_prune(*, older_than: timedelta = KEEP_ZIPS) -> int:
    """Deletes the jobs (and their zips) that ended more than ``older_than`` ago: a zip may hold personal data in
    clear (a reveal), so it is not kept longer than its owner needs to download it. Returns how many went."""
    ended = CaseFileJob.objects.filter(finished_at__lt=timezone.now() - older_than)
    pruned = 0
    for job_id, zip_path in ended.values_list("id", "zip_path").iterator(chunk_size=500):
        if zip_path:
            Path(zip_path).unlink(missing_ok=True)
        pruned += CaseFileJob.objects.filter(pk=job_id).delete()[0]
    return pruned
