"""Reads for retention (the journeys due) and erasure requests (the journeys that hold a value, a request as its
page shows it, the report's CSV)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import DateTimeField, Q, QuerySet
from django.db.models.functions import Coalesce

from accounts.models import Action
from accounts.policy import workflow_access
from compliance.models import ErasureRequest
from journeys.models import Journey, JourneyStatus, PersonalValue
from mintportal.csv_export import csv_lines
from mintportal.errors import NotVisible
from privacy.masking import Masker
from privacy.selectors import retention_rules

REPORT_COLUMNS: Final = ["journey_id", "workflow_id", "workflow", "status", "removed_from_portal", "removed_at",
                         "removed_by", "remains_in_mint"]

# When a journey ended: the same expression as the partial index of journeys migration 0013_retention_index, so
# PostgreSQL reads due journeys from that index in this order.
ENDED: Final = Coalesce("finished_at", "cancelled_at", "faulted_at", "last_executed_at", output_field=DateTimeField())


@dataclass(frozen=True)
class ErasureRow:
    """A found journey as the confirmation list shows it: the name masked, never the data."""

    journey_id: str
    masked_name: str
    workflow_id: str
    workflow_name: str
    status: str
    created_at: datetime | None
    ended_at: datetime | None
    data_removed_by: str


def retention_due(*, now: datetime) -> QuerySet[Any]:
    """Final journeys whose data is still held and that ended at or before ``now`` less their workflow's retention
    (``privacy.selectors.retention_days``; 0: as soon as they end), annotated with ``ended``, oldest first (the
    order of the partial index ``journey_retention_due``). A journey with no end date is never due."""
    rules = retention_rules()
    default_days = settings.PERSONAL_DATA_RETENTION_DAYS
    due = Q(~Q(workflow_id__in=sorted(rules)), ended__lte=now - timedelta(days=default_days))
    for workflow_id, days in sorted(rules.items()):
        due |= Q(workflow_id=workflow_id, ended__lte=now - timedelta(days=days))
    # No journey that ended after the most lenient cutoff can be due: that bound makes the index scan a range.
    latest_cutoff = now - timedelta(days=min([default_days, *rules.values()]))
    return (Journey.objects.annotate(ended=ENDED)
            .filter(data_removed_at__isnull=True, status__in=sorted(JourneyStatus.final()), ended__lte=latest_cutoff)
            .filter(due)
            .only("id", "workflow_id", "status", "name", "data", "data_removed_at")
            .order_by("ended", "id"))


def erasure_journey_ids(*, user: AbstractBaseUser | AnonymousUser, hashes: Iterable[str]) -> list[str]:
    """The journeys, on workflows where ``user`` may erase, whose data holds a value with one of ``hashes``
    (by their ``PersonalValue`` rows), by id."""
    wanted = sorted(set(hashes))
    if not wanted:
        return []
    access = workflow_access(user=user, action=Action.ERASE)
    holders = PersonalValue.objects.filter(hash__in=wanted).values("journey_id")
    return list(Journey.objects.filter(access.q("workflow_id"), pk__in=holders)
                .order_by("id").values_list("id", flat=True))


def erasure_request_get(*, user: AbstractBaseUser | AnonymousUser, request_id: int) -> ErasureRequest:
    """The request, for the person who made it (or a superuser); anyone else meets the 404 page."""
    found = ErasureRequest.objects.filter(pk=request_id).first()
    if found is None or not (getattr(user, "is_superuser", False) or found.requested_by_id == user.pk):
        raise NotVisible("Not found")
    return found


def erasure_rows(*, request: ErasureRequest) -> list[ErasureRow]:
    """The request's journeys as the mirror has them now, names masked by each journey's own personal values."""
    journeys = (Journey.objects.filter(pk__in=request.journey_ids).annotate(ended=ENDED)
                .only("id", "name", "data", "workflow_id", "workflow_name", "status", "created_at",
                      "data_removed_by").order_by("workflow_id", "id"))
    return [ErasureRow(
        journey_id=row.id, masked_name=Masker.for_data(row.data).text(row.name), workflow_id=row.workflow_id,
        workflow_name=row.workflow_name, status=row.status, created_at=row.created_at,
        # ENDED falls back to the last activity (retention's clock); a journey still running has not ended.
        ended_at=row.ended if row.status in JourneyStatus.final() else None, data_removed_by=row.data_removed_by,
    ) for row in journeys]


def erasure_report_lines(*, report: dict[str, Any]) -> Iterator[str]:
    """The report as CSV: one line per journey, with what the portal removed and what Mint still holds."""
    remains = str(report.get("remains_in_mint", ""))
    return csv_lines(REPORT_COLUMNS, (
        [item["journey_id"], item["workflow_id"], item.get("workflow_name", ""), item["status"],
         "; ".join(item.get("removed", [])), item.get("removed_at", ""), item.get("removed_by", ""), remains]
        for item in report.get("journeys", [])
    ))
