"""Launch pages: launch one journey, upload a CSV for many, and watch either until it is done.

Views stay thin: a form validates, one service or selector call, render the page or the region htmx
polls. Polling regions carry their ``hx-trigger`` only while something can still change, so the poll
stops by itself when the launch (or the bulk launch) is final.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Action
from accounts.policy import user_can
from launches.forms import BulkPageForm, BulkUploadForm, LaunchForm
from launches.selectors import (
    ResultRow,
    bulk_launch_get,
    bulk_launch_invalid_rows,
    bulk_launch_progress,
    bulk_launch_results,
    launch_error_shown,
    launch_get,
    launch_recent,
    launch_shows_url,
    launch_target,
)
from launches.services import (
    bulk_launch_confirm,
    bulk_launch_discard,
    bulk_launch_upload,
    launch_create,
)
from mintportal.csv_export import csv_lines
from mintportal.errors import Conflict, invalid_parameters, refusal_on_form
from mintportal.middleware import AuthenticatedHttpRequest
from mintportal.qr import qr_data_uri
from mintportal.responses import render_region

INVALID_ROWS_PER_PAGE = 100
POLL_EVERY = "1s"


@login_required
@require_GET
def launch_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "launches/index.html", {"recent": launch_recent(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def launch_new(request: AuthenticatedHttpRequest, workflow_id: str) -> HttpResponse:
    target = launch_target(user=request.user, workflow_id=workflow_id)
    form = LaunchForm(request.POST or None, parameters=target.parameters)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            launch = launch_create(
                workflow_id=target.workflow_id, input=form.journey_input(),
                journey_url_ttl=form.cleaned_data["journey_url_ttl"], actor=request.user,
                key=form.cleaned_data["key"],
            )
        except Conflict as exc:
            status = refusal_on_form(form, exc)
        else:
            return redirect("launches:detail", launch_id=launch.id)
    context = {"target": target, "form": form, "upload": BulkUploadForm()}
    return render(request, "launches/new.html", context, status=status)


@login_required
@require_GET
def launch_detail(request: AuthenticatedHttpRequest, launch_id: uuid.UUID) -> HttpResponse:
    launch = launch_get(user=request.user, launch_id=launch_id)
    shows_url = launch_shows_url(user=request.user, launch=launch)
    context = {"launch": launch, "error": launch_error_shown(launch=launch),
               "shows_url": shows_url, "qr": qr_data_uri(launch.journey_url) if shows_url else "",
               "may_launch": user_can(user=request.user, action=Action.LAUNCH, workflow_id=launch.workflow_id),
               "poll_every": POLL_EVERY}
    return render_region(request, "launches/detail.html", context, region="launch-status")


@login_required
@require_POST
def bulk_upload(request: AuthenticatedHttpRequest, workflow_id: str) -> HttpResponse:
    target = launch_target(user=request.user, workflow_id=workflow_id)
    upload = BulkUploadForm(request.POST, request.FILES)
    if not target.parameters:
        upload.add_error(None, "This workflow takes no input parameters, so there is nothing to read from a CSV.")
    if not upload.is_valid():
        form = LaunchForm(parameters=target.parameters)
        return render(request, "launches/new.html", {"target": target, "form": form, "upload": upload}, status=400)
    file = upload.cleaned_data["file"]
    bulk = bulk_launch_upload(
        workflow_id=target.workflow_id, parameters=target.parameters, file=file, filename=file.name or "",
        journey_url_ttl=upload.cleaned_data["journey_url_ttl"], actor=request.user,
    )
    return redirect("launches:bulk", bulk_id=bulk.id)


@login_required
@require_GET
def bulk_detail(request: AuthenticatedHttpRequest, bulk_id: uuid.UUID) -> HttpResponse:
    bulk = bulk_launch_get(user=request.user, bulk_id=bulk_id)
    page_form = BulkPageForm(request.GET)
    if not page_form.is_valid():
        raise invalid_parameters(page_form)
    page = page_form.page_number()
    invalid_pages = max(1, -(-bulk.invalid_count // INVALID_ROWS_PER_PAGE))
    context = {
        "bulk": bulk,
        "progress": bulk_launch_progress(bulk=bulk),
        "invalid_rows": bulk_launch_invalid_rows(
            bulk=bulk, offset=(page - 1) * INVALID_ROWS_PER_PAGE, limit=INVALID_ROWS_PER_PAGE
        ),
        "page": page,
        "pages": invalid_pages,
        "poll_every": POLL_EVERY,
    }
    return render_region(request, "launches/bulk.html", context, region="bulk-progress")


@login_required
@require_POST
def bulk_confirm(request: AuthenticatedHttpRequest, bulk_id: uuid.UUID) -> HttpResponse:
    bulk = bulk_launch_get(user=request.user, bulk_id=bulk_id)
    try:
        bulk = bulk_launch_confirm(bulk_id=bulk.id, actor=request.user)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Launching {bulk.valid_count} journeys in the background.")
    return redirect("launches:bulk", bulk_id=bulk.id)


@login_required
@require_POST
def bulk_discard(request: AuthenticatedHttpRequest, bulk_id: uuid.UUID) -> HttpResponse:
    bulk = bulk_launch_get(user=request.user, bulk_id=bulk_id)
    try:
        bulk_launch_discard(bulk_id=bulk.id, actor=request.user)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("launches:bulk", bulk_id=bulk.id)
    messages.success(request, "The upload was discarded; nothing was launched.")
    return redirect("launches:new", workflow_id=bulk.workflow_id)


def _results_csv(rows: Iterator[ResultRow], columns: list[str]) -> Iterator[str]:
    # The input columns come back beside each outcome, so the file can be matched to the upload row by row.
    return csv_lines(["row", *columns, "status", "journey_id", "journey_url", "error"],
                     ([row.row, *(row.input.get(column, "") for column in columns), row.status, row.journey_id,
                       row.journey_url, row.error] for row in rows))


@login_required
@require_GET
def bulk_results(request: AuthenticatedHttpRequest, bulk_id: uuid.UUID) -> HttpResponseBase:
    bulk = bulk_launch_get(user=request.user, bulk_id=bulk_id)
    response = StreamingHttpResponse(_results_csv(bulk_launch_results(bulk=bulk), list(bulk.columns)),
                                     content_type="text/csv")
    response["Content-Disposition"] = content_disposition_header(True, f"launch-results-{bulk.id}.csv")
    response["Cache-Control"] = "no-store"
    return response

