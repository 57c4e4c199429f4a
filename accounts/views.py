"""Sign-in, sign-out and the colour theme a user chooses.

Sign-in and sign-out are Django's own views with the portal's template (sign-in with the throttled form of
accounts/signin.py). The dashboard, the page signing in leads to, is the journeys app's (journeys/views.py).
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.forms import ThemeForm
from accounts.models import Theme
from accounts.preferences import preference_theme_set
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
    back = form.cleaned_data["next"]
    allowed = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                              require_https=request.is_secure())
    return redirect(back if back and allowed else "accounts:dashboard")
