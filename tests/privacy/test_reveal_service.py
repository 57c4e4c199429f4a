"""Reveal as a service: only with the right and a reason, one audit event per reveal with no value in it, and a
grant that ends after its minutes or when the right is gone."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User

from accounts.models import AuditEvent, Scope
from mintportal.errors import NotAllowed, NotVisible, Refused
from privacy import services
from privacy.models import RevealGrant
from privacy.selectors import reveal_active
from tests.clock import Clock
from tests.personas import WF_INSIDE, WF_OUTSIDE

pytestmark = pytest.mark.django_db

FIELDS = ["steps.login.name", "steps.login.nationalId"]


def test_a_reveal_needs_a_reason_and_records_nothing_without_one(admin: User) -> None:
    for reason in ("", "   ", "\n\t"):
        with pytest.raises(Refused, match="Say why"):
            services.reveal(actor=admin, journey_id="j-1", workflow_id=WF_INSIDE, reason=reason, fields=FIELDS)
    with pytest.raises(Refused, match="at most 500"):
        services.reveal(actor=admin, journey_id="j-1", workflow_id=WF_INSIDE, reason="x" * 501, fields=FIELDS)
    assert not RevealGrant.objects.exists()
    assert not AuditEvent.objects.filter(action="journey.reveal").exists()
    assert reveal_active(user=admin, journey_id="j-1", workflow_id=WF_INSIDE) is None


def test_a_reveal_without_the_right_is_refused(case_handler: User, outsider: User) -> None:
    with pytest.raises(NotAllowed):
        services.reveal(actor=case_handler, journey_id="j-1", workflow_id=WF_INSIDE, reason="Customer called",
                        fields=FIELDS)
    with pytest.raises(NotVisible):
        services.reveal(actor=outsider, journey_id="j-1", workflow_id=WF_OUTSIDE, reason="Customer called",
                        fields=FIELDS)
    assert not RevealGrant.objects.exists()


def test_each_reveal_is_one_audit_event_with_the_reason_and_fields_only(admin: User, clock: Clock,
                                                                        settings) -> None:
    settings.PERSONAL_DATA_REVEAL_MINUTES = 10
    services.reveal(actor=admin, journey_id="j-1", workflow_id=WF_INSIDE, reason="  Customer   called ",
                    fields=FIELDS)
    events = list(AuditEvent.objects.filter(action="journey.reveal"))
    assert len(events) == 1
    assert events[0].journey_id == "j-1"
    assert events[0].detail == {"reason": "Customer called", "fields": sorted(FIELDS), "minutes": 10}
    assert reveal_active(user=admin, journey_id="j-1", workflow_id=WF_INSIDE) is not None
    assert reveal_active(user=admin, journey_id="j-2", workflow_id=WF_INSIDE) is None
    clock.advance(10 * 60 - 1)
    assert reveal_active(user=admin, journey_id="j-1", workflow_id=WF_INSIDE) is not None
    clock.advance(1)
    assert reveal_active(user=admin, journey_id="j-1", workflow_id=WF_INSIDE) is None
    assert "Kari" not in json.dumps(events[0].detail)


def test_a_grant_ends_when_the_right_is_taken_away(admin: User) -> None:
    services.reveal(actor=admin, journey_id="j-1", workflow_id=WF_INSIDE, reason="Audit", fields=FIELDS)
    for scope in Scope.objects.filter(team__name="Admins"):
        scope.actions = [action for action in scope.actions if action != "reveal"]
        scope.save()
    fresh = User.objects.get(pk=admin.pk)
    assert reveal_active(user=fresh, journey_id="j-1", workflow_id=WF_INSIDE) is None


def test_old_grants_are_pruned(admin: User, clock: Clock) -> None:
    services.reveal(actor=admin, journey_id="j-1", workflow_id=WF_INSIDE, reason="Audit", fields=FIELDS)
    clock.advance(3600)
    assert services.reveal_grants_prune() == 0
    clock.advance(86400)
    assert services.reveal_grants_prune() == 1
    # The audit trail keeps the reveal.
    assert AuditEvent.objects.filter(action="journey.reveal").count() == 1
