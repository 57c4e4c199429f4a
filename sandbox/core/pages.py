"""The end-user page behind journey URLs: ``/journey/{journeyId}?t=<signed token>``.

GET only shows what the journey waits for (a form built from ``properties.fields``, or test eID identities);
only the POST of that form (CSRF-protected) completes the step and moves the journey on. An expired link
answers 410 "This link has expired"; a forged or foreign token answers 404.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods

from sandbox.core import services
from sandbox.core.models import Journey, JourneyWait, WaitKind
from sandbox.core.problems import ApiError

TEMPLATE = "sandbox/journey_page.html"

# The test identities an eid-login step offers; the chosen one becomes the step's output. The numbers pass their
# checksums (mod 11 for the Norwegian one, Luhn for the Swedish one), as real ones do.
TEST_IDENTITIES = [
    {"name": "Kari Nordmann", "birthDate": "1985-03-14", "nationalId": "14038512324", "country": "NO"},
    {"name": "Sven Svensson", "birthDate": "1979-11-02", "nationalId": "197911021231", "country": "SE"},
    {"name": "Mette Hansen", "birthDate": "1992-07-21", "nationalId": "2107921234", "country": "DK"},
]


def _page(request: HttpRequest, status: int, **context: Any) -> HttpResponse:
    return render(request, TEMPLATE, context, status=status)


def _message(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return _page(request, status, title=title, message=message)


def _fields(step: dict[str, Any]) -> list[dict[str, Any]]:
    fields = []
    for field in (step.get("properties") or {}).get("fields") or []:
        fields.append({"name": field["name"], "label": field.get("label") or field["name"],
                       "type": field.get("type") or "text", "required": bool(field.get("required"))})
    return fields


def _read_form(request: HttpRequest, fields: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        name = field["name"]
        if field["type"] == "checkbox":
            values[name] = request.POST.get(name) == "on"
            if field["required"] and not values[name]:
                errors[name] = "Please tick this box."
            continue
        raw = request.POST.get(name, "").strip()
        if not raw:
            if field["required"]:
                errors[name] = "This field is required."
            values[name] = None
            continue
        if field["type"] == "number":
            try:
                values[name] = int(raw) if raw.lstrip("-").isdigit() else float(raw)
            except ValueError:
                errors[name] = "Please enter a number."
            continue
        values[name] = raw
    return values, errors


@ensure_csrf_cookie
@require_http_methods(["GET", "POST"])
def journey_page(request: HttpRequest, journey_id: str) -> HttpResponse:
    check = services.journey_url_check(journey_id, request.GET.get("t", ""))
    journey = Journey.objects.filter(id=journey_id).select_related("workflow_version").first()
    if not check.valid or journey is None:
        return _message(request, 404, "Link not found", "This link is not valid.")
    if check.expired:
        return _message(request, 410, "This link has expired",
                        "This link has expired. Ask the sender for a new one.")
    wait = JourneyWait.objects.filter(journey=journey, kind=WaitKind.END_USER).order_by("id").first()
    if request.method == "POST":
        return _complete(request, journey, wait)
    return _show(request, journey, wait, status=200)


def _step_of(journey: Journey, wait: JourneyWait) -> dict[str, Any]:
    return next(step for step in journey.workflow_version.steps if step["id"] == wait.step_id)


def _show(request: HttpRequest, journey: Journey, wait: JourneyWait | None, *, status: int,
          values: dict[str, Any] | None = None, errors: dict[str, str] | None = None) -> HttpResponse:
    if wait is None:
        if journey.status == "finished":
            return _message(request, 200, "All done", "Thank you. There is nothing more to do here.")
        return _message(request, 200, "Nothing to do right now",
                        "Nothing is waiting for you on this journey at the moment.")
    step = _step_of(journey, wait)
    title = step.get("displayName") or step.get("name") or ("Log in" if wait.step_type == "eid-login" else "Form")
    fields = _fields(step) if wait.step_type == "form" else []
    for field in fields:
        field["value"] = (values or {}).get(field["name"])
        field["error"] = (errors or {}).get(field["name"])
    return _page(request, status, title=title, journey=journey, step_id=wait.step_id, step_type=wait.step_type,
                 fields=fields, identities=list(enumerate(TEST_IDENTITIES)), description=step.get("description"),
                 identity_error=(errors or {}).get("identity"))


def _complete(request: HttpRequest, journey: Journey, wait: JourneyWait | None) -> HttpResponse:
    if wait is None or request.POST.get("stepId") != wait.step_id:
        return _message(request, 409, "Already done", "This step has already been completed.")
    output: dict[str, Any]
    if wait.step_type == "eid-login":
        if request.POST.get("action") == "abort":
            outcome, output = "Aborted", {"aborted": True}
        else:
            choice = request.POST.get("identity", "")
            if not choice.isdigit() or int(choice) >= len(TEST_IDENTITIES):
                return _show(request, journey, wait, status=400, errors={"identity": "Please choose an identity."})
            outcome, output = "Success", dict(TEST_IDENTITIES[int(choice)])
    else:
        values, errors = _read_form(request, _fields(_step_of(journey, wait)))
        if errors:
            return _show(request, journey, wait, status=400, values=values, errors=errors)
        outcome, output = "Done", values
    try:
        services.journey_end_user_complete(journey_id=journey.id, step_id=wait.step_id, outcome=outcome,
                                           output=output)
    except ApiError as error:
        if error.status == 409:
            return _message(request, 409, "Already done", "This step has already been completed.")
        raise
    # Post/redirect/get: a reload shows the next step instead of submitting again.
    return HttpResponseRedirect(request.get_full_path(), status=303)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _message(request, 403, "Please try again",
                    "Your form could not be checked. Reload the page and submit it again.")
