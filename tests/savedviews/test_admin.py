"""Saved views in the admin: listed for a look, never changed there (the pages check the owner and audit)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from savedviews.services import savedview_create

pytestmark = pytest.mark.django_db


def test_the_admin_lists_saved_views_but_offers_no_change(root_client: Client, case_handler: User) -> None:
    view = savedview_create(owner=case_handler, name="Open onboarding", query="status=active", pin=True)
    listed = root_client.get(reverse("admin:savedviews_savedview_changelist"))
    assert listed.status_code == 200 and "Open onboarding" in listed.content.decode()
    assert root_client.get(reverse("admin:savedviews_savedviewpin_changelist")).status_code == 200
    assert root_client.get(reverse("admin:savedviews_savedview_add")).status_code == 403
    response = root_client.post(reverse("admin:savedviews_savedview_delete", args=[view.pk]), {"post": "yes"})
    assert response.status_code == 403
    view.refresh_from_db()
