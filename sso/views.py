"""``/sso/login/`` sends the browser to the identity provider; ``/sso/callback/`` signs the person in.

Every failure answers a plain page with one sentence and a 400, 403 or 502, and is recorded in the audit trail.
Both answer 404 while single sign-on is off (OIDC_ISSUER empty).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from sso.client import SsoFailure, authorization_complete, authorization_redirect
from sso.forms import CallbackForm, StartForm
from sso.selectors import sso_enabled
from sso.services import SsoRefused, sso_refusal_record, sso_user_sign_in

# Where the page asked for before signing in waits in the session while the person is at the provider.
NEXT_SESSION_KEY = "sso_next"


def _failed(request: HttpRequest, *, status: int, reason: str, message: str, subject: str = "",
            user: User | None = None) -> HttpResponse:
    sso_refusal_record(reason=reason, issuer=settings.OIDC_ISSUER, subject=subject, user=user)
    return render(request, "sso/error.html", {"message": message}, status=status)


def _redirect_uri(request: HttpRequest) -> str:
    return settings.OIDC_REDIRECT_URI or request.build_absolute_uri(reverse("sso:callback"))


@require_GET
def sso_login(request: HttpRequest) -> HttpResponse:
    if not sso_enabled():
        raise Http404("Single sign-on is off.")
    form = StartForm(request.GET, host=request.get_host(), secure=request.is_secure())
    form.is_valid()
    request.session[NEXT_SESSION_KEY] = form.cleaned_data.get("next", "")
    try:
        return authorization_redirect(request, redirect_uri=_redirect_uri(request))
    except SsoFailure as failure:
        return _failed(request, status=failure.status, reason=failure.reason, message=failure.message)


@require_GET
def sso_callback(request: HttpRequest) -> HttpResponse:
    if not sso_enabled():
        raise Http404("Single sign-on is off.")
    form = CallbackForm(request.GET)
    if not form.is_valid():
        return _failed(request, status=400, reason="incomplete_answer",
                       message="The identity provider's answer is incomplete. Start again from the sign-in page.")
    try:
        claims = authorization_complete(request)
        sign_in = sso_user_sign_in(issuer=claims["iss"], claims=claims)
    except SsoFailure as failure:
        return _failed(request, status=failure.status, reason=failure.reason, message=failure.message)
    except SsoRefused as refused:
        return _failed(request, status=403, reason=refused.reason, message=refused.message,
                       subject=claims["sub"], user=refused.user)
    next_url = request.session.pop(NEXT_SESSION_KEY, "")
    # The backend must be one that settings list, or the session would not find the user on the next request.
    login(request, sign_in.user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return HttpResponseRedirect(next_url or settings.LOGIN_REDIRECT_URL)
