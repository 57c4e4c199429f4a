"""Pages for saved views: the views a person may use, saving the journeys list as a view, changing, deleting and
pinning one.

Every page needs the right to view journeys somewhere (403 otherwise). A view the person may not see answers 404,
one they only use answers 403 to a change; the services re-check both on every write.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mintportal.middleware import AuthenticatedHttpRequest
from savedviews.forms import DeleteForm, PinForm, SavedViewForm
from savedviews.models import MAX_PINNED, MAX_VIEWS_PER_OWNER
from savedviews.selectors import (
    savedview_entries,
    savedview_get_owned,
    savedview_url,
    savedviews_ensure_allowed,
)
from savedviews.services import (
    FieldRefused,
    savedview_create,
    savedview_delete,
    savedview_pin,
    savedview_update,
)


def _list_page(request: AuthenticatedHttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    return render(request, "savedviews/list.html", {
        "entries": savedview_entries(user=request.user), "error": error, "max_pinned": MAX_PINNED,
        "max_views": MAX_VIEWS_PER_OWNER,
    }, status=status)


@login_required
@require_http_methods(["GET"])
def savedview_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The views the person owns and those shared with their teams."""
    savedviews_ensure_allowed(user=request.user)
    return _list_page(request)


@login_required
@require_http_methods(["GET", "POST"])
def savedview_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """GET ``?query=<the list's query string>``: the form to save it. POST: save it and show the views."""
    savedviews_ensure_allowed(user=request.user)
    status = 200
    if request.method == "POST":
        form = SavedViewForm(request.POST, user=request.user, creating=True)
        if form.is_valid():
            try:
                view = savedview_create(owner=request.user, name=form.cleaned_data["name"],
                                        query=form.cleaned_data["query"], teams=form.cleaned_data["teams"],
                                        pin=form.cleaned_data["pin"])
            except FieldRefused as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, f"Saved the view “{view.name}”.")
                return redirect("savedviews:list")
        status = 400
    else:
        form = SavedViewForm({"query": request.GET.get("query", "")}, user=request.user, creating=True)
        if form.has_error("query"):
            # A link to save a list that is not one (edited by hand) says so at once, beside the query; the name
            # is not asked for yet.
            form.errors.pop("name", None)
            status = 400
        else:
            form = SavedViewForm(initial={"query": form.cleaned_data["query"]}, user=request.user, creating=True)
    return render(request, "savedviews/form.html", {"form": form, "creating": True}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def savedview_edit(request: AuthenticatedHttpRequest, view_id: int) -> HttpResponse:
    """The owner renames the view, changes its query or whom it is shared with."""
    savedviews_ensure_allowed(user=request.user)
    view = savedview_get_owned(user=request.user, view_id=view_id)
    status = 200
    if request.method == "POST":
        form = SavedViewForm(request.POST, user=request.user, creating=False, shared_with=view.teams.all())
        if form.is_valid():
            try:
                view = savedview_update(actor=request.user, view_id=view.pk, name=form.cleaned_data["name"],
                                        query=form.cleaned_data["query"], teams=form.cleaned_data["teams"])
            except FieldRefused as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, f"Saved the changes to “{view.name}”.")
                return redirect("savedviews:list")
        status = 400
    else:
        form = SavedViewForm(initial={"name": view.name, "query": view.query, "teams": list(view.teams.all())},
                             user=request.user, creating=False, shared_with=view.teams.all())
    return render(request, "savedviews/form.html",
                  {"form": form, "creating": False, "view": view, "open_url": savedview_url(view)}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def savedview_remove(request: AuthenticatedHttpRequest, view_id: int) -> HttpResponse:
    """GET: asks the owner to confirm. POST with ``confirm``: deletes the view."""
    savedviews_ensure_allowed(user=request.user)
    view = savedview_get_owned(user=request.user, view_id=view_id)
    status = 200
    if request.method == "POST":
        form = DeleteForm(request.POST)
        if form.is_valid():
            name = savedview_delete(actor=request.user, view_id=view.pk)
            messages.success(request, f"Deleted the view “{name}”.")
            return redirect("savedviews:list")
        status = 400
    else:
        form = DeleteForm()
    return render(request, "savedviews/delete.html", {"form": form, "view": view}, status=status)


@login_required
@require_POST
def savedview_pin_toggle(request: AuthenticatedHttpRequest, view_id: int) -> HttpResponse:
    """Pins or unpins a view the person may use, then shows their views (with the refusal past the limit)."""
    savedviews_ensure_allowed(user=request.user)
    form = PinForm(request.POST)
    if not form.is_valid():
        return _list_page(request, error="Choose whether to pin or unpin the view.", status=400)
    try:
        pinned = savedview_pin(user=request.user, view_id=view_id, pinned=form.cleaned_data["pin"])
    except FieldRefused as exc:
        return _list_page(request, error=exc.message, status=exc.status)
    messages.success(request, "Pinned to your navigation." if pinned else "Unpinned from your navigation.")
    return redirect("savedviews:list")
