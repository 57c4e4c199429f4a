"""Sign-in, sign-out and the dashboard.

Sign-in and sign-out are Django's own views with the portal's template (sign-in with the throttled form of
accounts/signin.py); the dashboard reads only the journey mirror, scoped to what the user may view, so it is
fast and works while Mint is away.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET

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
