"""The page where each person chooses how they hear about new work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from mintportal.middleware import AuthenticatedHttpRequest
from notifications.forms import PreferenceForm
from notifications.models import Mode
from notifications.selectors import preference_get
from notifications.services import preference_set


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    """GET: the person's choice. POST: store a new one (audited) and show the page again."""
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            preference = preference_set(user=request.user, mode=Mode(form.cleaned_data["mode"]))
            messages.success(request, f"Saved: {Mode(preference.mode).label}.")
            return redirect("notifications:preferences")
        status = 400
    else:
        form = PreferenceForm(initial={"mode": preference_get(user=request.user).mode})
        status = 200
    return render(request, "notifications/preferences.html", {"form": form}, status=status)
