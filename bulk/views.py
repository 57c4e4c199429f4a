"""Bulk action pages: choose the action for a selection, read the dry run, confirm, watch it run, download results.

Views stay thin: the selection and the form decide every 4xx; one service or selector call each.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bulk.forms import BulkActionForm, JobPageForm
from bulk.models import BulkAction, JobStatus
from bulk.selectors import (
    MAX_JOURNEYS,
    RESULT_COLUMNS,
    bulk_job_get,
    bulk_job_item_count,
    bulk_job_items,
    bulk_job_progress,
    bulk_job_results,
    bulk_selection,
    bulk_selection_workflows,
    step_form_for,
    waiting_suspend_steps,
)
from bulk.services import bulk_job_confirm, bulk_job_create
from mintportal.csv_export import csv_lines
from mintportal.errors import Refused, invalid_parameters
from mintportal.middleware import AuthenticatedHttpRequest
from mintportal.responses import render_region

ITEMS_PER_PAGE = 100
# Ticked selections posted to the action form, kept in the session for the form's address (PRG).
SESSION_SELECTIONS = "bulk-selections"
KEPT_SELECTIONS = 5
# The choices a redirect to the form carries in its address: the action, and the step whose form to show.
REDIRECT_CHOICES = ("action", "step_id")
POLL_EVERY = "1s"


def _selection_keep(request: AuthenticatedHttpRequest, query: str) -> str:
    """Keeps a ticked selection's query in the session under a new token (only the latest few are kept)."""
    kept = [entry for entry in request.session.get(SESSION_SELECTIONS, []) if entry[0] != query][-KEPT_SELECTIONS + 1:]
    token = uuid.uuid4().hex
    request.session[SESSION_SELECTIONS] = [*kept, [token, query]]
    return token


def _selection_kept(request: AuthenticatedHttpRequest, token: str) -> QueryDict | None:
    for kept_token, query in request.session.get(SESSION_SELECTIONS, []):
        if kept_token == token:
            return QueryDict(query, mutable=True)
    return None


def _refused(request: AuthenticatedHttpRequest, message: str) -> HttpResponse:
    return render(request, "bulk/refused.html", {"message": message, "limit": MAX_JOURNEYS}, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def bulk_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The action form for a selection: GET with the journeys list's filters (``all=1``), or a POST of ticked rows
    (from the list or the inbox: too many ids for an address), which is kept in the session and redirected to a GET
    of it, so the browser's Back never offers to resubmit a form. Its POST with the form's key runs the dry run,
    records it as a draft job and redirects to the job's page; its "Show the step's form" is redirected to a GET
    too (with the step chosen), as nothing is typed before the step's form shows."""
    query: QueryDict = request.POST if request.method == "POST" else request.GET
    submitting = request.method == "POST" and bool(request.POST.get("key")) and "show_form" not in request.POST
    entering = request.method == "POST" and not submitting
    token = request.GET.get("selection") if request.method == "GET" else None
    if token is not None:
        kept = _selection_kept(request, token)
        if kept is None:
            return _refused(request, "This selection is no longer kept (it is kept for a while after you sign in). "
                                     "Tick the journeys again.")
        for name in REDIRECT_CHOICES:
            if request.GET.get(name):
                kept[name] = request.GET[name]
        query = kept
    try:
        selection = bulk_selection(user=request.user, query=query)
    except Refused as exc:
        return _refused(request, exc.message)
    if entering:
        params = {"selection": _selection_keep(request, selection.query)}
        params.update({name: request.POST[name] for name in REDIRECT_CHOICES if request.POST.get(name)})
        return redirect(f"{reverse('bulk:new')}?{urlencode(params)}")
    steps = waiting_suspend_steps(journey_ids=selection.journey_ids)
    chosen = query.get("step_id") or ""
    step_fields = step_form_for(journey_ids=selection.journey_ids, step_id=chosen) if chosen in steps else None
    form = BulkActionForm(request.POST if submitting else None, user=request.user, steps=steps, step_fields=step_fields,
                          workflow_ids=bulk_selection_workflows(selection=selection),
                          initial={"action": query.get("action") or "", "step_id": chosen})
    if submitting and form.is_valid():
        job = bulk_job_create(user=request.user, action=form.cleaned_data["action"], params=form.params(),
                              selection=selection, key=form.cleaned_data["key"])
        return redirect("bulk:job", job_id=job.id)
    context = {"form": form, "selection": selection, "steps": steps, "count_text": f"{len(selection.journey_ids):,}",
               "selection_fields": list(QueryDict(selection.query).lists())}
    return render(request, "bulk/new.html", context, status=400 if submitting and form.errors else 200)


@login_required
@require_GET
def bulk_job(request: AuthenticatedHttpRequest, job_id: uuid.UUID) -> HttpResponse:
    job = bulk_job_get(user=request.user, job_id=job_id)
    page_form = JobPageForm(request.GET)
    if not page_form.is_valid():
        raise invalid_parameters(page_form)
    verdict = page_form.cleaned_data.get("verdict") or ""
    page = page_form.cleaned_data.get("page") or 1
    count = bulk_job_item_count(job=job, verdict=verdict)
    pages = max(1, -(-count // ITEMS_PER_PAGE))
    page = min(page, pages)
    context = {
        "job": job, "progress": bulk_job_progress(job=job), "verdict": verdict, "page": page, "pages": pages,
        "items": bulk_job_items(job=job, verdict=verdict, offset=(page - 1) * ITEMS_PER_PAGE, limit=ITEMS_PER_PAGE),
        "poll_every": POLL_EVERY, "is_url": job.action == BulkAction.URL,
        "draft": job.status in (JobStatus.CHECKING, JobStatus.DRAFT),
        "mine": job.created_by_id == request.user.pk,
    }
    return render_region(request, "bulk/job.html", context, region="bulk-progress")


@login_required
@require_POST
def bulk_confirm(request: AuthenticatedHttpRequest, job_id: uuid.UUID) -> HttpResponse:
    job = bulk_job_get(user=request.user, job_id=job_id)
    was_draft = job.status == JobStatus.DRAFT
    job = bulk_job_confirm(user=request.user, job_id=job.id)
    if was_draft:
        messages.success(request, f"Acting on {job.will_act} journeys in the background.")
    return redirect("bulk:job", job_id=job.id)


@login_required
@require_GET
def bulk_results(request: AuthenticatedHttpRequest, job_id: uuid.UUID) -> HttpResponseBase:
    job = bulk_job_get(user=request.user, job_id=job_id)
    response = StreamingHttpResponse(csv_lines(list(RESULT_COLUMNS), bulk_job_results(job=job)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"bulk-{job.action}-{job.id}.csv")
    # The file may hold journey URLs, which are bearer links.
    response["Cache-Control"] = "no-store"
    return response
