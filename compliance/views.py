"""The "Forget a person" pages: find (POST, then redirect), confirm (POST, then redirect), and the report's CSV.

The request's id travels in the query string (``?request=<id>``), never the value: after the find step the
value exists only as hashes on the ``ErasureRequest``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Action
from accounts.policy import ensure_global
from compliance import selectors
from compliance.forms import ErasureConfirmForm, ErasureFindForm
from compliance.models import ErasureRequest
from compliance.services.erasure import OUT_OF_SCOPE, REMAINS_IN_MINT, erasure_confirm, erasure_find
from mintportal.middleware import AuthenticatedHttpRequest

PAGE = "compliance/erasure.html"


def _page_url(erasure: ErasureRequest) -> str:
    return f"{reverse('compliance:erasure')}?request={erasure.pk}"


def _requested(request: AuthenticatedHttpRequest) -> ErasureRequest | None:
    form = ErasureConfirmForm({"request": request.GET.get("request", "")})
    if not form.is_valid():
        return None
    return selectors.erasure_request_get(user=request.user, request_id=form.cleaned_data["request"])


@login_required
@require_http_methods(["GET", "POST"])
def erasure(request: AuthenticatedHttpRequest) -> HttpResponse:
    ensure_global(user=request.user, action=Action.ERASE)
    if request.method == "POST":
        form = ErasureFindForm(request.POST)
        if not form.is_valid():
            return render(request, PAGE, {"form": form, "out_of_scope": OUT_OF_SCOPE}, status=400)
        found = erasure_find(actor=request.user, value=form.cleaned_data["value"], kinds=form.kind_list,
                             reference=form.cleaned_data["reference"])
        return redirect(_page_url(found))
    current = _requested(request) if "request" in request.GET else None
    if "request" in request.GET and current is None:
        return HttpResponseBadRequest("The request parameter is not a request number.", content_type="text/plain")
    context = {
        "form": ErasureFindForm(), "erasure": current, "out_of_scope": OUT_OF_SCOPE,
        "remains_in_mint": REMAINS_IN_MINT,
        "rows": selectors.erasure_rows(request=current) if current is not None and not current.is_done else [],
    }
    return render(request, PAGE, context)


@login_required
@require_POST
def erasure_confirm_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    ensure_global(user=request.user, action=Action.ERASE)
    form = ErasureConfirmForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Name the erasure request to confirm.", content_type="text/plain")
    current = selectors.erasure_request_get(user=request.user, request_id=form.cleaned_data["request"])
    done = erasure_confirm(actor=request.user, request=current)
    return redirect(_page_url(done))


@login_required
@require_GET
def erasure_report(request: AuthenticatedHttpRequest) -> HttpResponse | StreamingHttpResponse:
    ensure_global(user=request.user, action=Action.ERASE)
    current = _requested(request)
    if current is None or not current.is_done:
        return HttpResponseBadRequest("Name an erasure request that has been confirmed.", content_type="text/plain")
    response = StreamingHttpResponse(selectors.erasure_report_lines(report=current.report),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="erasure-{current.pk}.csv"'
    return response
