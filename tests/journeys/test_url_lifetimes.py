"""Journey URL lifetimes in human units with each operation's true bounds, and a URL offered only where a step
waits on the end user."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import AuditEvent
from journeys.forms import JourneyUrlForm
from journeys.services.actions import journey_url_create
from launches.forms import LaunchForm
from mintportal.errors import Conflict, Refused
from mintportal.lifetimes import DAY, HOUR, LifetimeField, lifetime_words
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, chain, step, unique

HTMX = {"HTTP_HX_REQUEST": "true"}
UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def started(api: Api, *steps: dict) -> str:
    workflow = api.create_workflow(chain(*steps), name=unique("Lifetimes"))
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    return api.start(workflow["id"], {})["journeyId"]


@pytest.fixture
def at_form(api: Api, mint_settings) -> str:
    return started(api, step("details", "form", fields=[{"name": "phone", "label": "Phone"}]), step("done", "finish"))


@pytest.fixture
def at_suspend(api: Api, mint_settings) -> str:
    return started(api, step("review", "suspend"), step("done", "finish"))


def choices(form_field) -> list[str]:
    return [label for _, label in form_field.widget.widgets[0].choices]


def test_lifetimes_are_offered_in_words_within_each_operations_own_bounds() -> None:
    journey = JourneyUrlForm().fields["time_to_live"]
    assert choices(journey) == ["1 hour", "1 day", "7 days", "30 days", "Another length…"]
    assert journey.help_text == "From 1 second to 30 days."
    launch = LaunchForm(parameters=["email"]).fields["journey_url_ttl"]
    # The start answer's URL lives at most 7 days: 30 days is not offered there.
    assert choices(launch) == ["1 hour", "1 day", "7 days", "Another length…"]
    assert launch.help_text == "From 1 second to 7 days."


@pytest.mark.parametrize("seconds, words", [
    (1, "1 second"), (45, "45 seconds"), (3600, "1 hour"), (5400, "1 hour 30 minutes"), (86400, "1 day"),
    (604800, "7 days"), (2592000, "30 days"), (90061, "1 day 1 hour"),
])
def test_a_lifetime_reads_in_human_units(seconds: int, words: str) -> None:
    assert lifetime_words(seconds) == words


@given(amount=st.integers(min_value=-5, max_value=100_000), unit=st.sampled_from(sorted(UNIT_SECONDS)))
def test_a_custom_length_is_its_amount_in_its_unit_and_accepted_only_within_the_bounds(amount: int, unit: str) -> None:
    field = LifetimeField(minimum=1, maximum=7 * DAY, initial=DAY)
    seconds = amount * UNIT_SECONDS[unit]
    try:
        cleaned = field.clean(["custom", str(amount), unit])
    except Exception as error:
        assert not 1 <= seconds <= 7 * DAY
        assert "from 1 second to 7 days" in " ".join(error.messages)
    else:
        assert cleaned == seconds and 1 <= seconds <= 7 * DAY


def test_a_preset_is_its_number_of_seconds() -> None:
    form = JourneyUrlForm({"time_to_live_0": str(HOUR), "time_to_live_1": "", "time_to_live_2": "hours"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["time_to_live"] == HOUR


@pytest.mark.django_db
def test_a_zero_second_link_is_refused_on_the_page_and_never_audited_as_a_success(
    root_client: Client, at_form: str, sandbox
) -> None:
    calls = sandbox.count("createJourneyUrl")
    url = reverse("journeys:url", kwargs={"journey_id": at_form})
    response = root_client.post(url, {"time_to_live_0": "custom", "time_to_live_1": "0", "time_to_live_2": "hours"},
                                **HTMX)
    assert response.status_code == 400
    assert "A link that lasts no time could not be used" in response.content.decode()
    assert sandbox.count("createJourneyUrl") == calls
    assert not AuditEvent.objects.filter(action="journey.url_create", outcome="ok").exists()


@pytest.mark.django_db
def test_the_service_refuses_a_zero_second_link_and_audits_the_refusal(superuser: User, at_form: str,
                                                                       sandbox) -> None:
    calls = sandbox.count("createJourneyUrl")
    with pytest.raises(Refused):
        journey_url_create(actor=superuser, journey_id=at_form, time_to_live=0)
    assert sandbox.count("createJourneyUrl") == calls
    assert AuditEvent.objects.get(action="journey.url_create").outcome == "refused"


@pytest.mark.django_db
def test_a_journey_no_end_user_waits_on_offers_no_url_and_a_posted_one_is_refused(
    root_client: Client, superuser: User, at_suspend: str, sandbox
) -> None:
    page = root_client.get(reverse("journeys:detail", kwargs={"journey_id": at_suspend})).content.decode()
    assert '<section id="journey-share" hidden></section>' in page
    assert "Create a new URL" not in page and "Journey URL</h2>" not in page
    calls = sandbox.count("createJourneyUrl")
    response = root_client.post(reverse("journeys:url", kwargs={"journey_id": at_suspend}), {"time_to_live": "600"},
                                **HTMX)
    assert response.status_code == 409
    assert sandbox.count("createJourneyUrl") == calls
    event = AuditEvent.objects.get(action="journey.url_create")
    assert event.outcome == "refused" and "waits on the end user" in event.summary + str(event.detail)
    with pytest.raises(Conflict):
        journey_url_create(actor=superuser, journey_id=at_suspend, time_to_live=600)


@pytest.mark.django_db
def test_a_journey_waiting_for_the_end_users_form_offers_a_url_in_words(root_client: Client, at_form: str) -> None:
    page = root_client.get(reverse("journeys:detail", kwargs={"journey_id": at_form})).content.decode()
    assert "Create a new URL" in page
    assert ">Link lifetime</legend>" in page and "From 1 second to 30 days." in page
    response = root_client.post(reverse("journeys:url", kwargs={"journey_id": at_form}),
                                {"time_to_live_0": "custom", "time_to_live_1": "90", "time_to_live_2": "minutes"},
                                **HTMX)
    assert response.status_code == 200
    assert "1 hour 30 minutes from now" in response.content.decode()
    assert AuditEvent.objects.get(action="journey.url_create", outcome="ok").detail["time_to_live"] == 5400


@pytest.mark.django_db
def test_a_finished_journey_shows_no_url_card(root_client: Client, api: Api, mint_settings) -> None:
    finished = started(api, step("name", "set-name", template="Done at once"), step("done", "finish"))
    page = root_client.get(reverse("journeys:detail", kwargs={"journey_id": finished})).content.decode()
    assert '<section id="journey-share" hidden></section>' in page
    assert "Create a new URL" not in page
