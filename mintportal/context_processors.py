"""Template context for the layout: the navigation a user may use, the Mint outage banner and the colour theme."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.text import Truncator

from accounts.models import Action
from accounts.policy import user_can
from accounts.preferences import preference_theme
from approvals.selectors import inbox_count_cached
from approvals.views import WORK_COUNT_ID
from mintportal.outage import current_outage
from savedviews.selectors import savedview_count_cached, savedview_pinned, savedview_url
from workflows.selectors import may_manage_secrets

# A pseudo-action: secrets belong to the whole Mint account (see workflows.selectors.may_manage_secrets).
SECRETS = "secrets"


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool
    # How many things wait there for the user ("My work"), or how many journeys a pinned view shows them; read
    # only when the layout draws it.
    count: Callable[[], int] | None = None
    # What the count is, for screen readers (the badge shows only the number).
    count_label: str = "waiting on you"
    # The whole label when ``label`` is shortened (a pinned view's long name).
    title: str = ""
    # The id of the element holding the count, for a count a region redraws out of band (approvals.views.inbox).
    count_id: str = ""


# (label, URL name, actions of which the user needs at least one (None: every signed-in user), the view-name
# prefixes that make the tab current).
_NAV: tuple[tuple[str, str, tuple[str, ...] | None, tuple[str, ...]], ...] = (
    ("Dashboard", "accounts:dashboard", None, ("accounts:dashboard",)),
    ("Journeys", "journeys:list", (Action.VIEW,), ("journeys:", "savedviews:")),
    ("My work", "approvals:inbox", (Action.APPROVE, Action.CONTINUE), ("approvals:",)),
    ("Launches", "launches:index", (Action.LAUNCH,), ("launches:",)),
    ("Workflows", "workflows:list", (Action.VIEW,),
     ("workflows:list", "workflows:detail", "workflows:create", "workflows:edit", "workflows:diff",
      "workflows:file")),
    ("Step types", "workflows:step_types", (Action.VIEW,), ("workflows:step_types",)),
    ("Secrets", "workflows:secrets", (SECRETS,), ("workflows:secret",)),
    ("Audit", "audit:list", (Action.AUDIT,), ("audit:",)),
    ("Erasure", "compliance:erasure", (Action.ERASE,), ("compliance:erasure",)),
    ("Operations", "operations:overview", (Action.MANAGE_ACCESS,), ("operations:",)),
)


def _allowed(request: HttpRequest, actions: tuple[str, ...] | None) -> bool:
    if actions is None:
        return True
    if actions == (SECRETS,):
        return may_manage_secrets(request.user)
    return any(user_can(user=request.user, action=action) for action in actions)


# A pinned view's name is cut to this many characters in the navigation (the whole name is its title).
PINNED_LABEL_LENGTH = 24


def _pinned(request: HttpRequest, current: str) -> list[NavItem]:
    """The user's pinned saved views, each with the number of journeys it shows them; the one the journeys list
    was opened from is current."""
    opened = request.GET.get("view", "") if current == "journeys:list" else ""
    items = []
    for view in savedview_pinned(user=request.user):
        label = Truncator(view.name).chars(PINNED_LABEL_LENGTH)
        items.append(NavItem(label=label, url=savedview_url(view), active=opened == str(view.pk),
                             count=partial(savedview_count_cached, user=request.user, view=view),
                             count_label="journeys", title=view.name if label != view.name else ""))
    return items


def navigation(request: HttpRequest) -> list[NavItem]:
    """The layout's links for this user: the pages they may open, and after "Journeys" their pinned views."""
    if not request.user.is_authenticated:
        return []
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    items: list[NavItem] = []
    for label, name, actions, prefixes in _NAV:
        if not _allowed(request, actions):
            continue
        if name != "journeys:list":
            items.append(NavItem(label=label, url=reverse(name), active=current.startswith(prefixes),
                                 count=partial(inbox_count_cached, user=request.user)
                                 if name == "approvals:inbox" else None,
                                 count_id=WORK_COUNT_ID if name == "approvals:inbox" else ""))
            continue
        pinned = _pinned(request, current)
        # A list opened from a pinned view marks that view as the current page, not the tab as well.
        opened_pinned = any(item.active for item in pinned)
        items.append(NavItem(label=label, url=reverse(name),
                             active=current.startswith(prefixes) and not opened_pinned))
        items.extend(pinned)
    return items


def portal(request: HttpRequest) -> dict[str, Any]:
    """``nav_items`` for the header, ``mint_outage`` (set by a view, or noted recently) for the banner, and
    ``theme``, the user's colour theme (``system``, ``light`` or ``dark``; one query per request, none for anonymous
    visitors). The time zone pages are drawn in is the request's (accounts.preferences.TimeZoneMiddleware)."""
    # Handed over uncalled: the template calls it when it reads ``theme``, so a region rendered alone (which
    # draws no layout) makes no query for it.
    theme = partial(preference_theme, request=request)
    outage = getattr(request, "mint_outage", None)
    if outage is None and request.user.is_authenticated:
        outage = current_outage()
    # Built when the layout draws it, so a region rendered alone makes no query for the pinned views either.
    nav_items = SimpleLazyObject(lambda: navigation(request))
    return {"nav_items": nav_items, "mint_outage": outage, "theme": theme}
