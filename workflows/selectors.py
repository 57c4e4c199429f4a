"""Reads for workflows, versions, step types and secrets.

Workflow listings, definitions, versions and the step-type catalogue come from Mint through the JSON cache
(``mintportal.cache``): a repeated page view makes no call to Mint. The cache keys are built here; the
services in ``workflows.services`` delete them after each write. Listings depend on what the user may see,
so their keys carry a digest of the user's scope.

Entries are served stale while revalidated (``cached_json_swr``): once older than their lifetime they are
still shown, and a Celery task (``workflows.tasks.workflow_cache_refill_task``) reads them again from Mint, so a
page never waits for Mint to renew what it already has, and the launch form and the workflow page keep
working from the last known definition through an outage of Mint (kept ``MINT_STALE_TTL`` seconds).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from accounts.models import Action, WorkflowRecord
from accounts.policy import WorkflowAccess, workflow_access
from mintportal.cache import cache_key, cache_refill, cached_json_swr, generation
from mintportal.mint import get_client, models
from workflows.models import SecretRecord, StepForm
from workflows.stepforms import SUSPEND, FormField, derive_step_form, merge_missing

LIST_TTL: Final = 60
# Mint creates a new version on every save, so a numbered version never changes: keep it long.
VERSION_TTL: Final = 3600
LATEST_TTL: Final = 60
STEP_TYPES_TTL: Final = 3600
# Mint accepts at most this many ids in one listing filter.
MAX_ID_FILTER: Final = 100
# Every workflow write moves this generation on, retiring all cached listings at once (see services).
LISTING_GENERATION: Final = "workflows-listing"

WORKFLOW_SORTS: Final = {
    "name": "Name (A–Z)",
    "-name": "Name (Z–A)",
    "-createdAt": "Newest first",
    "createdAt": "Oldest first",
}
VERSION_FILTERS: Final = {"latest": "Latest version", "published": "Published version"}


def may_manage_secrets(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Secrets belong to the whole Mint account, so managing them needs the manage right on every workflow."""
    return workflow_access(user=user, action=Action.MANAGE).everything


def _ids_digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16]


def scope_digest(access: WorkflowAccess) -> str:
    """A short, stable name for what a user may see, for cache keys of scoped listings."""
    if access.everything:
        return "all"
    return _ids_digest(list(access.workflow_ids))


def workflow_list_key(*, scope: str, search: str, sort: str, version: str, offset: int, limit: int) -> str:
    return cache_key("workflows", "list", generation(LISTING_GENERATION), scope, search, sort, version, str(offset),
                     str(limit))


def workflow_definition_key(*, workflow_id: str, version: int | None) -> str:
    return cache_key("workflows", "definition", workflow_id, str(version) if version is not None else "latest")


def workflow_versions_key(*, workflow_id: str) -> str:
    return cache_key("workflows", "versions", workflow_id)


def step_types_key() -> str:
    return cache_key("workflows", "step-types")


@dataclass(frozen=True)
class WorkflowPage:
    rows: list[models.WorkflowSummary]
    total: int
    offset: int
    limit: int

    @property
    def page(self) -> int:
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.total


def _page_json(page: models.Page[Any]) -> dict[str, Any]:
    return {"data": [row.to_wire() for row in page.data], "total": page.total_count}


# --- the cached reads, each by a name the background refresh uses ---------------------------------


def _load_list(*, ids: list[str] | None, search: str, sort: str, version: str, offset: int, limit: int
               ) -> dict[str, Any]:
    """One page of Mint's workflow listing, limited to ``ids`` unless None (the user may see every workflow)."""
    client = get_client()
    client_args: dict[str, Any] = {"search": search or None, "sort": sort or None, "version": version or None}
    if ids is None:
        return _page_json(client.list_workflows(**client_args, offset=offset, limit=limit))
    if len(ids) <= MAX_ID_FILTER:
        return _page_json(client.list_workflows(**client_args, ids=ids, offset=offset, limit=limit))
    allowed_ids = set(ids)
    allowed = [row.to_wire() for row in client.iter_workflows(**client_args) if row.id in allowed_ids]
    return {"data": allowed[offset : offset + limit], "total": len(allowed)}


def _list_key(*, ids: list[str] | None, search: str, sort: str, version: str, offset: int, limit: int) -> str:
    scope = "all" if ids is None else _ids_digest(ids)
    return workflow_list_key(scope=scope, search=search, sort=sort, version=version, offset=offset, limit=limit)


def _load_definition(*, workflow_id: str, version: int | None) -> dict[str, Any]:
    return get_client().get_workflow(workflow_id, version=version).to_wire()


def _load_versions(*, workflow_id: str) -> list[dict[str, Any]]:
    return [row.to_wire() for row in get_client().iter_workflow_versions(workflow_id)]


def _load_step_types() -> list[dict[str, Any]]:
    return [row.to_wire() for row in get_client().list_step_types()]


# name: (key for the parameters, loader, seconds an entry is fresh)
_CACHED: Final[dict[str, tuple[Any, Any, Any]]] = {
    "list": (_list_key, _load_list, lambda **params: LIST_TTL),
    "definition": (workflow_definition_key, _load_definition,
                   lambda *, version, **params: LATEST_TTL if version is None else VERSION_TTL),
    "versions": (workflow_versions_key, _load_versions, lambda **params: LIST_TTL),
    "step-types": (step_types_key, _load_step_types, lambda **params: STEP_TYPES_TTL),
}


def _keep_for(fresh_for: int) -> int:
    return max(int(settings.MINT_STALE_TTL), fresh_for)


def _queue_refresh(*, what: str, params: dict[str, Any]) -> None:
    # tasks.py imports this module, so the task is looked up when a refresh is due, not at import.
    from workflows.tasks import workflow_cache_refill_task

    # retry=False: with the broker down the page goes on with the stale value instead of waiting for it.
    workflow_cache_refill_task.apply_async(kwargs={"what": what, "params": params}, retry=False)


def _cached(what: str, **params: Any) -> Any:
    key_for, load, fresh = _CACHED[what]
    fresh_for = fresh(**params)
    return cached_json_swr(key_for(**params), fresh_for=fresh_for, keep_for=_keep_for(fresh_for),
                           load=lambda: load(**params), refresh=lambda: _queue_refresh(what=what, params=params))


def workflow_cache_refill(*, what: str, params: dict[str, Any]) -> None:
    """Reads one cached workflow entry (``what``: list, definition, versions, step-types) from Mint again and
    stores it as fresh. Raises ``MintError`` when Mint cannot answer; the stale entry then stays."""
    key_for, load, fresh = _CACHED[what]
    cache_refill(key_for(**params), keep_for=_keep_for(fresh(**params)), load=lambda: load(**params))


def workflow_list(
    *,
    user: AbstractBaseUser | AnonymousUser,
    search: str = "",
    sort: str = "name",
    version: str = "latest",
    offset: int = 0,
    limit: int = 20,
) -> WorkflowPage:
    """One page of the workflows the user may view, from Mint's listing through the cache.

    A user limited to some workflows gets Mint's listing filtered by their ids; past Mint's 100-id filter
    limit the selector walks the whole listing and keeps the allowed rows.
    """
    access = workflow_access(user=user, action=Action.VIEW)
    if access.nothing:
        return WorkflowPage(rows=[], total=0, offset=offset, limit=limit)
    ids = None if access.everything else sorted(access.workflow_ids)
    data = _cached("list", ids=ids, search=search, sort=sort, version=version, offset=offset, limit=limit)
    rows = [models.WorkflowSummary.model_validate(row) for row in data["data"]]
    return WorkflowPage(rows=rows, total=int(data["total"]), offset=offset, limit=limit)


def workflow_get(*, workflow_id: str, version: int | None = None) -> models.WorkflowDefinition:
    """One version of a workflow (the latest when ``version`` is None), from Mint through the cache."""
    return models.WorkflowDefinition.model_validate(_cached("definition", workflow_id=workflow_id, version=version))


def workflow_versions(*, workflow_id: str) -> list[models.WorkflowVersion]:
    """Every version of a workflow, newest first."""
    versions = [models.WorkflowVersion.model_validate(row) for row in _cached("versions", workflow_id=workflow_id)]
    return sorted(versions, key=lambda row: row.version, reverse=True)


def step_type_list(*, search: str = "") -> list[models.StepType]:
    """The step-type catalogue, optionally narrowed to types whose name, category or text mention ``search``."""
    types = [models.StepType.model_validate(row) for row in _cached("step-types")]
    needle = search.strip().lower()
    if needle:
        types = [
            row for row in types
            if needle in " ".join((row.type, row.display_name, row.category, row.description or "")).lower()
        ]
    return sorted(types, key=lambda row: (row.category.lower(), row.display_name.lower()))


# --- diff ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff; ``kind`` is equal, replace, delete, insert or gap (skipped lines)."""

    kind: str
    left_number: int | None
    left: str
    right_number: int | None
    right: str


def definition_text(workflow: models.WorkflowDefinition) -> list[str]:
    """The parts of a version that a save can change, as pretty-printed JSON lines (stable key order)."""
    body = models.WorkflowInput.from_workflow(workflow).to_wire()
    return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def _diff_rows(left: list[str], right: list[str], *, context: int) -> list[DiffRow]:
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    groups = list(matcher.get_grouped_opcodes(context))
    for number, group in enumerate(groups):
        if number or group[0][1] > 0:
            rows.append(DiffRow(kind="gap", left_number=None, left="", right_number=None, right=""))
        for tag, i1, i2, j1, j2 in group:
            span = max(i2 - i1, j2 - j1)
            for offset in range(span):
                i, j = i1 + offset, j1 + offset
                has_left, has_right = i < i2, j < j2
                kind = tag if tag != "replace" else ("replace" if has_left and has_right else
                                                     "delete" if has_left else "insert")
                rows.append(DiffRow(
                    kind=kind,
                    left_number=i + 1 if has_left else None,
                    left=left[i] if has_left else "",
                    right_number=j + 1 if has_right else None,
                    right=right[j] if has_right else "",
                ))
    if groups and groups[-1][-1][2] < len(left):
        rows.append(DiffRow(kind="gap", left_number=None, left="", right_number=None, right=""))
    return rows


def workflow_diff(*, workflow_id: str, left: int, right: int, context: int = 3) -> list[DiffRow]:
    """A side-by-side diff of two versions' definitions; unchanged runs beyond ``context`` lines are folded.

    Equal versions give an empty list.
    """
    left_lines = definition_text(workflow_get(workflow_id=workflow_id, version=left))
    right_lines = definition_text(workflow_get(workflow_id=workflow_id, version=right))
    if left_lines == right_lines:
        return []
    return _diff_rows(left_lines, right_lines, context=context)


# --- secrets ------------------------------------------------------------------------------------


def secret_record_list() -> QuerySet[SecretRecord]:
    """The register of secrets created through the portal, by name, with who created and last changed them."""
    return SecretRecord.objects.select_related("created_by", "updated_by").order_by("name", "id")


def workflow_mirror_list(*, user: AbstractBaseUser | AnonymousUser, search: str = "", limit: int = 200
                         ) -> list[WorkflowRecord]:
    """The portal's own copy of the workflows the user may view, for when Mint cannot be reached."""
    access = workflow_access(user=user, action=Action.VIEW)
    rows = WorkflowRecord.objects.filter(access.q("id")).order_by("name", "id")
    if search:
        rows = rows.filter(Q(name__icontains=search) | Q(description__icontains=search) | Q(id=search))
    return list(rows[:limit])


# --- forms of manual steps ------------------------------------------------------------------------


@dataclass(frozen=True)
class StepFormView:
    """The form of one suspend step of one workflow version, and where it comes from: ``saved`` for this version,
    ``previous`` (``from_version``'s form, plus any key this version newly reads), or ``derived`` (the draft read
    from the definition, never saved)."""

    workflow_id: str
    version: int
    step_id: str
    fields: tuple[FormField, ...]
    source: str
    from_version: int | None = None
    # Keys this version reads from the step's output that the form does not ask for (the editor warns of them).
    unasked: tuple[str, ...] = ()

    @property
    def saved(self) -> bool:
        return self.source == "saved"


def step_is_manual(*, workflow: models.WorkflowDefinition, step_id: str) -> bool:
    return any(step.id == step_id and step.type == SUSPEND for step in workflow.steps)


def step_form_get(*, workflow: models.WorkflowDefinition, step_id: str) -> StepFormView:
    """The form a person fills in to continue ``step_id`` of this version of the workflow: the one saved for the
    version, else the nearest earlier version's (with the keys this version newly reads added), else the draft
    derived from the definition. One query; no Mint call."""
    draft = derive_step_form(workflow, step_id)
    row = (StepForm.objects.filter(workflow_id=workflow.id, step_id=step_id, version__lte=workflow.version)
           .order_by("-version").first())
    if row is None:
        return StepFormView(workflow_id=workflow.id, version=workflow.version, step_id=step_id, fields=draft,
                            source="derived")
    fields = tuple(FormField.from_json(item) for item in row.fields)
    if row.version == workflow.version:
        asked = {item.key for item in fields}
        return StepFormView(workflow_id=workflow.id, version=workflow.version, step_id=step_id, fields=fields,
                            source="saved", unasked=tuple(item.key for item in draft if item.key not in asked))
    return StepFormView(workflow_id=workflow.id, version=workflow.version, step_id=step_id,
                        fields=merge_missing(fields, draft), source="previous", from_version=row.version)
