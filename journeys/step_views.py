"""Where journeys wait: a workflow's graph with each step's figures (journeys waiting there now, journeys that
faulted there, median time in the step), read by journeys.step_stats.

The workflow page (templates/workflows/detail.html) draws the plain graph and loads this one over it with htmx;
the workflows app sits below journeys and cannot count journeys itself. Without JavaScript its link opens the same
graph as a page of its own.
"""

from __future__ import annotations

from typing import Final

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from accounts.models import Action
from accounts.policy import ensure_can
from journeys.step_stats import WINDOW_DAYS, step_faulted_unplaced, workflow_step_stats
from mintportal.errors import NotVisible, invalid_parameters
from mintportal.middleware import AuthenticatedHttpRequest
from mintportal.mint import errors
from mintportal.responses import render_region
from workflows import selectors as workflow_selectors
from workflows.forms import WorkflowVersionForm
from workflows.graph import workflow_graph

# Room on each step box for two lines of figures (counts, then the median).
FIGURE_BAND: Final = 36


@login_required
@require_GET
def workflow_steps(request: AuthenticatedHttpRequest, workflow_id: str) -> HttpResponse:
    ensure_can(user=request.user, action=Action.VIEW, workflow_id=workflow_id)
    version_form = WorkflowVersionForm(request.GET)
    if not version_form.is_valid():
        raise invalid_parameters(version_form)
    try:
        workflow = workflow_selectors.workflow_get(workflow_id=workflow_id,
                                                   version=version_form.cleaned_data["version"])
    except errors.MintNotFoundError:
        raise NotVisible("No such workflow") from None
    graph = workflow_graph(steps=workflow.steps, connections=workflow.connections, band=FIGURE_BAND)
    figures = workflow_step_stats(user=request.user, workflow_id=workflow_id,
                                  step_ids=[node.id for node in graph.nodes])
    context = {
        "workflow": workflow,
        "graph": graph,
        "steps": [(node, figures[node.id]) for node in graph.nodes],
        "window_days": WINDOW_DAYS,
        "faulted_unplaced": step_faulted_unplaced(user=request.user, workflow_id=workflow_id),
    }
    return render_region(request, "journeys/_step_stats.html", context, region="step-graph")
