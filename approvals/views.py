"""The "My work" inbox and the approve/reject decision."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from accounts.models import Action
from accounts.policy import ensure_can
from approvals.forms import DecisionForm, InboxFilterForm
from approvals.selectors import InboxFilters, approval_panels, inbox_page
from approvals.services import AlreadyDecided, approval_decide, inbox_refresh
from journeys.models import Journey
from mintportal.errors import Conflict, NotVisible, Refused
from mintportal.middleware import AuthenticatedHttpRequest
from mintportal.responses import render_region, wants_region

# Pages listen for this event (the inbox table, a journey page) to refresh once a decision is made.
APPROVAL_DECIDED = "approval-decided"


@login_required
@require_GET
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET, user=request.user)
    valid = form.is_valid()
    filters = InboxFilters(
        workflow_id=form.cleaned_data.get("workflow", "") if valid else "",
        kind=form.cleaned_data.get("kind", "") if valid else "",
    )
    inbox_refresh(user=request.user, filters=filters)
    page_number = form.cleaned_data.get("page") if valid else 1
    page, rows = inbox_page(user=request.user, filters=filters, page_number=page_number)
    context = {"form": form, "page": page, "rows": rows}
    return render_region(request, "approvals/inbox.html", context, region="inbox-table")


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("approvals:inbox")


def _embedded(request: HttpRequest) -> bool:
    """Whether the panel is drawn inside a journey's page: it loads the panel with ``?embedded=1`` and its form
    posts ``embedded=1`` back."""
    return request.POST.get("embedded") == "1" or request.GET.get("embedded") == "1"


@login_required
@require_http_methods(["GET", "POST"])
def decide(request: AuthenticatedHttpRequest, journey_id: str) -> HttpResponse:
    """GET: the decision form for the journey's waiting approval steps. POST: approve or reject one of them.

    Through htmx from the inbox, the answer is the decision panel (result or errors in place) and an
    ``approval-decided`` event that refreshes the inbox table; from a journey's page a success reloads
    that page, which then shows the journey moved on. Without htmx a success or "already decided"
    redirects to ``next`` with a flash message, and an error re-renders the page with what was typed.
    """
    journey = Journey.objects.filter(pk=journey_id).first()
    if journey is None:
        raise NotVisible("Not found")
    ensure_can(user=request.user, action=Action.APPROVE, workflow_id=journey.workflow_id)
    form = DecisionForm(request.POST) if request.method == "POST" else None
    next_url = _safe_next(request)
    outcome: str | None = None
    error: str | None = None
    error_status = 400
    if form is not None and form.is_valid():
        try:
            result = approval_decide(
                user=request.user, journey_id=journey_id, step_id=form.cleaned_data["step_id"],
                approved=form.approved, reason=form.cleaned_data["reason"],
                occurrence=form.cleaned_data["occurrence"],
            )
            outcome = result.message
        except AlreadyDecided as exc:
            outcome = exc.message
        except (Refused, Conflict) as exc:
            error = exc.message
            error_status = exc.status
        if outcome and (not wants_region(request) or next_url != reverse("approvals:inbox")):
            messages.success(request, outcome)
            if wants_region(request):
                return HttpResponseClientRedirect(next_url)
            return HttpResponseRedirect(next_url)
    journey.refresh_from_db()
    panels = approval_panels(
        user=request.user, journey_id=journey.id, workflow_id=journey.workflow_id,
        active_steps=journey.waiting_steps.all(),
    )
    context = {"journey": journey, "panels": panels, "form": form, "outcome": outcome, "error": error,
               "next": next_url, "embedded": _embedded(request)}
    # Errors shown in the form answer 400, which the layout's htmx configuration still swaps in place.
    status = error_status if error else 400 if form is not None and form.errors else 200
    response = render_region(request, "approvals/decide.html", context, region="decision-panel", status=status)
    return trigger_client_event(response, APPROVAL_DECIDED) if outcome else response
