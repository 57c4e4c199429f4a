"""Case file pages: one journey's case file as a PDF, and batches of them as a zip (ask, watch, download).

Views stay thin: the journeys list's filter form decides a batch's 400s, the services the rest. A journey outside
the reader's scope is a 404 (``NotVisible``), and so is anyone else's batch.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from compliance.casefile_jobs import (
    MAX_JOURNEYS,
    casefile_file_name,
    casefile_generate,
    casefile_job_create,
    casefile_job_get,
    casefile_job_zip,
)
from journeys.forms import JourneyFilterForm
from journeys.selectors import journey_workflow_choices, journey_workflow_visible
from mintportal.errors import Refused
from mintportal.middleware import AuthenticatedHttpRequest
from mintportal.responses import render_region, wants_region

# How often a running job's page asks for its progress.
POLL_EVERY = "2s"


@login_required
@require_GET
def casefile_pdf(request: AuthenticatedHttpRequest, journey_id: str) -> HttpResponse:
    generated = casefile_generate(user=request.user, journey_id=journey_id)
    response = HttpResponse(generated.content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, casefile_file_name(journey_id))
    # The file may show personal data in clear (a reveal): no cache keeps a copy.
    response["Cache-Control"] = "no-store"
    return response


def _refused(request: AuthenticatedHttpRequest, message: str) -> HttpResponse:
    return render(request, "compliance/casefile_refused.html", {"message": message, "limit": MAX_JOURNEYS},
                  status=400)


def _list_query(request: AuthenticatedHttpRequest) -> QueryDict:
    """The journeys list's filters as the button posted them (in the address), without the paging."""
    query = QueryDict(mutable=True)
    for name, values in request.GET.lists():
        if name not in ("page", "per_page") and any(value.strip() for value in values):
            query.setlist(name, [value for value in values if value.strip()])
    return query


@login_required
@require_POST
def casefile_batch(request: AuthenticatedHttpRequest) -> HttpResponse:
    query = _list_query(request)
    form = JourneyFilterForm(
        query, workflow_choices=journey_workflow_choices(user=request.user),
        workflow_known=lambda workflow_id: journey_workflow_visible(user=request.user, workflow_id=workflow_id),
    )
    if not form.is_valid():
        # The batch must be exactly the journeys asked for: never quietly drop an invalid filter.
        problems = "; ".join(f"{form.fields[name].label if name in form.fields else name}: "
                             f"{' '.join(str(error) for error in errs)}" for name, errs in form.errors.items())
        return _refused(request, f"Invalid filters: {problems}")
    try:
        job = casefile_job_create(owner=request.user, filters=form.filters(), query=query.urlencode(),
                                  time_zone=timezone.get_current_timezone_name())
    except Refused as exc:
        return _refused(request, exc.message)
    return redirect("casefiles:job", casefile_job_id=job.id)


@login_required
@require_GET
def casefile_job(request: AuthenticatedHttpRequest, casefile_job_id: uuid.UUID) -> HttpResponse:
    job = casefile_job_get(user=request.user, job_id=casefile_job_id)
    if wants_region(request) and request.GET.get("seen") == f"{job.state}.{job.done}.{job.failed}":
        # Nothing moved since the last poll: no swap, so the live region says nothing new.
        return HttpResponse(status=204)
    return render_region(request, "compliance/casefile_job.html", {"job": job, "poll_every": POLL_EVERY},
                         region="casefile-progress")


@login_required
@require_GET
def casefile_download(request: AuthenticatedHttpRequest, casefile_job_id: uuid.UUID) -> FileResponse:
    job = casefile_job_get(user=request.user, job_id=casefile_job_id)
    path = casefile_job_zip(job=job)
    response = FileResponse(path.open("rb"), as_attachment=True, filename=f"case-files-{job.id}.zip",
                            content_type="application/zip")
    response["Cache-Control"] = "no-store"
    return response
