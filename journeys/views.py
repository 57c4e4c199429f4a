"""Pages for journeys: the dashboard and the list (from the mirror) with CSV export, and a journey's page (live
from Mint, its reads in journeys/page.py) with its actions: continue a suspended step, share a new journey URL,
notes, file downloads.

Every view checks ``accounts.policy`` for the journey's workflow before it shows or does anything: a
journey outside the user's view scope is a 404, an action their role lacks a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.paginator import Page, Paginator
from django.http import HttpResponse, HttpResponseRedirect, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import Action
from journeys import page, selectors
from journeys.claim_views import acknowledged_claim
from journeys.claims_selectors import claim_guard, claim_panel
from journeys.forms import (
    ANSWER_PREFIX,
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
from journeys.services.stepforms import StepInputInvalid
from mintportal.errors import ApplicationError, NotAllowed, refusal_on_form
from mintportal.forms import add_mint_errors
from mintportal.middleware import AuthenticatedHttpRequest
from mintportal.mint import errors, get_client
from mintportal.outage import mint_or_outage
from mintportal.qr import qr_data_uri
from mintportal.responses import (
    flash_oob,
    mint_download,
    render_region,
    render_region_cached,
    wants_region,
)
from privacy.masking import Masker

# Mint's refusals that a person can act on; anything else is left to the Mint error middleware.
_REFUSALS = (errors.MintValidationError, errors.MintConflictError, errors.MintNotFoundError)


# --- the list ---------------------------------------------------------------------------------------


def _filter_form(request: AuthenticatedHttpRequest) -> JourneyFilterForm:
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
def journey_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    def screen() -> dict[str, Any]:
        form = _filter_form(request)
        filters = form.filters()
        if form.data_invalid:
            # Listing without the refused condition would show (and offer to act on) journeys the user meant to
            # leave out: nothing is listed until the filter is fixed.
            page: Page[Any] = Paginator([], form.rows_per_page).page(1)
        else:
            page = selectors.journey_list(user=request.user, filters=filters, page=form.page_number,
                                          per_page=form.rows_per_page)
        # Poll only while a visible row can still change: final journeys never do.
        live = any(not row.journey.is_final for row in page.object_list)
        paginator = page.paginator
        count = selectors.count_words(paginator.count, estimated=getattr(paginator, "estimated", False))
        # The list's query without the page and the form's empty inputs, for the links that carry it elsewhere
        # (save view, act on all).
        query = QueryDict(mutable=True)
        for name, values in request.GET.lists():
            if name != "page" and any(value.strip() for value in values):
                query.setlist(name, [value for value in values if value.strip()])
        return {"form": form, "filters": filters, "page": page, "live": live, "count_words": count,
                "query": query.urlencode(), "filters_invalid": form.data_invalid}

    # The screen is the same for everyone with the same scope until the mirror changes, so it is cached
    # under the mirror's generation.
    return render_region_cached(
        request, "journeys/list.html", region="journey-table", page_region="journeys-page", build_context=screen,
        key_parts=selectors.journey_mirror_key_parts(user=request.user), ttl=selectors.MIRROR_SCREEN_TTL,
        cacheable=not _searches_personal_value(request),
    )


def _searches_personal_value(request: AuthenticatedHttpRequest) -> bool:
    """Whether the list's address matches a personal field by its value: such a page is not cached, so the value
    is kept nowhere (an erasure could not find it in a cache entry)."""
    return selectors.query_without_personal_values(request.GET.urlencode()) != request.GET.urlencode()


@login_required
@require_GET
def journey_export(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    form = _filter_form(request)
    if form.errors:
        # An export must be exactly what the user asked for: never quietly drop an invalid filter.
        problems = "; ".join(f"{name}: {' '.join(str(error) for error in errs)}" for name, errs in form.errors.items())
        return HttpResponse(f"Invalid filters: {problems}", status=400, content_type="text/plain; charset=utf-8")
    lines = selectors.journey_csv_lines(user=request.user, filters=form.filters())
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="journeys-{stamp}.csv"'
    return response


# --- the dashboard ----------------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    # Counted over the whole mirror, so cached like the journeys list: per scope, until the mirror changes.
    return render_region_cached(
        request, "journeys/dashboard.html", region=None, page_region="dashboard",
        build_context=lambda: {"dashboard": selectors.journey_dashboard(user=request.user)},
        key_parts=selectors.journey_mirror_key_parts(user=request.user), ttl=selectors.MIRROR_SCREEN_TTL,
    )


# --- one journey ------------------------------------------------------------------------------------


def _mirror_write(read: page.JourneyRead) -> Journey | None:
    """The one mirror write of a request that read the journey live; returns the row the page is drawn from."""
    if read.journey is None:
        return read.ref.row
    return journey_mirror_refresh(journey=read.journey)


def _note_query(request: AuthenticatedHttpRequest) -> tuple[NoteSearchForm, page.NoteQuery]:
    form = NoteSearchForm(request.GET)
    if not form.is_valid():
        return form, page.NoteQuery()
    return form, page.NoteQuery(search=form.cleaned_data["note_q"], step_id=form.cleaned_data["note_step"])


def _resume_form(step: page.WaitingStep, actions: page.ActionsPart, data: Any = None) -> ResumeForm:
    return ResumeForm(data, fields=step.form.fields if step.form else (), raw=actions.may_manage,
                      initial={"step_id": step.step_id}, auto_id=f"id_{step.step_id}_%s")


def _resume_forms(actions: page.ActionsPart, bound: ResumeForm | None = None
                  ) -> list[tuple[page.WaitingStep, ResumeForm]]:
    """A continue form per waiting suspend step, drawn from the step's form; the posted one (``bound``) is drawn
    again with what was typed and the errors it got."""
    step_id = bound["step_id"].value() if bound is not None else None
    forms = []
    for step in actions.waiting:
        if not step.resumable:
            continue
        form = _resume_form(step, actions)
        if bound is not None and step_id == step.step_id:
            form = _resume_form(step, actions, bound.data)
            for name, errors in bound.errors.items():
                target = name if name in form.fields else None
                # The form drawn again finds its own input errors; the service's and Mint's are carried over.
                for error in errors:
                    if error not in form.errors.get(target or NON_FIELD_ERRORS, []):
                        form.add_error(target, error)
            form.show_errors({key: message for key, message in getattr(bound, "step_errors", {}).items()
                              if ANSWER_PREFIX + key in form.fields})
        forms.append((step, form))
    return forms


def _page_context(request: AuthenticatedHttpRequest, view: page.JourneyPage) -> dict[str, Any]:
    """The template context of the whole page: each part under its region's name, and the empty forms."""
    # journeys/page.py kept the outage that stopped the live read; raised here, it is noted (log, banner) like any
    # other view's, and a page read live forgets an earlier outage.
    with mint_or_outage(request) as mint:
        if view.unavailable is not None:
            raise view.unavailable
    mint_note = mint.note or ""
    return {
        "journey_id": view.journey_id, "row": view.row, "final": view.final, "fingerprint": view.fingerprint,
        "signature": view.signature, "mint_note": mint_note, "header": view.header, "actions": view.actions,
        "live": view.live, "share": view.share, "audit": view.audit, "notes": view.notes, "privacy": view.privacy,
        "resume_forms": _resume_forms(view.actions), "url_form": JourneyUrlForm(), "note_form": NoteForm(),
        # Read only when drawn (a poll that redraws other regions never reads it).
        "claim": SimpleLazyObject(lambda: claim_panel(user=request.user, journey_id=view.journey_id)),
    }


@login_required
@require_GET
def journey_detail(request: AuthenticatedHttpRequest, journey_id: str) -> HttpResponse:
    note_search, query = _note_query(request)
    if wants_region(request) and request.GET.get("region") == "notes":
        ref = page.journey_ref(user=request.user, journey_id=journey_id, action=Action.VIEW)
        return _notes_region(request, ref, query=query, note_search=note_search)
    read = page.journey_read(user=request.user, journey_id=journey_id)
    view = page.journey_page(user=request.user, read=read, row=_mirror_write(read), notes=query)
    return render(request, "journeys/detail.html", {**_page_context(request, view), "note_search": note_search})


@login_required
@require_GET
def journey_poll(request: AuthenticatedHttpRequest, journey_id: str) -> HttpResponse:
    """An open page's poll (every 10 s): 204 (nothing to swap) while the mirror row is the one the page was drawn
    from (``fp``) and the journey was read live within the minute; otherwise one live read, and when Mint says
    something new, the live region with the header (and the action forms when the waiting steps, ``sig``, moved).
    """
    fingerprint = request.GET.get("fp", "")
    ref = page.journey_ref(user=request.user, journey_id=journey_id, action=Action.VIEW)
    if ref.row is not None and page.journey_poll_quiet(row=ref.row, fingerprint=fingerprint):
        return HttpResponse(status=204)
    read = page.journey_read(user=request.user, journey_id=journey_id)
    row = _mirror_write(read)
    if (read.journey is not None or read.withheld) and row is not None and page.mirror_fingerprint(row) == fingerprint:
        # Mint says what the mirror said (or, the data withheld, only the mirror speaks): the page shows it already.
        return HttpResponse(status=204)
    view = page.journey_page(user=request.user, read=read, row=row, notes=None)
    context = {**_page_context(request, view), "oob": True}
    response = render(request, "journeys/detail.html#journey-live", context)
    if request.GET.get("sig") != view.signature:
        response.content += render(request, "journeys/detail.html#journey-actions", context).content
    return response


def _notes_region(request: AuthenticatedHttpRequest, ref: page.JourneyRef, *, query: page.NoteQuery | None = None,
                  note_search: NoteSearchForm | None = None) -> HttpResponse:
    notes = page.journey_notes_part(user=request.user, ref=ref, query=query or page.NoteQuery())
    context = {"journey_id": ref.journey_id, "notes": notes, "note_search": note_search or NoteSearchForm(),
               "note_form": NoteForm()}
    return render_region(request, "journeys/detail.html", context, region="journey-notes")


def _after_post(request: AuthenticatedHttpRequest, ref: page.JourneyRef, *, region: str, status: int,
                part: Callable[[page.JourneyPage | None], dict[str, Any]]) -> HttpResponse:
    """Answers a POST with one region, its context from ``part(None)`` (which reads only what the region shows);
    a request without htmx gets the whole page, ``part(page)`` laid over it."""
    if wants_region(request):
        return render_region(request, "journeys/detail.html", {"journey_id": ref.journey_id, **part(None)},
                             region=region, status=status)
    read = page.journey_read(user=request.user, journey_id=ref.journey_id)
    view = page.journey_page(user=request.user, read=read, row=_mirror_write(read), notes=page.NoteQuery())
    context = {**_page_context(request, view), "note_search": NoteSearchForm(), **part(view)}
    return render(request, "journeys/detail.html", context, status=status)


def _back_to_journey(request: AuthenticatedHttpRequest, journey_id: str, anchor: str = "") -> HttpResponse:
    url = reverse("journeys:detail", kwargs={"journey_id": journey_id}) + anchor
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def _resumed_message(resumed: Resumed, masker: Masker) -> tuple[int, str]:
    """What the page says after a continue: where the journey is now, read from Mint right after, never a guess
    (an alert's words masked as the page masks them)."""
    journey, step = resumed.journey, f"Continued step “{resumed.step_id}”"
    if journey is None:
        return messages.WARNING, f"{step}, but Mint could not be asked where the journey is now; reload the page."
    if journey.status == "faulted":
        alert = next((a.message for a in reversed(journey.alerts) if a.message), "")
        return messages.ERROR, f"{step}, but the journey faulted" + (f": {masker.text(alert)}" if alert else ".")
    if journey.status == "finished":
        return messages.SUCCESS, f"{step}; the journey is now finished."
    if journey.is_final:
        return messages.WARNING, f"{step}; the journey is now {journey.status}."
    waiting = ", ".join(f"“{active.step_id}” ({active.step_type})" for active in journey.active_steps)
    if waiting:
        return messages.SUCCESS, f"{step}; now waiting at step {waiting}."
    return messages.SUCCESS, f"{step}; the journey is {journey.status}, reload the page to see where it waits."


def _actions_context(actions: page.ActionsPart, form: ResumeForm) -> dict[str, Any]:
    resume_forms = _resume_forms(actions, form)
    # A refused resume of a step that no longer waits has no form left to show its errors beside.
    posted = form["step_id"].value()
    refusal = None if any(step.step_id == posted for step, _ in resume_forms) else form
    if refusal is not None:
        for message in getattr(form, "step_errors", {}).values():
            refusal.add_error(None, message)
    return {"actions": actions, "resume_forms": resume_forms, "resume_refusal": refusal}


@login_required
@require_POST
def journey_resume_view(request: AuthenticatedHttpRequest, journey_id: str) -> HttpResponse:
    ref = page.journey_ref(user=request.user, journey_id=journey_id, action=Action.CONTINUE)
    step_id = request.POST.get("step_id", "")
    form = ResumeForm(request.POST, auto_id=f"id_{step_id[:50]}_%s")
    status = 400
    if form.is_valid():
        try:
            # Someone else holding the case is a warning the user confirms ("act anyway"), not a lock.
            claim_guard(user=request.user, journey_id=journey_id, acknowledged=acknowledged_claim(request))
            resumed = journey_resume(actor=request.user, journey_id=journey_id, step_id=form.cleaned_data["step_id"],
                                     answers=form.answers(), raw=form.raw_input())
        except StepInputInvalid as exc:
            form.show_errors(exc.errors, exc.unknown)
        except ApplicationError as exc:
            status = refusal_on_form(form, exc)
        except _REFUSALS as exc:
            add_mint_errors(form, exc, fields=RESUME_MINT_FIELDS)
        else:
            privacy = page.journey_privacy(user=request.user, ref=ref)
            level, text = _resumed_message(resumed, page.journey_masker(privacy=privacy, row=ref.row,
                                                                        journey=resumed.journey))
            messages.add_message(request, level, text)
            return _back_to_journey(request, journey_id)
    return _after_post(request, ref, region="journey-actions", status=status, part=lambda view: {
        **_actions_context(view.actions if view else page.journey_actions(user=request.user, ref=ref), form),
        "claim": claim_panel(user=request.user, journey_id=journey_id)})


@login_required
@require_POST
def journey_url_view(request: AuthenticatedHttpRequest, journey_id: str) -> HttpResponse:
    ref = page.journey_ref(user=request.user, journey_id=journey_id, action=Action.SHARE)
    form = JourneyUrlForm(request.POST)
    status = 400
    shown: dict[str, Any] = {"url_form": form}
    if form.is_valid():
        try:
            shared: SharedUrl = journey_url_create(actor=request.user, journey_id=journey_id,
                                                   time_to_live=form.cleaned_data["time_to_live"])
        except ApplicationError as exc:
            status = refusal_on_form(form, exc)
        except _REFUSALS as exc:
            add_mint_errors(form, exc, fields=URL_MINT_FIELDS)
        else:
            messages.success(request, "Created a new journey URL. Share it only with the journey's end user.")
            status = 200
            shown.update(shared=shared, qr=qr_data_uri(shared.url))
    return _after_post(request, ref, region="journey-share", status=status, part=lambda view: {
        **shown, "share": view.share if view else page.journey_share(user=request.user, ref=ref)})


@login_required
@require_POST
def journey_note_add(request: AuthenticatedHttpRequest, journey_id: str) -> HttpResponse:
    ref = page.journey_ref(user=request.user, journey_id=journey_id, action=Action.ANNOTATE)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            journey_note_create(actor=request.user, journey_id=journey_id, workflow_id=ref.workflow_id,
                                content=form.cleaned_data["content"], step_id=form.cleaned_data["step_id"])
        except _REFUSALS as exc:
            add_mint_errors(form, exc, fields=NOTE_MINT_FIELDS)
        else:
            messages.success(request, "Added your note.")
            if not wants_region(request):
                return _back_to_journey(request, journey_id, "#journey-notes")
            return _notes_region(request, ref)
    return _after_post(request, ref, region="journey-notes", status=400, part=lambda view: {
        "note_form": form, "notes": view.notes if view else page.journey_notes_part(
            user=request.user, ref=ref, query=page.NoteQuery())})


@login_required
@require_http_methods(["GET", "POST"])
def journey_note_edit(request: AuthenticatedHttpRequest, journey_id: str, note_id: str) -> HttpResponse:
    ref = page.journey_ref(user=request.user, journey_id=journey_id, action=Action.ANNOTATE)
    view = page.journey_note_editable(user=request.user, ref=ref, note_id=note_id)
    form = NoteForm(request.POST or None, initial={"content": view.note.content},
                    auto_id=f"id_note_{note_id}_%s")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                note = journey_note_update(actor=request.user, journey_id=journey_id, workflow_id=ref.workflow_id,
                                           note_id=note_id, content=form.cleaned_data["content"])
            except _REFUSALS as exc:
                add_mint_errors(form, exc, fields=NOTE_MINT_FIELDS)
            else:
                messages.success(request, "Saved your changes to the note.")
                if not wants_region(request):
                    return _back_to_journey(request, journey_id, "#journey-notes")
                updated = page.masked_note(
                    page.NoteView(note=note, author=view.author, edited_by=request.user.get_username()),
                    page.journey_masker(privacy=page.journey_privacy(user=request.user, ref=ref), row=ref.row))
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
def journey_file(request: AuthenticatedHttpRequest, journey_id: str, file_id: str) -> HttpResponse:
    ref = page.journey_ref(user=request.user, journey_id=journey_id, action=Action.VIEW)
    if page.data_withheld(user=request.user, row=ref.row):
        raise NotAllowed("This journey's data was removed; only someone who may reveal its personal data can "
                         "open its files.")
    privacy = page.journey_privacy(user=request.user, ref=ref)
    # A file is a document about the person (a letter, a contract, a receipt) that cannot be masked, so a
    # journey with personal data opens its files only to someone who has revealed it.
    if privacy.fields and not privacy.revealed:
        raise NotAllowed("This journey holds personal data: its files open after “Reveal personal data”, which "
                         "needs the reveal right and a reason." if privacy.may_reveal else
                         "This journey holds personal data: its files open only to someone who may reveal it.")
    return mint_download(lambda: get_client().download_journey_file(journey_id, file_id))
