"""The operations page: how the portal's background machinery is doing, for the people who run it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from accounts.models import Action
from accounts.policy import ensure_global
from mintportal.middleware import AuthenticatedHttpRequest
from mintportal.responses import render_region
from operations.selectors import operations_overview

# Seconds between the page's htmx refreshes of its figures.
REFRESH_SECONDS = 10


@login_required
@require_GET
def operations_overview_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    # Managing access is the administrators' right: they may grant themselves any scope already, so the
    # portal-wide figures and failure summaries here show them nothing they could not reach anyway.
    ensure_global(user=request.user, action=Action.MANAGE_ACCESS)
    context = {"overview": operations_overview(), "refresh_seconds": REFRESH_SECONDS}
    return render_region(request, "operations/overview.html", context, region="operations-figures")
