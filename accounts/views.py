"""Sign-in, sign-out and the dashboard.

Sign-in and sign-out are Django's own views with the portal's template; the dashboard reads only the
journey mirror, scoped to what the user may view, so it is fast and works while Mint is away.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from journeys.selectors import journey_dashboard
from mintportal.responses import HtmxHttpRequest

login_view = auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True)
logout_view = auth_views.LogoutView.as_view()


@login_required
@require_GET
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "accounts/dashboard.html", {"dashboard": journey_dashboard(user=request.user)})
