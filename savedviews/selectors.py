"""Reads for saved views: which views a person may use, their query as the journeys list reads it, and the count of
journeys a view shows one viewer.

A view is seen by its owner and by the members of the teams it is shared with, nobody else (managing access
included: an administrator shares with any team but reads only what is shared with theirs). Whatever a view's
query, it is read through the journeys list's own filter form and ``journey_queryset`` with the viewer, so a
shared view shows each viewer only what their scope allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.core.exceptions import TooManyFieldsSent
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.urls import reverse

from accounts.models import Action
from accounts.policy import user_can
from journeys.forms import JourneyFilterForm
from journeys.selectors import (
    MIRROR_GENERATION,
    JourneyFilters,
    JourneyPaginator,
    journey_queryset,
    journey_workflow_choices,
    journey_workflow_visible,
)
from mintportal.cache import cache_key, cached_json, generation
from mintportal.errors import NotAllowed, NotVisible, Refused
from savedviews.models import MAX_PINNED, SavedView, SavedViewPin

# Parameters of the list a view never keeps: the page (a view opens at its first page) and the marker of the
# view the list was opened from.
DROPPED_PARAMETERS: Final = frozenset({"page", "view"})
# What the list reads from its query string beside its filter form's fields: business-data filters (repeated),
# the step journeys wait at, and the columns shown.
LIST_PARAMETERS: Final = frozenset({"data", "step", "cols"})
# Longest a team or scope change takes to reach a pinned view's count; a mirror write or a change of the view
# shows at once (both are in the key).
COUNT_TTL: Final = 30
_VIEW_REFUSAL: Final = "You may not use saved views: your teams give you no journeys to view."


def savedviews_allowed(*, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the person may use saved views at all: they must be able to view journeys somewhere."""
    return user_can(user=user, action=Action.VIEW)


def savedviews_ensure_allowed(*, user: AbstractBaseUser | AnonymousUser) -> None:
    """Raises ``NotAllowed`` unless ``savedviews_allowed``."""
    if not savedviews_allowed(user=user):
        raise NotAllowed(_VIEW_REFUSAL)


def savedview_visible(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[SavedView]:
    """The views the person owns or that are shared with one of their teams, by name."""
    if not savedviews_allowed(user=user):
        return SavedView.objects.none()
    shared = SavedView.teams.through.objects.filter(group__user=user.pk).values("savedview_id")
    return SavedView.objects.filter(Q(owner=user.pk) | Q(pk__in=shared))


def savedview_get(*, user: AbstractBaseUser | AnonymousUser, view_id: int) -> SavedView:
    """The view if the person may use it; ``NotVisible`` if it does not exist or is not theirs to see."""
    view = savedview_visible(user=user).filter(pk=view_id).first()
    if view is None:
        raise NotVisible("No such saved view.")
    return view


def savedview_get_owned(*, user: AbstractBaseUser | AnonymousUser, view_id: int) -> SavedView:
    """The view if the person owns it; ``NotVisible`` if they may not see it, ``NotAllowed`` if they only use it."""
    view = savedview_get(user=user, view_id=view_id)
    if view.owner_id != user.pk:
        raise NotAllowed("Only the owner of a saved view may change or delete it.")
    return view


def shareable_teams(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Group]:
    """The teams the person may share a view with: their own; every team for those who manage access."""
    if user_can(user=user, action=Action.MANAGE_ACCESS):
        return Group.objects.order_by("name")
    return Group.objects.filter(user=user.pk).order_by("name")


# --- the list's query -------------------------------------------------------------------------------


def list_query(raw: str) -> QueryDict:
    """A list query string as a view keeps it: a leading ``?``, the parameters it never keeps and empty values
    (the list's form sends every input, filled or not) left out, the order of the rest (and of repeated ones, such
    as several data filters) kept."""
    try:
        parsed = QueryDict(raw.strip().removeprefix("?"))
    except TooManyFieldsSent:
        raise Refused("Not a journeys list you could open: it has far too many parameters.") from None
    query = QueryDict(mutable=True)
    for name, values in parsed.lists():
        kept = [value for value in values if value.strip()]
        if name not in DROPPED_PARAMETERS and kept:
            query.setlist(name, kept)
    return query


def list_filter_form(*, user: AbstractBaseUser | AnonymousUser, query: QueryDict) -> JourneyFilterForm:
    """The journeys list's filter form over ``query`` for this person, validated, exactly as the list builds it."""
    form = JourneyFilterForm(
        query,
        workflow_choices=journey_workflow_choices(user=user),
        workflow_known=lambda workflow_id: journey_workflow_visible(user=user, workflow_id=workflow_id),
    )
    form.is_valid()
    return form


def list_query_problems(*, user: AbstractBaseUser | AnonymousUser, query: QueryDict) -> list[str]:
    """Why ``query`` is not a journeys-list query this person could have made: parameters the list does not
    read, and every filter its form refuses (with the form's own words). Empty when it is one."""
    form = list_filter_form(user=user, query=query)
    known = (set(form.fields) | LIST_PARAMETERS) - DROPPED_PARAMETERS
    problems = [f"“{name}” is not a filter of the journeys list." for name in query if name not in known]
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        problems.extend(f"{label or name}: {error}" for error in errors)
    return problems


def savedview_filters(*, user: AbstractBaseUser | AnonymousUser, view: SavedView) -> JourneyFilters:
    """The filters the journeys list applies for this viewer when it is opened with the view's query: a filter
    the viewer's form refuses (a workflow outside their scope) is left out there, so it is here too."""
    return list_filter_form(user=user, query=list_query(view.query)).filters()


def savedview_count(*, user: AbstractBaseUser | AnonymousUser, view: SavedView) -> int:
    """How many journeys the list says it shows this viewer for the view's query (every page), counted as the list
    counts them: exactly up to ``EXACT_COUNT_LIMIT`` rows, past it the planner's estimate."""
    rows = journey_queryset(user=user, filters=savedview_filters(user=user, view=view))
    return JourneyPaginator(rows, 1).count


def savedview_count_key(*, user: AbstractBaseUser | AnonymousUser, view: SavedView) -> str:
    return cache_key("savedviews", "count", generation(MIRROR_GENERATION), str(view.pk), str(user.pk),
                     view.updated_at.isoformat())


def savedview_count_cached(*, user: AbstractBaseUser | AnonymousUser, view: SavedView) -> int:
    """``savedview_count`` as the navigation shows it on every page: cached per view and viewer until the mirror
    or the view changes, so a page served from cache makes no mirror query."""
    return int(cached_json(savedview_count_key(user=user, view=view), ttl=COUNT_TTL,
                           load=lambda: savedview_count(user=user, view=view)))


def savedview_url(view: SavedView) -> str:
    """Where the view opens: the journeys list with its query, marked with the view's id."""
    query = list_query(view.query)
    query["view"] = str(view.pk)
    return f"{reverse('journeys:list')}?{query.urlencode()}"


def savedview_create_url(query: str) -> str:
    """The page that saves ``query`` (a journeys-list query string) as a new view."""
    return f"{reverse('savedviews:create')}?{urlencode({'query': query})}"


# --- a person's views --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedViewEntry:
    """One view on the page of views, as one person may use it."""

    view: SavedView
    owned: bool
    pinned: bool
    url: str
    team_names: tuple[str, ...]


def savedview_entries(*, user: AbstractBaseUser | AnonymousUser) -> list[SavedViewEntry]:
    """The person's views (theirs first, then those shared with them), each with whether they pinned it."""
    views = list(savedview_visible(user=user).select_related("owner").prefetch_related("teams"))
    pinned = set(SavedViewPin.objects.filter(user=user.pk).values_list("view_id", flat=True))
    views.sort(key=lambda view: (view.owner_id != user.pk, view.name.lower(), view.pk))
    return [
        SavedViewEntry(view=view, owned=view.owner_id == user.pk, pinned=view.pk in pinned, url=savedview_url(view),
                       team_names=tuple(sorted(team.name for team in view.teams.all())))
        for view in views
    ]


def savedview_pinned(*, user: AbstractBaseUser | AnonymousUser) -> list[SavedView]:
    """The views the person pinned and may still use (a view unshared from their team drops out), in the order
    they were pinned, at most ``MAX_PINNED``."""
    pins = SavedViewPin.objects.filter(user=user.pk, view__in=savedview_visible(user=user)).select_related("view")
    return [pin.view for pin in pins[:MAX_PINNED]]


def savedview_pin_count(*, user: AbstractBaseUser | AnonymousUser) -> int:
    """How many of the views the person may use they have pinned."""
    return SavedViewPin.objects.filter(user=user.pk, view__in=savedview_visible(user=user)).count()
