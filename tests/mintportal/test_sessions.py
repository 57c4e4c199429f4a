"""Sessions: the idle timeout that only the user's own requests slide, the absolute lifetime, what an ended
session answers to pages and to htmx, and what signed-in responses tell caches."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.clock import Clock
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")
DASHBOARD = reverse("accounts:dashboard")
JOURNEYS = reverse("journeys:list")
POLL = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": f"http://testserver{JOURNEYS}?status=active"}
CLICK = {**POLL, "HTTP_X_PORTAL_ACTIVITY": "user"}


def signed_in_client(username: str = "handler") -> Client:
    client = Client()
    assert client.post(LOGIN, {"username": username, "password": PASSWORD}).status_code == 302
    return client


def test_a_session_ends_after_thirty_minutes_without_activity(case_handler: User, clock: Clock) -> None:
    client = signed_in_client()
    clock.advance(29 * 60)
    assert client.get(DASHBOARD).status_code == 200
    clock.advance(29 * 60)
    assert client.get(DASHBOARD).status_code == 200
    clock.advance(30 * 60)

    response = client.get(JOURNEYS)
    assert response.status_code == 302 and response["Location"] == f"{LOGIN}?next={JOURNEYS}"
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "You were signed out after a while without activity." in page


def test_background_polls_do_not_keep_an_idle_session_alive(case_handler: User, clock: Clock) -> None:
    client = signed_in_client()
    for _ in range(5):
        clock.advance(5 * 60)
        assert client.get(JOURNEYS, **POLL).status_code == 200
    clock.advance(5 * 60)

    response = client.get(JOURNEYS, **POLL)
    # htmx follows a redirect itself and would swap the sign-in page into the table; HX-Redirect leaves the page.
    assert response.status_code == 200 and "HX-Redirect" in response
    assert response["HX-Redirect"] == f"{LOGIN}?next=/journeys/%3Fstatus%3Dactive"
    assert "_auth_user_id" not in client.session


def test_htmx_requests_the_user_triggered_keep_the_session_alive(case_handler: User, clock: Clock) -> None:
    client = signed_in_client()
    for _ in range(8):
        clock.advance(20 * 60)
        response = client.get(JOURNEYS, **CLICK)
        assert response.status_code == 200 and "HX-Redirect" not in response


def test_a_session_ends_twelve_hours_after_sign_in_however_active(case_handler: User, clock: Clock) -> None:
    client = signed_in_client()
    for _ in range(35):
        clock.advance(20 * 60)
        assert client.get(DASHBOARD).status_code == 200
    clock.advance(20 * 60)

    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert "maximum length" in client.get(response["Location"]).content.decode()


def test_the_timeouts_follow_their_settings(case_handler: User, clock: Clock, settings) -> None:
    settings.SESSION_IDLE_TIMEOUT = 120
    client = signed_in_client()
    clock.advance(119)
    assert client.get(DASHBOARD).status_code == 200
    clock.advance(120)
    assert client.get(DASHBOARD).status_code == 302


def test_an_htmx_request_without_a_session_is_sent_to_sign_in_as_a_page(client: Client) -> None:
    response = client.get(JOURNEYS, **POLL)

    assert response["HX-Redirect"] == f"{LOGIN}?next=/journeys/%3Fstatus%3Dactive"


def test_signed_in_pages_are_never_stored(case_handler: User, clock: Clock) -> None:
    client = signed_in_client()
    for path in (DASHBOARD, JOURNEYS, reverse("approvals:inbox")):
        response = client.get(path)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"] and response["Pragma"] == "no-cache"


def test_csv_exports_are_never_stored(admin: User) -> None:
    client = Client()
    client.force_login(admin)
    for path in (reverse("journeys:export"), reverse("audit:export")):
        response = client.get(path)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert "no-store" in response["Cache-Control"] and response["Pragma"] == "no-cache"


def test_public_answers_keep_their_own_caching(client: Client) -> None:
    response = client.get("/healthz")

    assert "Cache-Control" not in response and "Pragma" not in response


def test_signed_in_pages_stay_out_of_htmx_history(admin: User) -> None:
    client = Client()
    client.force_login(admin)
    for path in (DASHBOARD, JOURNEYS, reverse("approvals:inbox"), reverse("audit:list"), reverse("launches:index")):
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'hx-history="false"' in response.content.decode(), path
    assert 'hx-history="false"' not in Client().get(LOGIN).content.decode()
