"""Each user's time zone (the browser's by default, changeable) and relative or absolute times: the preference's
limits, the browser's cookie and what a forged one gets, the label naming the zone really used (across Oslo's
daylight-saving switches), and the toggle drawn on the server so the page never flashes the other form."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import UserPreference
from accounts.preferences import TIME_ZONE_MAX_LENGTH, valid_time_zone
from mintportal.templatetags.portal import time_display_activate, time_display_deactivate
from tests.clock import Clock
from tests.journeys.conftest import make_journey

pytestmark = pytest.mark.django_db
TIME_ZONE = reverse("accounts:time_zone")
TIME_DISPLAY = reverse("accounts:time_display")
DASHBOARD = reverse("accounts:dashboard")
LONGEST_ZONE = max(zoneinfo.available_timezones(), key=len)
# Oslo leaves winter time at 01:00 UTC on 29 March 2026 and returns to it at 01:00 UTC on 25 October 2026.
SPRING_BEFORE = datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC)
SPRING_AFTER = datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC)
AUTUMN_SUMMER = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
AUTUMN_WINTER = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


@pytest.fixture
def person(db: None) -> User:
    return User.objects.create_superuser("ada", "ada@example.com", "mintdemo")


@pytest.fixture
def signed_in(client: Client, person: User) -> Client:
    client.force_login(person)
    return client


@pytest.fixture(autouse=True)
def portal_zone(settings) -> None:
    settings.TIME_ZONE = "UTC"


def faulted(*moments: datetime) -> None:
    for number, moment in enumerate(moments):
        make_journey(f"fault-{number}", status="faulted", faulted_at=moment)


def _absolute(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y, %H:%M} UTC"


def footer(html: str) -> str:
    return re.search(r'<span id="time-zone-label">(.*?)</span>', html).group(1)


def times(html: str) -> list[str]:
    """The text of each ``<time>`` drawn by the ``when`` filter, in page order."""
    return re.findall(r"<time [^>]*data-when[^>]*>([^<]*)</time>", html)


def field_error(html: str) -> str:
    match = re.search(r'<div class="field has-error[^"]*">.*?<p class="field-error" role="alert">(.*?)</p>', html, re.S)
    assert match, "the message is beside the field"
    return match.group(1)


# --- the preference's limits -----------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Europe/Oslo", "America/New_York", "UTC", LONGEST_ZONE])
def test_a_known_zone_is_remembered_and_named_on_every_page(signed_in: Client, person: User, zone: str) -> None:
    response = signed_in.post(TIME_ZONE, {"time_zone": zone})
    assert response.status_code == 302
    assert UserPreference.objects.get(user=person).time_zone == zone
    assert footer(signed_in.get(TIME_ZONE).content.decode()) == f"Times in {zone} (your choice)"


@pytest.mark.parametrize("zone", [
    "Mars/Olympus_Mons", "europe/oslo", "Europe/ Oslo", "../../../etc/passwd", "Europe/Oslo\x00", "+01:00", "CEST",
    LONGEST_ZONE + "x", "A" * (TIME_ZONE_MAX_LENGTH + 1), "<script>alert(1)</script>",
])
def test_an_unknown_zone_answers_400_with_the_message_beside_the_field(
        signed_in: Client, person: User, zone: str) -> None:
    response = signed_in.post(TIME_ZONE, {"time_zone": zone})
    assert response.status_code == 400
    # Django's own check answers a null character first, beside the same field.
    assert field_error(response.content.decode()) in (
        "Choose a time zone from the list, such as Europe/Oslo.", "Null characters are not allowed.")
    assert "<script>alert" not in response.content.decode()
    assert not UserPreference.objects.exists()


def test_choosing_no_zone_goes_back_to_the_browsers(signed_in: Client, person: User) -> None:
    signed_in.post(TIME_ZONE, {"time_zone": "Asia/Tokyo"})
    signed_in.cookies["tz"] = "America/New_York"
    assert signed_in.post(TIME_ZONE, {"time_zone": ""}).status_code == 302
    assert UserPreference.objects.get(user=person).time_zone == ""
    assert footer(signed_in.get(TIME_ZONE).content.decode()) == "Times in America/New_York (your browser's zone)"


def test_the_zone_page_offers_every_known_zone_and_the_browsers(signed_in: Client) -> None:
    html = signed_in.get(TIME_ZONE).content.decode()
    assert '<option value="" selected>Your browser&#x27;s zone</option>' in html
    assert html.count("<option") == len(zoneinfo.available_timezones()) + 1


def test_signed_out_visitors_cannot_set_a_zone_or_a_display(client: Client) -> None:
    for url, data in ((TIME_ZONE, {"time_zone": "Europe/Oslo"}), (TIME_DISPLAY, {"time_display": "relative"})):
        response = client.post(url, data)
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert not UserPreference.objects.exists()


@given(st.text(max_size=TIME_ZONE_MAX_LENGTH + 8) | st.sampled_from(sorted(zoneinfo.available_timezones())))
def test_a_name_is_accepted_exactly_when_the_zone_database_knows_it(name: str) -> None:
    accepted = valid_time_zone(name)
    assert accepted == (name in zoneinfo.available_timezones())
    if accepted:
        assert zoneinfo.ZoneInfo(name).key == name


# --- the browser's zone and forged values ---------------------------------------------------------------


def test_without_a_choice_the_browsers_zone_is_used_and_said(signed_in: Client, clock: Clock) -> None:
    faulted(datetime(2026, 12, 3, 13, 3, tzinfo=UTC))
    signed_in.cookies["tz"] = "America/New_York"
    html = signed_in.get(DASHBOARD).content.decode()
    assert footer(html) == "Times in America/New_York (your browser's zone)"
    assert times(html) == ["3 Dec 2026, 08:03 EST"]
    assert 'datetime="2026-12-03T08:03:00-05:00"' in html
    assert "America/New_York, UTC-05:00" in html


def test_the_users_choice_beats_the_browsers_zone(signed_in: Client, person: User) -> None:
    UserPreference.objects.create(user=person, time_zone="Europe/Oslo")
    signed_in.cookies["tz"] = "America/New_York"
    assert footer(signed_in.get(TIME_ZONE).content.decode()) == "Times in Europe/Oslo (your choice)"


@pytest.mark.parametrize("cookie", [
    "Nowhere/Land", "america/new_york", "../../etc/localtime", "A" * 200, "Europe/Oslo;", '"><b>x</b>', "",
])
def test_a_forged_browser_zone_is_ignored_for_the_portals(signed_in: Client, cookie: str) -> None:
    faulted(datetime(2026, 12, 3, 13, 3, tzinfo=UTC))
    signed_in.cookies["tz"] = cookie
    response = signed_in.get(DASHBOARD)
    html = response.content.decode()
    assert response.status_code == 200
    assert footer(html) == "Times in UTC (the portal's zone)"
    assert times(html) == ["3 Dec 2026, 13:03 UTC"]
    assert "<b>x</b>" not in html


def test_a_stored_zone_the_database_no_longer_knows_falls_back_instead_of_failing(
        signed_in: Client, person: User) -> None:
    # Written behind the form's back, as a zone dropped from a later tzdata release would be.
    UserPreference.objects.create(user=person, time_zone="Atlantis/Poseidonia")
    signed_in.cookies["tz"] = "Asia/Kolkata"
    response = signed_in.get(TIME_ZONE)
    assert response.status_code == 200
    assert footer(response.content.decode()) == "Times in Asia/Kolkata (your browser's zone)"


def test_signed_out_pages_follow_the_browsers_zone_too(client: Client) -> None:
    client.cookies["tz"] = "Europe/Oslo"
    html = client.get(reverse("accounts:login")).content.decode()
    assert footer(html) == "Times in Europe/Oslo (your browser's zone)"


def test_a_change_reaches_the_users_other_browsers_at_once(person: User) -> None:
    first, second = Client(), Client()
    first.force_login(person)
    second.force_login(person)
    assert footer(second.get(TIME_ZONE).content.decode()) == "Times in UTC (the portal's zone)"
    first.post(TIME_ZONE, {"time_zone": "Pacific/Auckland"})
    assert footer(second.get(TIME_ZONE).content.decode()) == "Times in Pacific/Auckland (your choice)"


# --- the label names the zone actually used ---------------------------------------------------------------


def test_oslos_spring_switch_is_labelled_on_each_side(signed_in: Client, person: User) -> None:
    UserPreference.objects.create(user=person, time_zone="Europe/Oslo")
    faulted(SPRING_BEFORE, SPRING_AFTER)
    html = signed_in.get(DASHBOARD).content.decode()
    # One second apart, an hour apart on the wall clock: 02:00-03:00 does not exist that night.
    assert times(html) == ["29 Mar 2026, 03:00 CEST", "29 Mar 2026, 01:59 CET"]
    assert 'datetime="2026-03-29T03:00:00+02:00"' in html and 'datetime="2026-03-29T01:59:59+01:00"' in html
    assert footer(html) == "Times in Europe/Oslo (your choice)"


def test_oslos_autumn_hour_that_happens_twice_is_told_apart_by_its_label(signed_in: Client, person: User) -> None:
    UserPreference.objects.create(user=person, time_zone="Europe/Oslo")
    faulted(AUTUMN_SUMMER, AUTUMN_WINTER)
    html = signed_in.get(DASHBOARD).content.decode()
    assert times(html) == ["25 Oct 2026, 02:30 CET", "25 Oct 2026, 02:30 CEST"]
    assert "Europe/Oslo, UTC+01:00" in html and "Europe/Oslo, UTC+02:00" in html


def test_the_dashboard_counts_days_in_the_zone_it_names(signed_in: Client, person: User, clock: Clock) -> None:
    clock.now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    UserPreference.objects.create(user=person, time_zone="Pacific/Auckland")
    # 23:30 UTC on 2 December is 12:30 on 3 December in Auckland: today's bar there, not yesterday's.
    make_journey("late", status="finished", created_at=datetime(2026, 12, 2, 23, 30, tzinfo=UTC))
    html = signed_in.get(DASHBOARD).content.decode()
    assert "Days in Pacific/Auckland" in html
    assert "<title>Thu 03 Dec: 1 finished</title>" in html


def test_a_zone_without_letters_of_its_own_is_named_in_full() -> None:
    with timezone.override("America/Sao_Paulo"):
        html = Template("{% load portal %}{{ value|when }}").render(Context({"value": SPRING_AFTER}))
    assert ">28 Mar 2026, 22:00 America/Sao_Paulo</time>" in html
    assert 'title="2026-03-28 22:00:00 America/Sao_Paulo (America/Sao_Paulo, UTC-03:00) · ' in html


# --- relative or absolute, drawn on the server --------------------------------------------------------------


def test_times_are_absolute_until_the_user_toggles(signed_in: Client, clock: Clock) -> None:
    faulted(clock.now - timedelta(minutes=5))
    html = signed_in.get(DASHBOARD).content.decode()
    assert 'data-time-display="absolute"' in html
    assert 'aria-pressed="false" data-time-toggle>Relative times</button>' in html
    assert times(html) == [_absolute(clock.now - timedelta(minutes=5))]
    assert re.search(r'<time [^>]*title="[^"]* \(UTC, UTC\+00:00\) · 5 min ago"', html)


def test_the_toggle_is_remembered_and_the_next_page_is_drawn_relative(
        signed_in: Client, person: User, clock: Clock) -> None:
    moment = clock.now - timedelta(hours=3, minutes=5)
    faulted(moment)
    response = signed_in.post(TIME_DISPLAY, {"time_display": "relative", "next": DASHBOARD})
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    assert UserPreference.objects.get(user=person).time_display == "relative"
    html = signed_in.get(DASHBOARD).content.decode()
    assert 'data-time-display="relative"' in html
    assert 'aria-pressed="true" data-time-toggle>Relative times</button>' in html
    assert 'name="time_display" value="absolute"' in html
    assert times(html) == ["3 h 5 min ago"]
    local = timezone.localtime(moment)
    assert f'title="{local:%Y-%m-%d %H:%M:%S} UTC (UTC, UTC+00:00)"' in html
    assert f'data-absolute="{_absolute(moment)}"' in html


def test_the_toggles_script_gets_204_and_its_choice_is_kept(signed_in: Client, person: User) -> None:
    response = signed_in.post(TIME_DISPLAY, {"time_display": "relative"}, headers={"X-Portal-Toggle": "1"})
    assert response.status_code == 204
    response = signed_in.post(TIME_DISPLAY, {"time_display": "absolute"}, headers={"X-Portal-Toggle": "1"})
    assert response.status_code == 204
    assert UserPreference.objects.get(user=person).time_display == "absolute"


@pytest.mark.parametrize("data", [{"time_display": "sideways"}, {"time_display": ""}, {}])
def test_an_unknown_display_answers_400(signed_in: Client, data: dict) -> None:
    response = signed_in.post(TIME_DISPLAY, data)
    assert response.status_code == 400
    assert b"relative or absolute" in response.content
    assert not UserPreference.objects.exists()


def test_the_toggle_never_sends_the_user_to_another_site(signed_in: Client) -> None:
    response = signed_in.post(TIME_DISPLAY, {"time_display": "relative", "next": "https://evil.example/"})
    assert response["Location"] == DASHBOARD


def test_the_display_applies_to_one_request_only() -> None:
    template = Template("{% load portal %}{{ value|when }}")
    time_display_activate("relative")
    try:
        assert ">3 h ago</time>" in template.render(Context({"value": timezone.now() - timedelta(hours=3)}))
    finally:
        time_display_deactivate()
    assert " ago</time>" not in template.render(Context({"value": timezone.now() - timedelta(hours=3)}))


def test_a_cached_screen_is_never_served_in_another_zone_or_display(signed_in: Client, person: User) -> None:
    faulted(datetime(2026, 12, 1, 13, 3, tzinfo=UTC))
    signed_in.cookies["tz"] = "America/New_York"
    assert times(signed_in.get(DASHBOARD).content.decode()) == ["1 Dec 2026, 08:03 EST"]
    signed_in.cookies["tz"] = "Asia/Tokyo"
    assert times(signed_in.get(DASHBOARD).content.decode()) == ["1 Dec 2026, 22:03 JST"]
    signed_in.post(TIME_DISPLAY, {"time_display": "relative"})
    assert times(signed_in.get(DASHBOARD).content.decode())[0].endswith(" ago")


def test_the_journeys_export_keeps_iso_8601_with_the_offset_whatever_the_users_zone(
        signed_in: Client, person: User) -> None:
    UserPreference.objects.create(user=person, time_zone="America/New_York")
    faulted(SPRING_AFTER)
    body = b"".join(signed_in.get(reverse("journeys:export")).streaming_content).decode()
    assert '"2026-03-29T01:00:00+00:00"' in body
    assert "EST" not in body and "EDT" not in body
