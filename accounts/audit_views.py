"""The audit page and its CSV export, for users allowed to read the audit trail."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.forms import AuditFilterForm
from accounts.models import Action, AuditEvent
from accounts.policy import ensure_global
from accounts.selectors import AuditFilters, audit_action_names, audit_event_list, audit_event_rows
from mintportal.csv_export import csv_lines
from mintportal.responses import HtmxHttpRequest, render_region

PAGE_SIZE = 50
CSV_COLUMNS = ["at_utc", "actor", "action", "outcome", "workflow_id", "journey_id", "summary", "trace_id", "detail"]


def _filters(form: AuditFilterForm) -> AuditFilters | None:
    """The form's filters, or None when a field is invalid (its error is shown next to it)."""
    if not form.is_valid():
        return None
    since, until = form.bounds()
    data = form.cleaned_data
    return AuditFilters(
        actor=data["actor"], action=data["action"], workflow_id=data["workflow"], journey_id=data["journey"],
        outcome=data["outcome"], since=since, until=until,
    )


@login_required
@require_GET
def audit_list(request: HtmxHttpRequest) -> HttpResponse:
    ensure_global(user=request.user, action=Action.AUDIT)
    form = AuditFilterForm(request.GET)
    filters = _filters(form)
    # An invalid filter matches nothing rather than silently matching everything.
    events = audit_event_list(user=request.user, filters=filters) if filters else AuditEvent.objects.none()
    page_number = form.cleaned_data.get("page") if filters else 1
    page = Paginator(events, PAGE_SIZE).get_page(page_number)
    context = {"form": form, "page": page, "action_names": audit_action_names(user=request.user)}
    return render_region(request, "accounts/audit_list.html", context, region="audit-table")


def _csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    return csv_lines(CSV_COLUMNS, (
        [event.at.astimezone(UTC).isoformat(), event.actor_username, event.action, event.outcome,
         event.workflow_id, event.journey_id, event.summary, event.trace_id,
         json.dumps(event.detail, sort_keys=True, separators=(",", ":"))]
        for event in events
    ))


@login_required
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Every event matching the page's filters (not just one page), streamed as CSV."""
    ensure_global(user=request.user, action=Action.AUDIT)
    filters = _filters(AuditFilterForm(request.GET))
    if filters is None:
        return HttpResponseBadRequest("The filters are not valid; correct them on the audit page.",
                                      content_type="text/plain")
    events = audit_event_list(user=request.user, filters=filters)
    response = StreamingHttpResponse(_csv_lines(audit_event_rows(events=events)), content_type="text/csv")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
