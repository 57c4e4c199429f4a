"""Listing parameters shared by every listing: offset, limit, sort and search, with the reference's bounds.

The sortable fields of each listing and its default sort are constants here, so that the OpenAPI document
(sandbox/openapi.py) describes exactly what the server accepts. Ties in the sort field are broken by id in the same
direction, which keeps pages stable and lets one index serve the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict

from sandbox.core.validation import INT32_MAX, Checker

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_SORT_LENGTH = 50
MAX_SEARCH_LENGTH = 100

# API field -> model field, per listing.
WORKFLOW_SORT_FIELDS = {"name": "name", "createdAt": "created_at", "version": "version"}
WORKFLOW_DEFAULT_SORT = "-createdAt"

JOURNEY_SORT_FIELDS = {
    "name": "name",
    "status": "status",
    "createdAt": "created_at",
    "lastExecutedAt": "last_executed_at",
    "workflowName": "workflow_name",
    "version": "version",
}
JOURNEY_DEFAULT_SORT = "-lastExecutedAt"
JOURNEY_STATUSES = ("idle", "running", "finished", "active", "faulted", "cancelled")

NOTE_SORT_FIELDS = {"createdAt": "created_at", "updatedAt": "updated_at"}
NOTE_DEFAULT_SORT = "-createdAt"

# The versions listing has no sort parameter: newest version first.
VERSION_SORT_FIELDS = {"version": "version"}
VERSION_DEFAULT_SORT = "-version"

WORKFLOW_VERSION_FILTERS = ("latest", "published")
MAX_ID_FILTER_ITEMS = 100


@dataclass(frozen=True)
class Paging:
    offset: int
    limit: int
    order_by: tuple[str, str]
    search: str | None


def check_paging(query: QueryDict, checker: Checker, *, sort_fields: dict[str, str], default_sort: str,
                 sortable: bool = True, searchable: bool = True, tie_field: str = "id") -> Paging:
    """Reads offset, limit and (when the listing has them) sort and search; records what is invalid.

    ``tie_field`` is the model field holding the listed resource's API id (ties are ordered by it)."""
    values = {key: query.get(key) for key in ("offset", "limit", "sort", "search")}
    offset = checker.integer(values, "offset", low=0, high=INT32_MAX, from_text=True)
    limit = checker.integer(values, "limit", low=1, high=MAX_LIMIT, from_text=True)
    sort = default_sort
    search = None
    if sortable:
        requested = checker.string(values, "sort", max_length=MAX_SORT_LENGTH)
        # Present but empty is not a field name either: only an absent sort means the default.
        if requested is not None:
            if requested.lstrip("-") in sort_fields:
                sort = requested
            else:
                checker.add("sort", "Unknown sort field; supported: " + ", ".join(sort_fields) + " (prefix - to "
                            "sort descending).")
    if searchable:
        search = checker.string(values, "search", max_length=MAX_SEARCH_LENGTH) or None
    field = sort_fields[sort.lstrip("-")]
    prefix = "-" if sort.startswith("-") else ""
    return Paging(
        offset=offset if offset is not None else 0,
        limit=limit if limit is not None else DEFAULT_LIMIT,
        order_by=(prefix + field, prefix + tie_field),
        search=search,
    )


def page(queryset: QuerySet[Any], paging: Paging) -> tuple[list[Any], int]:
    """One page of ``queryset`` in the paging's order, and the total count of the filtered queryset."""
    total = queryset.count()
    rows = list(queryset.order_by(*paging.order_by)[paging.offset:paging.offset + paging.limit])
    return rows, total


def envelope(data: list[dict[str, Any]], paging: Paging, total: int) -> dict[str, Any]:
    return {"data": data, "offset": paging.offset, "limit": paging.limit, "totalCount": total}
