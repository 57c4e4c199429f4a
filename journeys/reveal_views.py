"""Revealing a journey's personal data: someone with the reveal right on its workflow gives a reason, and the
journey's page then shows its values in clear to them for ``PERSONAL_DATA_REVEAL_MINUTES``.

The grant and its one ``journey.reveal`` audit event are ``privacy.services.reveal``'s; this view finds the journey
as the page does (404 outside the user's scope, 403 without the right, which
``accounts.middleware.RefusedWriteAuditMiddleware`` audits as refused) and answers POST-redirect-GET.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import Action
from journeys import page
from mintportal.errors import Refused
from mintportal.middleware import AuthenticatedHttpRequest
from mintportal.responses import wants_region
from privacy.models import MAX_REASON
from privacy.services import reveal

NO_REASON = "Say why you need to see this person's data: the reason goes to the audit trail."


class RevealForm(forms.Form):
    reason = forms.CharField(max_length=MAX_REASON, error_messages={"required": NO_REASON})


@login_required
@require_POST
def journey_reveal(request: AuthenticatedHttpRequest, journey_id: str) -> HttpResponse:
    ref = page.journey_ref(user=request.user, journey_id=journey_id, action=Action.REVEAL)
    form = RevealForm(request.POST)
    if form.is_valid():
        try:
            reveal(actor=request.user, journey_id=journey_id, workflow_id=ref.workflow_id,
                   reason=form.cleaned_data["reason"], fields=page.journey_privacy(user=request.user, ref=ref).paths)
        except Refused as exc:
            form.add_error("reason", exc.message)
        else:
            url = reverse("journeys:detail", kwargs={"journey_id": journey_id})
            return HttpResponseClientRedirect(url) if getattr(request, "htmx", False) else HttpResponseRedirect(url)
    context = {"journey_id": journey_id, "privacy": page.journey_privacy(user=request.user, ref=ref),
               "reveal_form": form}
    if wants_region(request):
        return render(request, "journeys/detail.html#journey-reveal", context, status=400)
    # Without JavaScript the form is answered on a page of its own, as a note's edit form is.
    return render(request, "journeys/_reveal_page.html", context, status=400)
