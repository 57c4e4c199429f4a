"""A workflow's "Personal data" page: which fields of its journeys are personal (per version), a first draft of
them from its latest journeys, and how long the portal keeps its journeys' data.

Anyone who may view the workflow reads the page; changing it takes MANAGE on the workflow. The draft reads Mint
live and shows paths, kinds and reasons, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.models import Action
from accounts.policy import ensure_can, user_can
from mintportal.errors import NotVisible, Refused, invalid_parameters
from mintportal.middleware import AuthenticatedHttpRequest
from mintportal.mint import errors
from mintportal.mint import models as mint
from mintportal.outage import mint_or_outage
from privacy import kinds, selectors, services
from privacy.draft_source import SAMPLE_SIZE, draft_suggestions
from privacy.forms import (
    PREFIX,
    RETENTION_PREFIX,
    BasePersonalFieldFormSet,
    PersonalFieldForm,
    PersonalFieldFormSet,
    RetentionForm,
    VersionForm,
    field_formset,
    posted_rows,
)
from privacy.masking import PersonalField
from workflows import selectors as workflow_selectors


def _default_version(versions: list[mint.WorkflowVersion]) -> int:
    """The version new journeys start from (the newest published one), else the latest."""
    published = [row.version for row in versions if row.is_published]
    return max(published) if published else versions[0].version


def _known_paths(workflow: mint.WorkflowDefinition) -> list[str]:
    """Path beginnings the version's definition names, offered while typing a path."""
    return ([f"input.{parameter.name}" for parameter in workflow.input_parameters]
            + [f"steps.{step.id}." for step in workflow.steps])


def _chosen_version(request: AuthenticatedHttpRequest, workflow_id: str
                    ) -> tuple[list[mint.WorkflowVersion], int, bool]:
    """The workflow's versions, the version asked for (default: the published one) and whether to draft."""
    query = VersionForm(request.GET)
    if not query.is_valid():
        raise invalid_parameters(query)
    try:
        versions = workflow_selectors.workflow_versions(workflow_id=workflow_id)
    except errors.MintNotFoundError:
        raise NotVisible("No such workflow") from None
    if not versions:
        raise NotVisible("No such workflow")
    version = query.cleaned_data["version"] or _default_version(versions)
    if version not in {row.version for row in versions}:
        raise NotVisible("No such workflow version")
    return versions, version, query.cleaned_data["suggest"]


@dataclass
class _Editor:
    """What the page shows of the declaration and the retention, as a submission or a draft left them."""

    formset: BasePersonalFieldFormSet
    retention_form: RetentionForm
    status: int = 200
    refusal: str = ""
    reasons: dict[str, str] = field(default_factory=dict)
    draft_note: str | None = None
    suggested: bool = False


def _post(request: AuthenticatedHttpRequest, editor: _Editor, *, workflow_id: str, version: int) -> bool:
    """Handles the page's three buttons; True when something was saved (the caller redirects)."""
    action = request.POST.get("save", "fields")
    if action == "add":
        rows, blank = posted_rows(request.POST)
        editor.formset = field_formset(rows, extra=blank + 1)
        return False
    editor.status = 400
    if action == "retention":
        form = editor.retention_form = RetentionForm(request.POST, prefix=RETENTION_PREFIX)
        if not form.is_valid():
            return False
        try:
            services.retention_rule_save(actor=request.user, workflow_id=workflow_id, days=form.cleaned_data["days"])
        except Refused as exc:
            form.add_error("days", exc.message)
            return False
        messages.success(request, "Saved the retention of this workflow's journey data.")
        return True
    formset = PersonalFieldFormSet(request.POST, prefix=PREFIX)
    assert isinstance(formset, BasePersonalFieldFormSet)
    editor.formset = formset
    if not formset.is_valid():
        return False
    try:
        services.declaration_save(actor=request.user, workflow_id=workflow_id, version=version,
                                  fields=list(formset.declared()))
    except Refused as exc:
        editor.refusal = exc.message
        return False
    messages.success(request, f"Saved the personal fields of version {version}.")
    return True


def _suggest(request: AuthenticatedHttpRequest, editor: _Editor, *, workflow_id: str,
             declared: tuple[PersonalField, ...]) -> None:
    """Fills the editor with the declared fields and, after them, what the draft proposes besides."""
    with mint_or_outage(request) as read:
        suggestions = draft_suggestions(workflow_id=workflow_id)
    if read.failed:
        editor.draft_note = read.note
        return
    if not suggestions:
        editor.draft_note = f"Nothing in the latest {SAMPLE_SIZE} journeys looks like personal data."
        return
    current = {item.path for item in declared}
    rows = [PersonalFieldForm.initial_from(item) for item in declared]
    rows += [{"path": item.path, "kind": item.kind} for item in suggestions if item.path not in current]
    editor.formset = field_formset(rows)
    editor.reasons = {item.path: item.reason for item in suggestions}
    editor.suggested = True


@login_required
@require_http_methods(["GET", "POST"])
def workflow_personal_data(request: AuthenticatedHttpRequest, workflow_id: str) -> HttpResponse:
    ensure_can(user=request.user, action=Action.MANAGE if request.method == "POST" else Action.VIEW,
               workflow_id=workflow_id)
    versions, version, suggest = _chosen_version(request, workflow_id)
    may_manage = user_can(user=request.user, action=Action.MANAGE, workflow_id=workflow_id)
    page_url = f"{reverse('privacy:workflow', kwargs={'workflow_id': workflow_id})}?version={version}"
    declared = selectors.declaration_fields(workflow_id=workflow_id, version=version)
    editor = _Editor(
        formset=field_formset([PersonalFieldForm.initial_from(item) for item in declared]),
        retention_form=RetentionForm(prefix=RETENTION_PREFIX,
                                     initial={"days": selectors.retention_rule_days(workflow_id=workflow_id)}),
    )
    if request.method == "POST":
        if _post(request, editor, workflow_id=workflow_id, version=version):
            return redirect(page_url)
    elif suggest and may_manage:
        _suggest(request, editor, workflow_id=workflow_id, declared=declared)
    workflow = workflow_selectors.workflow_get(workflow_id=workflow_id, version=version)
    context: dict[str, Any] = {
        "workflow": workflow,
        "versions": versions,
        "version": version,
        "source": selectors.declaration_source(workflow_id=workflow_id, version=version),
        "declared": [(item, kinds.KINDS.get(item.kind, item.kind)) for item in declared],
        "may_manage": may_manage,
        "editor": editor,
        "formset": editor.formset,
        # Each row with the draft's reason for it, if the draft proposed it.
        "rows": [(form, editor.reasons.get(str(form["path"].value() or "").strip(), "")) for form in editor.formset],
        "sample_size": SAMPLE_SIZE,
        "known_paths": _known_paths(workflow),
        "retention_form": editor.retention_form,
        "default_days": settings.PERSONAL_DATA_RETENTION_DAYS,
        "page_url": page_url,
    }
    return render(request, "privacy/workflow.html", context, status=editor.status)
