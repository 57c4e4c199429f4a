"""Saved views in the admin, to look at only: every change goes through the portal's pages, which check the owner
and audit it (savedviews.services)."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin import ReadOnlyAdminMixin
from savedviews.models import SavedView, SavedViewPin


@admin.register(SavedView)
class SavedViewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "owner", "updated_at"]
    list_filter = ["teams"]
    search_fields = ["name", "owner__username"]


@admin.register(SavedViewPin)
class SavedViewPinAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["view", "user", "pinned_at"]
    search_fields = ["view__name", "user__username"]
