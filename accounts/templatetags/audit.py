"""``{% journey_audit journey %}``: a journey's audit events, shown beside its execution log."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.models import Action
from accounts.policy import user_can
from accounts.selectors import audit_events_for_journey

register = template.Library()


@register.inclusion_tag("accounts/audit_journey.html", takes_context=True)
def journey_audit(context: template.Context, journey: Any) -> dict[str, Any]:
    """``journey`` is a live Mint journey or a mirror row (anything with id and workflow_id)."""
    user = context["request"].user
    events = audit_events_for_journey(user=user, journey_id=journey.id, workflow_id=journey.workflow_id)
    return {"events": events, "journey": journey, "may_audit": user_can(user=user, action=Action.AUDIT,
                                                                          workflow_id=journey.workflow_id)}
