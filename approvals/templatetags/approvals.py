"""``{% approval_forms journey %}``: the approve/reject forms for a journey's page.

Renders nothing unless the signed-in user may approve on the journey's workflow and the journey waits on
a ``require-approval`` step, so a journey page can include it unconditionally.
"""

from __future__ import annotations

from typing import Any

from django import template

from approvals.selectors import approval_panels

register = template.Library()


@register.inclusion_tag("approvals/decide.html#decision-panel", takes_context=True)
def approval_forms(context: template.Context, journey: Any) -> dict[str, Any]:
    """``journey`` is a live Mint journey or a mirror row: anything with id, workflow_id and active_steps."""
    request = context["request"]
    panels = approval_panels(
        user=request.user, journey_id=journey.id, workflow_id=journey.workflow_id,
        active_steps=journey.active_steps or [],
    )
    return {
        "request": request, "csrf_token": context.get("csrf_token"), "journey": journey, "panels": panels,
        "form": None, "outcome": None, "error": None, "next": request.get_full_path(), "embedded": True,
    }
