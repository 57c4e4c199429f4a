"""The provider's endpoints under /oidc/: discovery, JWKS, authorize (a picker of test people) and token."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods

from sandbox.core.auth import OAuthError, _client_credentials
from sandbox.oidc import services

TEMPLATE = "sandbox_oidc/authorize.html"


def _json(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data), status=status, content_type="application/json")


@require_GET
def discovery(request: HttpRequest) -> HttpResponse:
    return _json(services.discovery_document())


discovery.operations = {"GET": "oidcDiscovery"}  # type: ignore[attr-defined]


@require_GET
def jwks(request: HttpRequest) -> HttpResponse:
    return _json(services.jwks())


jwks.operations = {"GET": "oidcJwks"}  # type: ignore[attr-defined]


def _error_page(request: HttpRequest, description: str) -> HttpResponse:
    return render(request, TEMPLATE, {"title": "Sign-in request refused", "message": description}, status=400)


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


authorize.operations = {"GET": "oidcAuthorize", "POST": "oidcAuthorizeDecision"}  # type: ignore[attr-defined]


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """The token endpoint (grant ``authorization_code``); errors as ``{error, error_description}``."""
    if request.method != "POST":
        response = _json({"error": "invalid_request", "error_description": "Use POST."}, 405)
        response["Allow"] = "POST"
        return response
    try:
        client_id, client_secret = _client_credentials(request)
        response = _json(services.token_exchange(client_id=client_id, client_secret=client_secret,
                                                 params=request.POST.dict()))
    except OAuthError as error:
        response = _json({"error": error.error, "error_description": error.description}, error.status)
        if error.status == 401:
            response["WWW-Authenticate"] = 'Basic realm="oidc"'
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


token.operations = {"POST": "oidcToken"}  # type: ignore[attr-defined]
