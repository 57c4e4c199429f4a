"""Writes for saved views: create, update and delete (the owner only) and pin or unpin (anyone who may use the
view), each re-checked here against the person and the view as they are now, and audited.

The limits hold under concurrent requests: each write takes a lock on its person's user row, so two requests of one
person cannot both pass a count of views or pins, and the database's unique constraints back up the names.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.services import audit_record
from journeys.datafilter import DataFilterError, parse_condition
from mintportal.errors import Refused
from privacy.selectors import personal_paths
from savedviews.models import (
    MAX_PINNED,
    MAX_VIEWS_PER_OWNER,
    NAME_MAX_LENGTH,
    QUERY_MAX_LENGTH,
    SavedView,
    SavedViewPin,
)
from savedviews.selectors import (
    list_query,
    list_query_problems,
    savedview_get,
    savedview_get_owned,
    savedview_pin_count,
    savedviews_ensure_allowed,
    shareable_teams,
)


class FieldRefused(Refused):
    """A refusal that belongs beside one field of the form that asked (``field``; None: above the form)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _lock_person(user: AbstractBaseUser) -> None:
    # Serialises one person's saved-view writes (call inside a transaction) so that counted limits hold.
    get_user_model().objects.select_for_update().filter(pk=user.pk).exists()


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise FieldRefused("Give the view a name.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise FieldRefused(f"A name has at most {NAME_MAX_LENGTH} characters (this one has {len(name)}).",
                           field="name")
    return name


def _clean_query(*, user: AbstractBaseUser, query: str) -> str:
    try:
        parsed = list_query(query)
    except Refused as exc:
        raise FieldRefused(exc.message, field="query") from None
    problems = list_query_problems(user=user, query=parsed)
    if problems:
        raise FieldRefused("Not a journeys list you could open: " + " ".join(problems), field="query")
    _ensure_no_personal_value(parsed.getlist("data"))
    normalised = parsed.urlencode()
    if len(normalised) > QUERY_MAX_LENGTH:
        raise FieldRefused(f"A view's query has at most {QUERY_MAX_LENGTH:,} characters (this one has "
                           f"{len(normalised):,}).", field="query")
    return normalised


def _ensure_no_personal_value(lines: list[str]) -> None:
    """Refuses a query that matches a personal field by its value (``login.nationalId = …``): a saved view is kept,
    shared and audited, and the value would sit in it in clear. Such a search is typed again each time."""
    personal = personal_paths()
    for line in lines:
        try:
            condition = parse_condition(line, personal=personal)
        except DataFilterError:
            continue
        if condition.hashes:
            raise FieldRefused(f"A saved view cannot keep a personal value: remove the filter on "
                               f"“{condition.path.text[:60]}” (search it each time instead).", field="query")


def _clean_teams(*, user: AbstractBaseUser, teams: Iterable[Group], keep: Iterable[Group] = ()) -> list[Group]:
    """The teams to share with, each one the person may share with (or one the view is already shared with,
    which its owner may keep after leaving that team)."""
    chosen = list({team.pk: team for team in teams}.values())
    allowed = set(shareable_teams(user=user).values_list("pk", flat=True)) | {team.pk for team in keep}
    refused = sorted(team.name for team in chosen if team.pk not in allowed)
    if refused:
        raise FieldRefused(f"You may share only with your own teams, not with {', '.join(refused)}.", field="teams")
    return chosen


def _ensure_name_free(*, owner: AbstractBaseUser, name: str, view_id: int | None = None) -> None:
    taken = SavedView.objects.annotate(lower=Lower("name")).filter(owner=owner.pk, lower=name.lower())
    if view_id is not None:
        taken = taken.exclude(pk=view_id)
    if taken.exists():
        raise FieldRefused(f"You already have a view named “{name}”.", field="name")


def _detail(view: SavedView, teams: list[Group]) -> dict[str, object]:
    return {"view_id": view.pk, "name": view.name, "query": view.query,
            "teams": sorted(team.name for team in teams)}


def savedview_create(*, owner: AbstractBaseUser, name: str, query: str, teams: Iterable[Group] = (),
                     pin: bool = False) -> SavedView:
    """Saves a journeys-list query under a name for ``owner``, shared with ``teams`` (none: private), and pins it
    to the owner's navigation when ``pin``. Raises ``FieldRefused`` for a bad name, query or team, a name the
    owner already uses, the owner's ``MAX_VIEWS_PER_OWNER``-th view, or a pin past ``MAX_PINNED``; ``NotAllowed``
    when the owner may view no journeys. Audited as ``savedview.create`` (and ``savedview.pin``)."""
    savedviews_ensure_allowed(user=owner)
    name = _clean_name(name)
    query = _clean_query(user=owner, query=query)
    chosen = _clean_teams(user=owner, teams=teams)
    with transaction.atomic():
        _lock_person(owner)
        if SavedView.objects.filter(owner=owner.pk).count() >= MAX_VIEWS_PER_OWNER:
            raise FieldRefused(f"You have {MAX_VIEWS_PER_OWNER} saved views, the most one person may keep. "
                               "Delete one you no longer use first.")
        _ensure_name_free(owner=owner, name=name)
        if pin and savedview_pin_count(user=owner) >= MAX_PINNED:
            raise FieldRefused(_pin_limit_message(), field="pin")
        now = timezone.now()
        try:
            with transaction.atomic():
                view = SavedView.objects.create(owner_id=owner.pk, name=name, query=query, created_at=now,
                                                updated_at=now)
        except IntegrityError:
            raise FieldRefused(f"You already have a view named “{name}”.", field="name") from None
        view.teams.set(chosen)
        audit_record(actor=owner, action="savedview.create", summary=f"Saved the view “{name}”",
                     detail=_detail(view, chosen))
        if pin:
            SavedViewPin.objects.create(user_id=owner.pk, view=view, pinned_at=now)
            audit_record(actor=owner, action="savedview.pin", summary=f"Pinned the view “{name}”",
                         detail={"view_id": view.pk, "name": name, "pinned": True})
    return view


def savedview_update(*, actor: AbstractBaseUser, view_id: int, name: str, query: str,
                     teams: Iterable[Group]) -> SavedView:
    """Renames the view, replaces its query and the teams it is shared with. Only its owner may: ``NotVisible``
    for a view the actor may not see, ``NotAllowed`` for one they only use; ``FieldRefused`` as for creating.
    Members of teams no longer shared with lose the view (and their pins stop showing it). Audited as
    ``savedview.update`` with what it was and what it became."""
    savedviews_ensure_allowed(user=actor)
    with transaction.atomic():
        _lock_person(actor)
        view = savedview_get_owned(user=actor, view_id=view_id)
        view = SavedView.objects.select_for_update().get(pk=view.pk)
        before_teams = list(view.teams.all())
        before = _detail(view, before_teams)
        name = _clean_name(name)
        query = _clean_query(user=actor, query=query)
        chosen = _clean_teams(user=actor, teams=teams, keep=before_teams)
        _ensure_name_free(owner=actor, name=name, view_id=view.pk)
        # Strictly later, even within one clock tick: counts cached for the old query are keyed by it.
        view.name, view.query = name, query
        view.updated_at = max(timezone.now(), view.updated_at + timedelta(microseconds=1))
        try:
            with transaction.atomic():
                view.save(update_fields=["name", "query", "updated_at"])
        except IntegrityError:
            raise FieldRefused(f"You already have a view named “{name}”.", field="name") from None
        view.teams.set(chosen)
        audit_record(actor=actor, action="savedview.update", summary=f"Changed the view “{name}”",
                     detail={"before": before, "after": _detail(view, chosen)})
    return view


def savedview_delete(*, actor: AbstractBaseUser, view_id: int) -> str:
    """Deletes the view (and everyone's pins of it); returns its name. Only its owner may: ``NotVisible`` /
    ``NotAllowed`` as for ``savedview_update``. Audited as ``savedview.delete``."""
    savedviews_ensure_allowed(user=actor)
    with transaction.atomic():
        view = savedview_get_owned(user=actor, view_id=view_id)
        detail = _detail(view, list(view.teams.all()))
        view.delete()
        audit_record(actor=actor, action="savedview.delete", summary=f"Deleted the view “{view.name}”",
                     detail=detail)
    return view.name


def _pin_limit_message() -> str:
    return f"You can pin at most {MAX_PINNED} views to the navigation. Unpin one first."


def savedview_pin(*, user: AbstractBaseUser, view_id: int, pinned: bool | None = None) -> bool:
    """Pins the view to the person's navigation (``pinned`` True), unpins it (False) or toggles it (None); returns
    whether it is pinned now. Anyone who may use the view may pin it (``NotVisible`` otherwise); a pin past
    ``MAX_PINNED`` raises ``FieldRefused``. Audited as ``savedview.pin`` when something changed."""
    savedviews_ensure_allowed(user=user)
    with transaction.atomic():
        _lock_person(user)
        view = savedview_get(user=user, view_id=view_id)
        pin = SavedViewPin.objects.filter(user=user.pk, view=view).first()
        want = pin is None if pinned is None else pinned
        if want == (pin is not None):
            return want
        if want:
            if savedview_pin_count(user=user) >= MAX_PINNED:
                raise FieldRefused(_pin_limit_message(), field="pin")
            SavedViewPin.objects.create(user_id=user.pk, view=view, pinned_at=timezone.now())
        else:
            assert pin is not None
            pin.delete()
        audit_record(actor=user, action="savedview.pin",
                     summary=f"{'Pinned' if want else 'Unpinned'} the view “{view.name}”",
                     detail={"view_id": view.pk, "name": view.name, "pinned": want})
    return want

