"""Sign-in, sign-out and the display a user chooses: colour theme, time zone, relative or absolute times.

Sign-in and sign-out are Django's own views with the portal's template (sign-in with the throttled form of
accounts/signin.py). The dashboard, the page signing in leads to, is the journeys app's (journeys/views.py).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import ThemeForm, TimeDisplayForm, TimeZoneForm
from accounts.models import Theme, TimeDisplay
from accounts.preferences import (
    preference_display,
    preference_theme_set,
    preference_time_display_set,
    preference_time_zone_set,
)
from accounts.signin import SignInForm
from mintportal.middleware import AuthenticatedHttpRequest

# Behind the sign-in throttle (accounts/signin.py): a locked account or address gets 429 and says for how long.
login_view = auth_views.LoginView.as_view(
    template_name="accounts/login.html", form_class=SignInForm, redirect_authenticated_user=True
)
logout_view = auth_views.LogoutView.as_view()


@login_required
@require_POST
def theme_set(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Remembers the colour theme for the user and goes back to the page it was chosen on."""
    form = ThemeForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose a theme: system, light or dark.")
    preference_theme_set(user=request.user, theme=Theme(form.cleaned_data["theme"]))
    return _back(request, form.cleaned_data["next"])


def _back(request: AuthenticatedHttpRequest, back: str) -> HttpResponse:
    allowed = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                              require_https=request.is_secure())
    return redirect(back if back and allowed else "accounts:dashboard")


@login_required
@require_POST
def time_display_set(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Remembers relative or absolute times for the user. The toggle's script has already switched the page, so
    it gets 204; a form sent without the script goes back to the page it was sent from."""
    form = TimeDisplayForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose how times are shown: relative or absolute.")
    preference_time_display_set(user=request.user, display=TimeDisplay(form.cleaned_data["time_display"]))
    if request.headers.get("X-Portal-Toggle"):
        return HttpResponse(status=204)
    return _back(request, form.cleaned_data["next"])


@login_required
@require_http_methods(["GET", "POST"])
def time_zone_set(request: AuthenticatedHttpRequest) -> HttpResponse:
    """GET: the zone times are shown in and where it comes from. POST: remember a zone (or the browser's), 400
    with the message beside the field for a zone the zone database does not know."""
    if request.method == "POST":
        form = TimeZoneForm(request.POST)
        if form.is_valid():
            chosen = form.cleaned_data["time_zone"]
            preference_time_zone_set(user=request.user, time_zone=chosen)
            messages.success(request, f"Times are now shown in {chosen}." if chosen
                             else "Times now follow your browser's time zone.")
            return redirect("accounts:time_zone")
        status = 400
    else:
        form = TimeZoneForm(initial={"time_zone": preference_display(request=request).time_zone})
        status = 200
    return render(request, "accounts/time_zone.html", {"form": form}, status=status)
