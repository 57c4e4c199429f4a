"""Pages for journeys: the list (from the mirror) with CSV export, and a journey's page (live from Mint)
with its actions: continue a suspended step, share a new journey URL, notes, file downloads.

Every view checks ``accounts.policy`` for the journey's workflow before it shows or does anything: a
journey outside the user's view scope is a 404, an action their role lacks a 403.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import Action
from accounts.policy import ensure_can, user_can
from journeys import selectors
from journeys.forms import (
    NOTE_MINT_FIELDS,
    RESUME_MINT_FIELDS,
    URL_MINT_FIELDS,
    JourneyFilterForm,
    JourneyUrlForm,
    NoteForm,
    NoteSearchForm,
    ResumeForm,
)
from journeys.models import Journey
from journeys.services.actions import Resumed, SharedUrl, journey_resume, journey_url_create
from journeys.services.mirror import journey_mirror_refresh
from journeys.services.notes import journey_note_create, journey_note_update
from mintportal.errors import ApplicationError, NotVisible
from mintportal.forms import add_mint_errors
from mintportal.middleware import clear_outage, is_outage, note_outage
from mintportal.mint import errors, get_client
from mintportal.qr import qr_data_uri
from mintportal.responses import (
    HtmxHttpRequest,
    flash_oob,
    mint_download,
    render_region,
    render_region_cached,
    wants_region,
)

# Mint's refusals that a person can act on; anything else is left to the Mint error middleware.
_REFUSALS = (errors.MintValidationError, errors.MintConflictError, errors.MintNotFoundError)


# --- the list ---------------------------------------------------------------------------------------


def _filter_form(request: HtmxHttpRequest) -> JourneyFilterForm:
    form = JourneyFilterForm(
        request.GET,
        workflow_choices=selectors.journey_workflow_choices(user=request.user),
        workflow_known=lambda workflow_id: selectors.journey_workflow_visible(user=request.user,
                                                                             workflow_id=workflow_id),
    )
    form.is_valid()
    return form


@login_required
@require_GET
def journey_list(request: HtmxHttpRequest) -> HttpResponse:
    def screen() -> dict[str, Any]:
        form = _filter_form(request)
        filters = form.filters()
        page = selectors.journey_list(user=request.user, filters=filters, page=form.page_number,
                                      per_page=form.rows_per_page)
        # Poll only while a visible row can still change: final journeys never do.
        live = any(not row.is_final for row in page.object_list)
        return {"form": form, "filters": filters, "page": page, "live": live}

    # The screen is the same for everyone with the same scope until the mirror changes, so it is cached
    # under the mirror's generation.
    return render_region_cached(
        request, "journeys/list.html", region="journey-table", page_region="journeys-page", build_context=screen,
        key_parts=selectors.journey_mirror_key_parts(user=request.user), ttl=selectors.MIRROR_SCREEN_TTL,
    )


@login_required
@require_GET
def journey_export(request: HtmxHttpRequest) -> HttpResponse:
    form = _filter_form(request)
    if form.errors:
        # An export must be exactly what the user asked for: never quietly drop an invalid filter.
        problems = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
        return HttpResponse(f"Invalid filters: {problems}", status=400, content_type="text/plain; charset=utf-8")
    lines = selectors.journey_csv_lines(user=request.user, filters=form.filters())
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="journeys-{stamp}.csv"'
    return response


# --- one journey ------------------------------------------------------------------------------------


def _authorize(request: HtmxHttpRequest, journey_id: str, action: str) -> Journey | None:
    """Checks ``action`` on the journey's workflow (from the mirror; from Mint for a journey not yet
    mirrored) and returns the mirror row. Raises 404 for journeys the user may not view, 403 for actions."""
    row = selectors.journey_mirror_get(journey_id=journey_id)
    if row is not None:
        ensure_can(user=request.user, action=action, workflow_id=row.workflow_id)
        return row
    try:
        journey = get_client().get_journey(journey_id)
    except errors.MintNotFoundError:
        raise Http404("No such journey") from None
    ensure_can(user=request.user, action=action, workflow_id=journey.workflow_id)
    return journey_mirror_refresh(journey=journey)


def _page_context(request: HtmxHttpRequest, journey_id: str, **extra: Any) -> dict[str, Any]:
    """Everything a journey's page shows. Reads Mint live and refreshes the mirror row; when Mint cannot
    answer, the page shows the mirror row with the reason instead."""
    row = _authorize(request, journey_id, Action.VIEW)
    live, notes, mint_note = None, None, None
    note_search = NoteSearchForm(request.GET)
    try:
        live = selectors.journey_live(journey_id=journey_id)
        notes = selectors.journey_notes(
            journey_id=journey_id, search=note_search.cleaned_data["note_q"] if note_search.is_valid() else "",
            step_id=note_search.cleaned_data["note_step"] if note_search.is_valid() else "",
        )
        clear_outage()
    except errors.MintNotFoundError:
        raise Http404("No such journey") from None
    except errors.MintError as exc:
        if not is_outage(exc):
            raise
        mint_note = note_outage(request, exc)
    if live is not None:
        row = journey_mirror_refresh(journey=live.journey, workflow_name=live.workflow_name or None)
    workflow_id = row.workflow_id if row else live.journey.workflow_id
    user = request.user
    waiting = live.waiting if live else []
    context = {
        "journey_id": journey_id,
        "row": row,
        "live": live,
        # What the header shows: the live journey, or the mirror row while Mint cannot answer.
        "summary": live.journey if live else row,
        "mint_note": mint_note,
        "notes": notes,
        "note_search": note_search,
        "final": live.journey.is_final if live else bool(row and row.is_final),
        "may_continue": user_can(user=user, action=Action.CONTINUE, workflow_id=workflow_id),
        "may_share": user_can(user=user, action=Action.SHARE, workflow_id=workflow_id),
        "may_annotate": user_can(user=user, action=Action.ANNOTATE, workflow_id=workflow_id),
        "resume_forms": [
            (step, extra.get("resume_form") if extra.get("resume_step") == step.step_id else
             ResumeForm(initial={"step_id": step.step_id}, auto_id=f"id_{step.step_id}_%s"))
            for step in waiting if step.resumable
        ],
        # A refused resume of a step that no longer waits has no form left to show its errors beside.
        "resume_refusal": extra.get("resume_form")
        if extra.get("resume_step") not in {step.step_id for step in waiting if step.resumable} else None,
        "url_form": extra.get("url_form") or JourneyUrlForm(),
        "note_form": extra.get("note_form") or NoteForm(),
        "shared": extra.get("shared"),
        "qr": qr_data_uri(extra["shared"].url) if extra.get("shared") else "",
        "signature": live.signature if live else "",
    }
    return context


@login_required
@require_GET
def journey_detail(request: HtmxHttpRequest, journey_id: str) -> HttpResponse:
    context = _page_context(request, journey_id)
    region = request.GET.get("region")
    if wants_region(request) and region == "live":
        # The status header comes along out of band; the action forms sit outside the polled region so
        # typing is never wiped, and are redrawn only when the steps the journey waits on have changed.
        context["oob"] = True
        response = render(request, "journeys/detail.html#journey-live", context)
        if request.GET.get("sig") != context["signature"]:
            response.content += render(request, "journeys/detail.html#journey-actions", context).content
        return response
    if wants_region(request) and region == "notes":
        return render_region(request, "journeys/detail.html", context, region="journey-notes")
    return render(request, "journeys/detail.html", context)


def _back_to_journey(request: HtmxHttpRequest, journey_id: str, anchor: str = "") -> HttpResponse:
    url = reverse("journeys:detail", kwargs={"journey_id": journey_id}) + anchor
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def _with_errors(request: HtmxHttpRequest, journey_id: str, region: str, *, status: int = 400,
                 **extra: Any) -> HttpResponse:
    context = _page_context(request, journey_id, **extra)
    return render_region(request, "journeys/detail.html", context, region=region, status=status)


def _refusal_on_form(form: forms.Form, exc: ApplicationError) -> int:
    """Shows a service's refusal above the form and returns its status; what the user may not see is a 404."""
    if isinstance(exc, NotVisible):
        raise Http404(exc.message) from None
    form.add_error(None, exc.message)
    return exc.status


def _resumed_message(resumed: Resumed) -> tuple[int, str]:
    """What the page says after a continue: where the journey is now, in Mint's own words, never a guess."""
    journey, step = resumed.journey, f"Continued step “{resumed.step_id}”"
    if journey is None:
        return messages.WARNING, f"{step}, but Mint could not be asked where the journey is now; reload the page."
    if journey.status == "faulted":
        alert = next((a.message for a in reversed(journey.alerts) if a.message), "")
        return messages.ERROR, f"{step}, and the journey faulted" + (f": {alert}" if alert else ".")
    if journey.is_final:
        return messages.SUCCESS, f"{step}; the journey is now {journey.status}."
    waiting = ", ".join(f"“{active.step_id}”" for active in journey.active_steps)
    if waiting:
        return messages.SUCCESS, f"{step}; the journey now waits at {waiting}."
    return messages.SUCCESS, f"{step}; the journey is {journey.status}."


@login_required
@require_POST
def journey_resume_view(request: HtmxHttpRequest, journey_id: str) -> HttpResponse:
    _authorize(request, journey_id, Action.CONTINUE)
    step_id = request.POST.get("step_id", "")
    form = ResumeForm(request.POST, auto_id=f"id_{step_id[:50]}_%s")
    status = 400
    if form.is_valid():
        try:
            resumed = journey_resume(actor=request.user, journey_id=journey_id,
                                     step_id=form.cleaned_data["step_id"], input=form.cleaned_data["input"])
        except ApplicationError as exc:
            status = _refusal_on_form(form, exc)
        except _REFUSALS as exc:
            add_mint_errors(form, exc, fields=RESUME_MINT_FIELDS)
        else:
            level, text = _resumed_message(resumed)
            messages.add_message(request, level, text)
            return _back_to_journey(request, journey_id)
    return _with_errors(request, journey_id, "journey-actions", status=status, resume_form=form, resume_step=step_id)


@login_required
@require_POST
def journey_url_view(request: HtmxHttpRequest, journey_id: str) -> HttpResponse:
    _authorize(request, journey_id, Action.SHARE)
    form = JourneyUrlForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            shared: SharedUrl = journey_url_create(actor=request.user, journey_id=journey_id,
                                                   time_to_live=form.cleaned_data["time_to_live"])
        except ApplicationError as exc:
            status = _refusal_on_form(form, exc)
        except _REFUSALS as exc:
            add_mint_errors(form, exc, fields=URL_MINT_FIELDS)
        else:
            messages.success(request, "Created a new journey URL. Share it only with the journey's end user.")
            context = _page_context(request, journey_id, shared=shared, url_form=form)
            return render_region(request, "journeys/detail.html", context, region="journey-share")
    return _with_errors(request, journey_id, "journey-share", status=status, url_form=form)


def _note_for(journey_id: str, note_id: str) -> selectors.NoteView:
    for view in selectors.journey_notes(journey_id=journey_id):
        if view.note.id == note_id:
            return view
    raise Http404("No such note")


@login_required
@require_POST
def journey_note_add(request: HtmxHttpRequest, journey_id: str) -> HttpResponse:
    row = _authorize(request, journey_id, Action.ANNOTATE)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            journey_note_create(actor=request.user, journey_id=journey_id, workflow_id=row.workflow_id,
                                content=form.cleaned_data["content"], step_id=form.cleaned_data["step_id"])
        except _REFUSALS as exc:
            add_mint_errors(form, exc, fields=NOTE_MINT_FIELDS)
        else:
            messages.success(request, "Added your note.")
            if not wants_region(request):
                return _back_to_journey(request, journey_id, "#journey-notes")
            return render_region(request, "journeys/detail.html", _page_context(request, journey_id),
                                 region="journey-notes")
    return _with_errors(request, journey_id, "journey-notes", note_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def journey_note_edit(request: HtmxHttpRequest, journey_id: str, note_id: str) -> HttpResponse:
    row = _authorize(request, journey_id, Action.ANNOTATE)
    view = _note_for(journey_id, note_id)
    form = NoteForm(request.POST or None, initial={"content": view.note.content},
                    auto_id=f"id_note_{note_id}_%s")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                note = journey_note_update(actor=request.user, journey_id=journey_id, workflow_id=row.workflow_id,
                                           note_id=note_id, content=form.cleaned_data["content"])
            except _REFUSALS as exc:
                add_mint_errors(form, exc, fields=NOTE_MINT_FIELDS)
            else:
                messages.success(request, "Saved your changes to the note.")
                if not wants_region(request):
                    return _back_to_journey(request, journey_id, "#journey-notes")
                updated = selectors.NoteView(note=note, author=view.author, edited_by=request.user.get_username())
                response = render(request, "journeys/detail.html#note-item",
                                  {"item": updated, "journey_id": journey_id, "may_annotate": True})
                response.content += flash_oob(request).encode()
                return response
        status = 400
    context = {"item": view, "form": form, "journey_id": journey_id}
    if wants_region(request):
        return render(request, "journeys/detail.html#note-edit", context, status=status)
    return render(request, "journeys/note_edit.html", context, status=status)


@login_required
@require_GET
def journey_file(request: HtmxHttpRequest, journey_id: str, file_id: str) -> HttpResponse:
    _authorize(request, journey_id, Action.VIEW)
    return mint_download(lambda: get_client().download_journey_file(journey_id, file_id))
