"""Saved views: a journeys-list query kept under a name by its owner, private or shared with teams, and the pins
that put a view in a person's navigation.

A view stores the list's query string (filters, sort, columns), never its results: whoever opens it sees the
journeys their own scope allows (``savedviews.selectors``).
"""

from __future__ import annotations

from typing import Final

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models.functions import Lower

NAME_MAX_LENGTH: Final = 100
QUERY_MAX_LENGTH: Final = 2000
# Enough for every list a person comes back to; beyond it the page of views stops being a quick choice.
MAX_VIEWS_PER_OWNER: Final = 100
# The navigation has room for this many views beside its tabs.
MAX_PINNED: Final = 5


class SavedView(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    # The journeys list's query string as the owner saved it, without paging (see savedviews.forms).
    query = models.CharField(max_length=QUERY_MAX_LENGTH, blank=True, default="")
    # Members of these teams may open and pin the view; only the owner may change it. None: private.
    teams = models.ManyToManyField(Group, blank=True, related_name="saved_views")
    created_at = models.DateTimeField()
    # Moves on with every change, so counts cached for the view's earlier query are never read again.
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            # "Open cases" and "open cases" in one person's list would be told apart by nobody.
            models.UniqueConstraint(Lower("name"), "owner", name="savedview_name_unique_per_owner"),
        ]

    def __str__(self) -> str:
        return self.name


class SavedViewPin(models.Model):
    """A view in one person's navigation (their own view, or one shared with a team of theirs)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    view = models.ForeignKey(SavedView, on_delete=models.CASCADE, related_name="pins")
    pinned_at = models.DateTimeField()

    class Meta:
        ordering = ["pinned_at", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "view"], name="savedviewpin_once_per_user")]

    def __str__(self) -> str:
        return f"user {self.user_id}: view {self.view_id}"
