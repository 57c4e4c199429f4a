"""Pages for workflows, their versions and files, the step-type catalogue and workflow secrets.

Each view checks access first (``accounts.policy``), validates input with a form, makes one selector or
service call and renders the page, or only its region for htmx. Mint's refusals land on form fields; an
outage shows the banner and whatever the portal last knew.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Action
from accounts.policy import ensure_can, ensure_global, user_can, workflow_approval_policy
from mintportal.errors import NotAllowed, NotVisible, Refused, invalid_parameters
from mintportal.forms import add_mint_errors
from mintportal.middleware import AuthenticatedHttpRequest
from mintportal.mint import errors, get_client
from mintportal.outage import mint_or_outage
from mintportal.responses import mint_download, render_region
from workflows import selectors, services
from workflows.forms import (
    SECRET_MINT_FIELDS,
    WORKFLOW_MINT_FIELDS,
    BaseStepFieldFormSet,
    PublishForm,
    SecretForm,
    StepFieldForm,
    StepFieldFormSet,
    StepTypeSearchForm,
    VersionDiffForm,
    WorkflowFilterForm,
    WorkflowForm,
    WorkflowVersionForm,
)
from workflows.graph import workflow_graph
from workflows.models import SecretRecord
from workflows.stepforms import SUSPEND


@login_required
@require_GET
def workflow_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    ensure_global(user=request.user, action=Action.VIEW)
    form = WorkflowFilterForm(request.GET)
    form.is_valid()
    values = form.values()
    page, fallback = None, None
    with mint_or_outage(request) as read:
        page = selectors.workflow_list(user=request.user, **values)
    if read.failed:
        fallback = selectors.workflow_mirror_list(user=request.user, search=values["search"])
    context = {"form": form, "page": page, "fallback": fallback, "sorts": selectors.WORKFLOW_SORTS,
               "may_create": user_can(user=request.user, action=Action.MANAGE)}
    return render_region(request, "workflows/list.html", context, region="workflow-table")


@login_required
@require_GET
def workflow_detail(request: AuthenticatedHttpRequest, workflow_id: str) -> HttpResponse:
    ensure_can(user=request.user, action=Action.VIEW, workflow_id=workflow_id)
    diff_form = VersionDiffForm(request.GET or None)
    version_form = WorkflowVersionForm(request.GET)
    if not version_form.is_valid():
        raise invalid_parameters(version_form)
    try:
        workflow = selectors.workflow_get(workflow_id=workflow_id, version=version_form.cleaned_data["version"])
        versions = selectors.workflow_versions(workflow_id=workflow_id)
    except errors.MintNotFoundError:
        raise NotVisible("No such workflow") from None
    graph = workflow_graph(steps=workflow.steps, connections=workflow.connections)
    context = {
        "workflow": workflow,
        "manual_steps": [step for step in workflow.steps if step.type == SUSPEND],
        "versions": versions,
        "graph": graph,
        "diff_form": diff_form,
        "launch_url": reverse("launches:new", kwargs={"workflow_id": workflow_id})
        if user_can(user=request.user, action=Action.LAUNCH, workflow_id=workflow_id) else None,
        "may_manage": user_can(user=request.user, action=Action.MANAGE, workflow_id=workflow_id),
        "approval_policy": workflow_approval_policy(user=request.user, workflow_id=workflow_id),
    }
    return render(request, "workflows/detail.html", context)


@login_required
@require_GET
def workflow_diff(request: AuthenticatedHttpRequest, workflow_id: str) -> HttpResponse:
    ensure_can(user=request.user, action=Action.VIEW, workflow_id=workflow_id)
    versions = selectors.workflow_versions(workflow_id=workflow_id)
    data: Mapping[str, Any] = request.GET
    if "left" not in data and "right" not in data and versions:
        # Opened without a choice: the previous version against the latest, not the latest against itself.
        data = {"left": versions[min(1, len(versions) - 1)].version, "right": versions[0].version}
    form = VersionDiffForm(data)
    rows = None
    if form.is_valid():
        try:
            rows = selectors.workflow_diff(
                workflow_id=workflow_id, left=form.cleaned_data["left"], right=form.cleaned_data["right"]
            )
        except errors.MintNotFoundError:
            form.add_error(None, "One of these versions does not exist.")
    workflow = selectors.workflow_get(workflow_id=workflow_id)
    context = {"workflow": workflow, "versions": versions, "form": form, "rows": rows}
    return render_region(request, "workflows/diff.html", context, region="diff-table")


@login_required
@require_GET
def workflow_file(request: AuthenticatedHttpRequest, workflow_id: str, file_id: str) -> HttpResponse:
    ensure_can(user=request.user, action=Action.VIEW, workflow_id=workflow_id)
    return mint_download(lambda: get_client().download_workflow_file(workflow_id, file_id))


def _step_types_or_note(request: AuthenticatedHttpRequest) -> tuple[list[Any], str | None]:
    """The catalogue for the editor's side panel; an outage leaves the form usable and says why it is empty."""
    types: list[Any] = []
    with mint_or_outage(request) as read:
        types = selectors.step_type_list()
    return types, read.note


def _render_workflow_form(request: AuthenticatedHttpRequest, form: WorkflowForm, *, workflow: Any, status: int = 200
                          ) -> HttpResponse:
    step_types, catalogue_note = _step_types_or_note(request)
    context = {"form": form, "workflow": workflow, "step_types": step_types, "catalogue_note": catalogue_note}
    return render(request, "workflows/form.html", context, status=status)


def _save(request: AuthenticatedHttpRequest, form: WorkflowForm, *, workflow_id: str | None) -> HttpResponse | None:
    """Saves a valid form through the service; on Mint's refusal puts its reasons on the form's fields."""
    try:
        if workflow_id is None:
            saved = services.workflow_create(actor=request.user, data=form.to_input())
            messages.success(request, f"Created workflow “{saved.name}” (version {saved.version}).")
        else:
            saved = services.workflow_update(actor=request.user, workflow_id=workflow_id, data=form.to_input())
            messages.success(request, f"Saved “{saved.name}” as version {saved.version}.")
    except (errors.MintValidationError, errors.MintConflictError) as exc:
        add_mint_errors(form, exc, fields=WORKFLOW_MINT_FIELDS)
        return None
    return redirect("workflows:detail", workflow_id=saved.id)


@login_required
@require_http_methods(["GET", "POST"])
def workflow_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    ensure_global(user=request.user, action=Action.MANAGE)
    if request.method == "POST":
        form = WorkflowForm(request.POST)
        if form.is_valid() and (response := _save(request, form, workflow_id=None)):
            return response
        return _render_workflow_form(request, form, workflow=None, status=400)
    initial = {"steps": [{"id": "start", "type": "finish", "displayName": "Finish"}], "connections": []}
    return _render_workflow_form(request, WorkflowForm(initial=initial), workflow=None)


@login_required
@require_http_methods(["GET", "POST"])
def workflow_edit(request: AuthenticatedHttpRequest, workflow_id: str) -> HttpResponse:
    ensure_can(user=request.user, action=Action.MANAGE, workflow_id=workflow_id)
    try:
        workflow = selectors.workflow_get(workflow_id=workflow_id)
    except errors.MintNotFoundError:
        raise NotVisible("No such workflow") from None
    if request.method == "POST":
        form = WorkflowForm(request.POST)
        if form.is_valid() and (response := _save(request, form, workflow_id=workflow_id)):
            return response
        return _render_workflow_form(request, form, workflow=workflow, status=400)
    return _render_workflow_form(request, WorkflowForm(initial=WorkflowForm.initial_from(workflow)),
                                 workflow=workflow)


@login_required
@require_POST
def workflow_publish(request: AuthenticatedHttpRequest, workflow_id: str, version: int) -> HttpResponse:
    """Publishing changes what every new journey runs, so the first POST only asks; the confirmed one publishes."""
    ensure_can(user=request.user, action=Action.MANAGE, workflow_id=workflow_id)
    if not PublishForm(request.POST).is_valid():
        workflow = selectors.workflow_get(workflow_id=workflow_id)
        published = next((v for v in selectors.workflow_versions(workflow_id=workflow_id) if v.is_published), None)
        context = {"workflow": workflow, "version": version, "published": published}
        return render(request, "workflows/publish_confirm.html", context)
    try:
        services.workflow_publish(actor=request.user, workflow_id=workflow_id, version=version)
        messages.success(request, f"Published version {version}: new journeys start from it.")
    except (errors.MintNotFoundError, errors.MintValidationError, errors.MintConflictError) as exc:
        messages.error(request, f"Mint did not publish version {version}: {exc.message}")
    return redirect("workflows:detail", workflow_id=workflow_id)


@login_required
@require_GET
def step_types(request: AuthenticatedHttpRequest) -> HttpResponse:
    ensure_global(user=request.user, action=Action.VIEW)
    form = StepTypeSearchForm(request.GET)
    search = form.cleaned_data["q"] if form.is_valid() else ""
    types = []
    with mint_or_outage(request) as read:
        types = selectors.step_type_list(search=search)
    context = {"form": form, "step_types": types, "note": read.note}
    return render_region(request, "workflows/step_types.html", context, region="step-type-table")


def _ensure_secrets(request: AuthenticatedHttpRequest) -> None:
    if not selectors.may_manage_secrets(request.user):
        raise NotAllowed("Managing secrets needs the manage right on every workflow.")


@sensitive_post_parameters("value")
@login_required
@require_http_methods(["GET", "POST"])
@sensitive_variables("form")
def secrets(request: AuthenticatedHttpRequest) -> HttpResponse:
    _ensure_secrets(request)
    form = SecretForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                record = services.secret_create(
                    actor=request.user, name=form.cleaned_data["name"],
                    # Required when creating (SecretForm), so never empty here.
                    description=form.cleaned_data["description"], value=form.cleaned_data["value"],
                )
            except (errors.MintValidationError, errors.MintConflictError) as exc:
                add_mint_errors(form, exc, fields=SECRET_MINT_FIELDS)
            else:
                messages.success(request, f"Created secret “{record.name}”. Its value is stored in Mint only.")
                return redirect("workflows:secrets")
        status = 400
    context = {"form": form, "records": selectors.secret_record_list()}
    return render(request, "workflows/secrets.html", context, status=status)


@sensitive_post_parameters("value")
@login_required
@require_http_methods(["GET", "POST"])
@sensitive_variables("form")
def secret_edit(request: AuthenticatedHttpRequest, secret_id: str) -> HttpResponse:
    _ensure_secrets(request)
    try:
        record = SecretRecord.objects.get(pk=secret_id)
    except SecretRecord.DoesNotExist:
        raise NotVisible("This secret is not in the portal's register") from None
    initial = {"name": record.name, "description": record.description}
    form = SecretForm(request.POST or None, initial=initial, updating=secret_id)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                record = services.secret_update(
                    actor=request.user, secret_id=secret_id, name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"], value=form.new_value(),
                )
            except errors.MintNotFoundError:
                form.add_error(None, "Mint no longer has this secret.")
            except (errors.MintValidationError, errors.MintConflictError) as exc:
                add_mint_errors(form, exc, fields=SECRET_MINT_FIELDS)
            else:
                changed = " and its value" if form.new_value() is not None else ""
                messages.success(request, f"Updated secret “{record.name}”{changed}.")
                return redirect("workflows:secrets")
        status = 400
    return render(request, "workflows/secret_edit.html", {"form": form, "record": record}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def step_form_edit(request: AuthenticatedHttpRequest, workflow_id: str, version: int, step_id: str) -> HttpResponse:
    """The form a person fills in to continue suspend step ``step_id`` of one version: its fields, their order,
    types, labels, help, defaults and choices. Starts from the saved form, the previous version's or the draft
    derived from the definition."""
    ensure_can(user=request.user, action=Action.MANAGE, workflow_id=workflow_id)
    try:
        workflow = selectors.workflow_get(workflow_id=workflow_id, version=version)
    except errors.MintNotFoundError:
        raise NotVisible("No such workflow version") from None
    if not selectors.step_is_manual(workflow=workflow, step_id=step_id):
        raise NotVisible("No such manual step in this version")
    current = selectors.step_form_get(workflow=workflow, step_id=step_id)
    status, refusal = 200, ""
    if request.method == "POST":
        formset = cast(BaseStepFieldFormSet, StepFieldFormSet(request.POST))
        if formset.is_valid():
            try:
                services.step_form_save(actor=request.user, workflow=workflow, step_id=step_id,
                                        fields=formset.fields_in_order())
            except Refused as exc:
                refusal = exc.message
            else:
                messages.success(request, f"Saved the form of “{step_id}” for version {version}.")
                return redirect("workflows:step_form", workflow_id=workflow_id, version=version, step_id=step_id)
        status = 400
    else:
        formset = cast(BaseStepFieldFormSet,
                       StepFieldFormSet(initial=[StepFieldForm.initial_from(item) for item in current.fields]))
    step = next(step for step in workflow.steps if step.id == step_id)
    context = {"workflow": workflow, "step": step, "current": current, "formset": formset, "refusal": refusal}
    return render(request, "workflows/step_form.html", context, status=status)
