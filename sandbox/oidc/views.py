"""The provider's endpoints under /oidc/: discovery, JWKS, authorize (a picker of test people) and token."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods

from sandbox.core.auth import client_credentials
from sandbox.core.control import serves
from sandbox.core.views import json_response, token_endpoint_response
from sandbox.oidc import services

TEMPLATE = "sandbox_oidc/authorize.html"


@serves(GET="oidcDiscovery")
@require_GET
def discovery(request: HttpRequest) -> HttpResponse:
    return json_response(services.discovery_document())


@serves(GET="oidcJwks")
@require_GET
def jwks(request: HttpRequest) -> HttpResponse:
    return json_response(services.jwks())


def _error_page(request: HttpRequest, description: str) -> HttpResponse:
    return render(request, TEMPLATE, {"title": "Sign-in request refused", "message": description}, status=400)


@serves(GET="oidcAuthorize", POST="oidcAuthorizeDecision")
@ensure_csrf_cookie
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """GET shows the people to sign in as; the POST of that form (CSRF-protected) issues the code and sends the
    browser back to the client's redirect URI, or sends ``access_denied`` back when the person cancels."""
    params = (request.GET if request.method == "GET" else request.POST).dict()
    try:
        auth_request = services.authorize_request_check(params)
    except services.AuthorizeError as error:
        if not error.redirect:
            return _error_page(request, error.description)
        return HttpResponseRedirect(services.redirect_with(
            params["redirect_uri"], error=error.error, error_description=error.description,
            state=params.get("state", "")))
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            return HttpResponseRedirect(services.redirect_with(
                auth_request.redirect_uri, error="access_denied",
                error_description="The person cancelled the sign-in.", state=auth_request.state))
        try:
            code = services.code_issue(request=auth_request, subject=request.POST.get("subject", ""))
        except services.AuthorizeError as error:
            return _error_page(request, error.description)
        return HttpResponseRedirect(services.redirect_with(auth_request.redirect_uri, code=code,
                                                           state=auth_request.state))
    return render(request, TEMPLATE, {
        "title": "Sign in to the sandbox provider", "people": services.people(),
        "params": auth_request.as_params(), "client_id": auth_request.client_id,
    })


@serves(POST="oidcToken")
@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """The token endpoint (grant ``authorization_code``)."""

    def issue() -> dict[str, Any]:
        client_id, client_secret = client_credentials(request)
        return services.token_exchange(client_id=client_id, client_secret=client_secret, params=request.POST.dict())

    return token_endpoint_response(request, issue, realm="oidc")
