"""The notifications page: each person picks how they hear about new work; a change is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import AuditEvent
from notifications.models import Mode, NotificationPreference
from tests.clock import Clock

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_the_default_choice_and_the_menu_links_to_it(approver: User, settings) -> None:
    settings.NOTIFICATIONS_DEFAULT_MODE = Mode.DIGEST
    response = signed_in(approver).get("/notifications/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="digest" checked' in page.replace('id="id_mode_1" ', "").replace(" required", "")
    assert 'href="/notifications/">Notifications</a>' in page
    assert "Your account has no e-mail address" in page


def test_choosing_a_mode_stores_and_audits_it(approver: User) -> None:
    client = signed_in(approver)
    response = client.post("/notifications/", {"mode": "immediate"})
    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=approver).mode == Mode.IMMEDIATE
    event = AuditEvent.objects.get(action="notifications.preference")
    assert event.actor_username == "approver"
    assert event.detail == {"mode": "immediate", "previous": "digest"}
    # The same choice again changes nothing and is not audited again.
    client.post("/notifications/", {"mode": "immediate"})
    assert AuditEvent.objects.filter(action="notifications.preference").count() == 1


def test_turning_mails_back_on_starts_listening_from_now(approver: User, clock: Clock) -> None:
    client = signed_in(approver)
    client.post("/notifications/", {"mode": "off"})
    # Less than the session's idle timeout, so the client stays signed in.
    clock.advance(600)
    client.post("/notifications/", {"mode": "digest"})
    assert NotificationPreference.objects.get(user=approver).watch_from == clock.now
    clock.advance(60)
    client.post("/notifications/", {"mode": "immediate"})
    # Between two ways of hearing, what was not told yet still is.
    assert NotificationPreference.objects.get(user=approver).watch_from == clock.now - timedelta(seconds=60)


def test_an_unknown_mode_is_refused_next_to_the_field(approver: User) -> None:
    response = signed_in(approver).post("/notifications/", {"mode": "hourly"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not NotificationPreference.objects.filter(user=approver).exists()
