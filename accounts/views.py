"""Sign-in, sign-out, the dashboard and the colour theme a user chooses.

Sign-in and sign-out are Django's own views with the portal's template (sign-in with the throttled form of
accounts/signin.py); the dashboard reads only the journey mirror, scoped to what the user may view, so it is
fast and works while Mint is away.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import ThemeForm
from accounts.models import Theme
from accounts.preferences import preference_theme_set
from accounts.signin import SignInForm
from journeys.selectors import MIRROR_SCREEN_TTL, journey_dashboard, journey_mirror_key_parts
from mintportal.responses import HtmxHttpRequest, render_region_cached

# Behind the sign-in throttle (accounts/signin.py): a locked account or address gets 429 and says for how long.
login_view = auth_views.LoginView.as_view(
    template_name="accounts/login.html", form_class=SignInForm, redirect_authenticated_user=True
)
logout_view = auth_views.LogoutView.as_view()


@login_required
@require_GET
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    # Counted over the whole mirror, so cached like the journeys list: per scope, until the mirror changes.
    return render_region_cached(
        request, "accounts/dashboard.html", region=None, page_region="dashboard",
        build_context=lambda: {"dashboard": journey_dashboard(user=request.user)},
        key_parts=journey_mirror_key_parts(user=request.user), ttl=MIRROR_SCREEN_TTL,
    )


@login_required
@require_POST
def theme_set(request: HtmxHttpRequest) -> HttpResponse:
    """Remembers the colour theme for the user and goes back to the page it was chosen on."""
    form = ThemeForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose a theme: system, light or dark.")
    preference_theme_set(user=request.user, theme=Theme(form.cleaned_data["theme"]))
    back = form.cleaned_data["next"]
    allowed = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                              require_https=request.is_secure())
    return redirect(back if back and allowed else "accounts:dashboard")
