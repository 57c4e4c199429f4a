"""Records every write the portal refuses for want of rights: a POST answered 403, or 404 for something outside
the user's view scope. Refusals a service decides itself (a step that does not wait, a four-eyes rule) are
audited by that service; these are the ones an access check (``accounts.policy.ensure_can``) makes before any
service runs, and any other "not visible" or "not allowed" a view lets through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from accounts.models import AuditEvent
from accounts.services import audit_record
from mintportal.errors import NotAllowed, NotVisible

# The audit action of each write route, named as the service that would have carried it out names its events.
_ACTIONS: Final = {
    "journeys:resume": "journey.resume",
    "journeys:url": "journey.url_create",
    "journeys:reveal": "journey.reveal",
    "journeys:note_add": "note.create",
    "journeys:note_edit": "note.update",
    "launches:new": "journey.launch",
    "launches:bulk-upload": "journey.bulk_upload",
    "launches:bulk-confirm": "journey.bulk_launch",
    "launches:bulk-discard": "journey.bulk_discard",
    "workflows:create": "workflow.create",
    "workflows:edit": "workflow.update",
    "workflows:publish": "workflow.publish",
    "workflows:secrets": "secret.create",
    "workflows:secret_edit": "secret.update",
    "savedviews:create": "savedview.create",
    "savedviews:edit": "savedview.update",
    "savedviews:delete": "savedview.delete",
    "savedviews:pin": "savedview.pin",
}
_UNSAFE: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _action(request: HttpRequest, view_name: str) -> str:
    if view_name == "approvals:decide":
        return "journey.reject" if request.POST.get("decision") == "reject" else "journey.approve"
    if view_name == "journeys:claim":
        # The claim form's ``do`` (journeys.claim_views): the same event names the claim services audit.
        return {"release": "journey.release", "assign": "journey.assign"}.get(request.POST.get("do", ""),
                                                                             "journey.claim")
    return _ACTIONS.get(view_name, view_name.replace(":", "."))


class RefusedWriteAuditMiddleware:
    """Audits, as ``refused``, a signed-in user's write refused with 403 or 404, and answers nothing itself.

    Listed below ``mintportal.middleware.ApplicationErrorMiddleware`` in settings.MIDDLEWARE: Django asks the
    middleware about an exception from the bottom up and stops at the first answer, so the audit always sees the
    refusal before it becomes a response.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        self._audit(request, exception)

    @staticmethod
    def _audit(request: HttpRequest, exception: Exception) -> None:
        forbidden = isinstance(exception, PermissionDenied | NotAllowed)
        if not (forbidden or isinstance(exception, Http404 | NotVisible)) or request.method not in _UNSAFE:
            return
        user = getattr(request, "user", None)
        match = request.resolver_match
        if user is None or not user.is_authenticated or match is None or not match.view_name:
            return
        # A 404 does not tell the user whether the object exists; the audit trail may say what was asked for.
        reason = (str(exception) or "not allowed") if forbidden else "not visible to them"
        kwargs = match.kwargs
        audit_record(
            actor=user, action=_action(request, match.view_name), outcome=AuditEvent.Outcome.REFUSED,
            workflow_id=str(kwargs.get("workflow_id", "")), journey_id=str(kwargs.get("journey_id", "")),
            summary=f"Refused {request.method} {request.path}: {reason}"[:500],
            detail={"route": match.view_name, "status": 403 if forbidden else 404},
        )
