"""The "My work" inbox and the approve/reject decision."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from accounts.models import Action
from accounts.policy import ensure_can
from approvals.context import DecisionContext, decision_context, decision_masker, panel_views
from approvals.forms import ASSIGNMENTS, DecisionForm, InboxFilterForm
from approvals.selectors import InboxFilters, approval_panels, inbox_count_cached, inbox_page, inbox_tab_counts
from approvals.services import AlreadyDecided, approval_decide, inbox_refresh
from journeys.claim_views import acknowledged_claim
from journeys.claims_selectors import claim_get, claim_guard
from journeys.models import Journey
from journeys.services.mirror import journey_mirror_refresh
from mintportal.errors import Conflict, NotVisible, Refused
from mintportal.middleware import AuthenticatedHttpRequest
from mintportal.outage import mint_or_outage
from mintportal.responses import render_region, wants_region

# Pages listen for this event (the inbox table, a journey page) to refresh once a decision is made.
APPROVAL_DECIDED = "approval-decided"
# The element holding the navigation's "My work" count (templates/components/_nav_count.html).
WORK_COUNT_ID = "nav-count-work"


@dataclass(frozen=True)
class Tab:
    """One of the inbox's tabs: its label, how many journeys it holds, and its link (the other filters kept)."""

    key: str
    label: str
    count: int
    url: str
    current: bool


def _tabs(request: AuthenticatedHttpRequest, *, current: str, counts: dict[str, int]) -> list[Tab]:
    tabs = []
    for key, label in ASSIGNMENTS:
        query = request.GET.copy()
        # A tab starts at its first page; the default tab ("") keeps the address short.
        query.pop("page", None)
        query.pop("assignment", None)
        if key:
            query["assignment"] = key
        url = reverse("approvals:inbox") + (f"?{query.urlencode()}" if query else "")
        tabs.append(Tab(key=key, label=label, count=counts.get(key, 0), url=url, current=key == current))
    return tabs


def _held_by_someone_else(request: AuthenticatedHttpRequest, journey_id: str) -> str:
    """The username of whoever else holds the journey's case ("" when nobody or the user does)."""
    claim = claim_get(journey_id=journey_id)
    return claim.user.get_username() if claim is not None and claim.user_id != request.user.pk else ""


@login_required
@require_GET
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET, user=request.user)
    form.is_valid()
    # A value that is not one of the choices is named next to its field (400); the valid ones still apply.
    cleaned = form.cleaned_data
    filters = InboxFilters(
        workflow_id=cleaned.get("workflow") or "",
        kind=cleaned.get("kind") or "",
        assignment=cleaned.get("assignment") or "",
    )
    inbox_refresh(user=request.user, filters=filters)
    page, rows = inbox_page(user=request.user, filters=filters, page_number=cleaned.get("page") or 1)
    tabs = _tabs(request, current=filters.assignment, counts=inbox_tab_counts(user=request.user, filters=filters))
    context = {"form": form, "page": page, "rows": rows, "tabs": tabs, "filters": filters}
    response = render_region(request, "approvals/inbox.html", context, region="inbox-table",
                             status=400 if form.errors else 200)
    if wants_region(request):
        # The table redraws after every decision and poll; the navigation's count of the same work follows it.
        response.content += render_to_string("components/_nav_count.html", {
            "id": WORK_COUNT_ID, "oob": True, "count": inbox_count_cached(user=request.user),
            "label": "waiting on you"}, request=request).encode()
    return response


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("approvals:inbox")


def _embedded(request: HttpRequest) -> bool:
    """Whether the panel is drawn inside a journey's page: it loads the panel with ``?embedded=1`` and its form
    posts ``embedded=1`` back."""
    return request.POST.get("embedded") == "1" or request.GET.get("embedded") == "1"


def _details(request: AuthenticatedHttpRequest, journey: Journey) -> tuple[DecisionContext, str]:
    """The journey as the panel shows it, read live, and what to say when Mint could not be asked. Like the
    journey's page, the live read brings the mirror's waiting steps up to date, so that the forms offer only steps
    that still wait."""
    with mint_or_outage(request) as mint:
        details = decision_context(user=request.user, journey=journey)
        if details.unavailable is not None:
            raise details.unavailable
    if details.journey is not None:
        journey_mirror_refresh(journey=details.journey)
    return details, mint.note or ""


@login_required
@require_http_methods(["GET", "POST"])
def decide(request: AuthenticatedHttpRequest, journey_id: str) -> HttpResponse:
    """GET: the decision panel: what the approver needs to know of the journey (its data, alerts, files, notes and
    the approvals so far) and a form per waiting approval step. POST: approve or reject one of them.

    From the inbox through htmx, a POST answers with the panel's forms region (the outcome, or the errors in
    place) and an ``approval-decided`` event that refreshes the inbox table; the page then closes the panel. From a
    journey's page (``embedded``, which shows the journey itself, so the panel reads nothing more) a success reloads
    that page. Without htmx a success or "already decided" redirects to ``next`` with a flash message, and an error
    re-renders the page with what was typed.
    """
    journey = Journey.objects.filter(pk=journey_id).first()
    if journey is None:
        raise NotVisible("Not found")
    ensure_can(user=request.user, action=Action.APPROVE, workflow_id=journey.workflow_id)
    form = DecisionForm(request.POST) if request.method == "POST" else None
    next_url = _safe_next(request)
    embedded = _embedded(request)
    outcome: str | None = None
    error: str | None = None
    error_status = 400
    if form is not None and form.is_valid():
        try:
            claim_guard(user=request.user, journey_id=journey_id, acknowledged=acknowledged_claim(request))
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
    # An htmx POST redraws only the forms; the journey's context above them stays as it was drawn.
    region = "decision-forms" if form is not None else "decision-panel"
    details, mint_note = None, ""
    if not embedded and not (form is not None and wants_region(request)):
        details, mint_note = _details(request, journey)
    journey.refresh_from_db()
    panels = approval_panels(
        user=request.user, journey_id=journey.id, workflow_id=journey.workflow_id,
        active_steps=journey.waiting_steps.all(),
    )
    # The name and the approvers' reasons are masked like the panel's details (approvals.context).
    masker = (details.masker if details is not None and details.masker is not None
              else decision_masker(user=request.user, journey=journey))
    context = {"journey": journey, "journey_name": masker.text(journey.name),
               "panels": panel_views(panels=panels, masker=masker), "form": form, "outcome": outcome,
               "claim_holder": _held_by_someone_else(request, journey.id),
               "error": masker.text(error) if error else error, "next": next_url, "embedded": embedded,
               "details": details, "mint_note": mint_note}
    # Errors shown in the form answer 400, which the layout's htmx configuration still swaps in place.
    status = error_status if error else 400 if form is not None and form.errors else 200
    response = render_region(request, "approvals/decide.html", context, region=region, status=status)
    return trigger_client_event(response, APPROVAL_DECIDED, {"journey_id": journey.id}) if outcome else response
