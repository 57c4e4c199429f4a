"""Erasure: "forget a person" on a data protection officer's request, in two steps.

``erasure_find`` turns the value into its keyed hashes (the value itself is never stored, logged or audited),
finds the journeys whose data holds one of them and records an ``ErasureRequest`` (draft) listing them.
``erasure_confirm`` forgets exactly those journeys' data as retention does (``by="erasure"``), retires the cached
lists and exports, writes the report (what the portal removed; what remains in Mint, whose API cannot delete a
journey) and audits "person.erase" once. Confirming a request already done changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounts.models import Action
from accounts.policy import ensure_global, workflow_access
from accounts.services import audit_record
from bulk.models import BulkItem
from compliance.models import ErasureRequest, ErasureState
from compliance.selectors import erasure_journey_ids
from compliance.services.retention import ERASURE, journeys_data_forget
from journeys.models import Journey
from journeys.services.mirror import journey_mirror_changed
from privacy.masking import search_hashes
from privacy.models import RevealGrant

REMAINS_IN_MINT: Final = (
    "Mint still holds each of these journeys (its input, step data, execution log, notes and files) until Mint's "
    "own retention removes it: Mint's API offers no way to delete a journey or a note. Ask Mint's operator to "
    "erase these journey ids if the request requires it."
)
OUT_OF_SCOPE: Final = (
    "Found only where the value is in a field declared as personal (privacy declarations). A value written in "
    "clear into an undeclared field, a note or a file is not searched; journeys whose data the portal already "
    "forgot (retention) can no longer be matched, but Mint may still hold them."
)


def erasure_find(*, actor: User, value: str, kinds: Iterable[str], reference: str) -> ErasureRequest:
    """Records a draft request for ``value`` (looked up as each of ``kinds``; none: every kind) with the journeys,
    on workflows where ``actor`` may erase, whose data holds it. Only the value's hashes are kept."""
    ensure_global(user=actor, action=Action.ERASE)
    chosen = sorted(set(kinds))
    hashes = sorted(search_hashes(value, chosen or None))
    journey_ids = erasure_journey_ids(user=actor, hashes=hashes)
    return ErasureRequest.objects.create(
        reference=reference, kinds=chosen, value_hashes=hashes, requested_by=actor, created_at=timezone.now(),
        journey_ids=journey_ids,
    )


def erasure_confirm(*, actor: User, request: ErasureRequest) -> ErasureRequest:
    """Forgets the data of the request's journeys, stores the report and audits "person.erase" (the reference,
    the count and the journey ids; never the value). A request already done is returned unchanged."""
    ensure_global(user=actor, action=Action.ERASE)
    now = timezone.now()
    with transaction.atomic():
        locked = ErasureRequest.objects.select_for_update().get(pk=request.pk)
        if locked.state == ErasureState.DONE:
            return locked
        # Only where the confirmer may erase now: a right lost since the find step is not used.
        access = workflow_access(user=actor, action=Action.ERASE)
        rows = list(Journey.objects.select_for_update(of=("self",))
                    .filter(access.q("workflow_id"), pk__in=locked.journey_ids)
                    .only("id", "workflow_id", "workflow_name", "status", "name", "data", "data_removed_at",
                          "data_removed_by").order_by("id"))
        forgotten = {item.journey_id: item for item in journeys_data_forget(journeys=rows, by=ERASURE, now=now)}
        # A reveal made before the erasure would go on showing the person's data read live from Mint.
        RevealGrant.objects.filter(journey_id__in=locked.journey_ids).delete()
        names = dict(Journey.objects.filter(pk__in=locked.journey_ids).values_list("id", "name"))
        items: list[dict[str, Any]] = []
        for row in rows:
            item: dict[str, Any] = {"journey_id": row.id, "workflow_id": row.workflow_id,
                                    "workflow_name": row.workflow_name, "status": row.status,
                                    "name": names.get(row.id, "")}
            if row.id in forgotten:
                removed = forgotten[row.id].described()
                # A bulk action's items keep the name they were selected under; an erasure is rare and small
                # enough to mask those too (retention leaves them to the bulk jobs' own pruning).
                items_renamed = (BulkItem.objects.filter(journey_id=row.id).exclude(journey_name=item["name"])
                                 .update(journey_name=item["name"]))
                if items_renamed:
                    removed.append(f"name on {items_renamed} bulk action item{'s' if items_renamed != 1 else ''}")
                item.update(removed=removed, removed_at=now.isoformat(), removed_by=ERASURE)
            else:
                # Forgotten before (by retention, or meanwhile): nothing was left in the portal to remove.
                removed_at = row.data_removed_at.isoformat() if row.data_removed_at else ""
                item.update(removed=[f"already removed earlier ({row.data_removed_by})"], removed_at=removed_at,
                            removed_by=row.data_removed_by)
            items.append(item)
        present = set(Journey.objects.filter(pk__in=locked.journey_ids).values_list("id", flat=True))
        outside = sorted(present - {row.id for row in rows})
        gone = sorted(set(locked.journey_ids) - present)
        locked.report = {
            "reference": locked.reference, "confirmed_at": now.isoformat(), "confirmed_by": actor.get_username(),
            "journeys": items, "removed_now": len(forgotten), "no_longer_mirrored": gone,
            "outside_scope": outside,
            "remains_in_mint": REMAINS_IN_MINT, "out_of_scope": OUT_OF_SCOPE,
        }
        locked.state = ErasureState.DONE
        locked.confirmed_by = actor
        locked.confirmed_at = now
        locked.save(update_fields=["report", "state", "confirmed_by", "confirmed_at"])
        audit_record(
            actor=actor, action="person.erase",
            summary=f"Erasure {locked.reference}: the data of {len(forgotten)} "
                    f"journey{'' if len(forgotten) == 1 else 's'} forgotten",
            detail={"reference": locked.reference, "request": locked.pk, "count": len(forgotten),
                    "journey_ids": sorted(forgotten), "found": len(locked.journey_ids),
                    "workflow_ids": sorted({row.workflow_id for row in rows})},
        )
    # After the commit, so no reader caches the old rows under the new generation. Exports are streamed from the
    # mirror, never cached, so retiring the lists' generation retires every cached view of these journeys.
    journey_mirror_changed()
    return locked
