"""The claim region of a journey's page: "Assign to me", assign to a member, release (journeys.services.claims).

One POST route answers the region (``templates/journeys/_claim.html``) to htmx, and otherwise redirects back to
the journey page with a message; a refusal without htmx is answered with its status and sentence by
``mintportal.middleware.ApplicationErrorMiddleware``.
"""

from __future__ import annotations

from typing import Any, Final

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Action
from journeys.claims_selectors import claim_panel
from journeys.page import journey_ref
from journeys.services.claims import ANY_HOLDER, ClaimResult, ExpectedHolder, claim_assign, claim_release, claim_take
from mintportal.errors import ApplicationError, NotAllowed, invalid_parameters, refusal_on_form
from mintportal.middleware import AuthenticatedHttpRequest
from mintportal.responses import flash_oob, wants_region

CLAIM: Final = "claim"
RELEASE: Final = "release"
ASSIGN: Final = "assign"


ACKNOWLEDGE_FIELD: Final = "acknowledge_claim"


def acknowledged_claim(request: HttpRequest) -> bool:
    """Whether a continue or decision form confirms acting on a case someone else holds (its "act anyway" box,
    templates/journeys/_claim_warning.html)."""
    return request.POST.get(ACKNOWLEDGE_FIELD) == "on"


class ClaimForm(forms.Form):
    # Without ``do`` the request means "Assign to me", the one thing everybody who may act can do.
    do = forms.ChoiceField(choices=((CLAIM, "Assign to me"), (RELEASE, "Release"), (ASSIGN, "Assign")),
                           required=False)
    assignee = forms.IntegerField(required=False, min_value=1)
    step_id = forms.CharField(required=False, max_length=500)
    # The holder the page showed (a user id, empty for nobody): a case that changed hands since is not touched.
    holder = forms.CharField(required=False, max_length=20)

    def clean_holder(self) -> ExpectedHolder:
        if "holder" not in self.data:
            return ANY_HOLDER
        value = self.cleaned_data["holder"].strip()
        if not value:
            return None
        if not value.isdigit():
            raise forms.ValidationError("Not a member's id.")
        return int(value)

    def clean_do(self) -> str:
        return self.cleaned_data["do"] or CLAIM

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if cleaned and cleaned.get("do") == ASSIGN and not cleaned.get("assignee"):
            self.add_error("assignee", "Choose whom to assign the case to.")
        return cleaned


def _apply(request: AuthenticatedHttpRequest, journey_id: str, data: dict[str, Any]) -> str:
    """Carries out the form's ``do`` and says what happened."""
    expected, step_id = data["holder"], data["step_id"] or ""
    result: ClaimResult
    if data["do"] == RELEASE:
        claim_release(actor=request.user, journey_id=journey_id, expected_holder=expected)
        return "Released the case."
    if data["do"] == ASSIGN:
        result = claim_assign(actor=request.user, journey_id=journey_id, assignee_id=data["assignee"],
                              step_id=step_id, expected_holder=expected)
    else:
        result = claim_take(actor=request.user, journey_id=journey_id, step_id=step_id, expected_holder=expected)
    claim = result.claim
    if claim is None or claim.user_id == request.user.pk:
        return "The case is yours."
    return f"Assigned the case to {claim.user.get_username()}."


@login_required
@require_POST
def journey_claim(request: AuthenticatedHttpRequest, journey_id: str) -> HttpResponse:
    # Out of the user's view scope is a 404 whatever was posted (the services check it again).
    journey_ref(user=request.user, journey_id=journey_id, action=Action.VIEW)
    form = ClaimForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            messages.success(request, _apply(request, journey_id, form.cleaned_data))
            status = 200
        except ApplicationError as exc:
            # What the user may not do answers the 403 page (and the refused-write audit), not the region.
            if isinstance(exc, NotAllowed) or not wants_region(request):
                raise
            status = refusal_on_form(form, exc)
    if not wants_region(request):
        if status != 200:
            raise invalid_parameters(form)
        return HttpResponseRedirect(reverse("journeys:detail", kwargs={"journey_id": journey_id}))
    context = {"journey_id": journey_id, "claim": claim_panel(user=request.user, journey_id=journey_id),
               "claim_form": form}
    response = render(request, "journeys/_claim.html", context, status=status)
    response.content += flash_oob(request).encode()
    if status == 200:
        # Lists that show holders (the inbox) may listen and redraw.
        response["HX-Trigger"] = "claim-changed"
    return response
