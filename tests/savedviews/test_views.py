"""The saved-view pages: saving the journeys list, the page of views, editing, deleting and pinning, the pinned
views in the navigation with each viewer's count, and forged requests for someone else's view."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent
from savedviews.models import SavedView, SavedViewPin
from savedviews.selectors import savedview_url
from savedviews.services import savedview_create, savedview_pin
from tests.journeys.conftest import journey_queries, make_journey
from tests.personas import WF_CONTRACTS, WF_INSIDE, WF_OUTSIDE, make_user, team

pytestmark = pytest.mark.django_db

LIST = reverse("savedviews:list")
CREATE = reverse("savedviews:create")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def field_error(html: str, field: str) -> str:
    """The error text shown beside a field (the paragraphs after its input, before the next field)."""
    match = re.search(rf'name="{field}".*?(<p class="field-error".*?)</div>', html, re.S)
    return match.group(1) if match else ""


def nav(html: str) -> str:
    match = re.search(r'<nav class="mainnav".*?</nav>', html, re.S)
    assert match
    return match.group(0)


def kept_query(length: int) -> str:
    """A query the list accepts, ``length`` characters long: the search box repeated (the list reads the last)."""
    unit = "q=abcdefgh&"
    query = unit * (length // len(unit))
    return query + "q=" + "x" * (length - len(query) - 2)


def test_the_save_page_is_prefilled_with_the_list_query_and_saving_lists_the_view(case_handler: User) -> None:
    client = signed_in(case_handler)
    query = f"status=active&workflow={WF_INSIDE}&page=4"
    make_journey("j1", status="active")
    page = client.get(CREATE, {"query": query})
    html = page.content.decode()
    assert page.status_code == 200
    assert f"status=active&amp;workflow={WF_INSIDE}</textarea>" in html, "the page is never saved"
    assert 'value="' in html and "Case handlers" in html and "Approvers" not in html
    response = client.post(CREATE, {"name": "Open onboarding", "query": f"status=active&workflow={WF_INSIDE}",
                                    "teams": [team("Case handlers").pk], "pin": "on"})
    assert response.status_code == 302 and response["Location"] == LIST
    listed = client.get(LIST).content.decode()
    view = SavedView.objects.get()
    assert "Saved the view “Open onboarding”" in listed
    assert f'href="{savedview_url(view).replace("&", "&amp;")}">Open onboarding</a>' in listed
    assert "Pinned" in listed


def test_a_bad_query_is_a_400_with_the_message_beside_the_query(case_handler: User) -> None:
    client = signed_in(case_handler)
    response = client.post(CREATE, {"name": "Bad", "query": "status=sleeping"})
    assert response.status_code == 400
    assert "Select a valid choice" in field_error(response.content.decode(), "query")
    linked = client.get(CREATE, {"query": "colour=red"})
    assert linked.status_code == 400
    assert "“colour” is not a filter" in field_error(linked.content.decode(), "query")
    assert not SavedView.objects.exists()


@pytest.mark.parametrize("name, status", [("n" * 100, 302), ("n" * 101, 400), ("", 400)])
def test_a_name_of_1_to_100_characters_is_taken(case_handler: User, name: str, status: int) -> None:
    response = signed_in(case_handler).post(CREATE, {"name": name, "query": ""})
    assert response.status_code == status
    if status == 400:
        assert field_error(response.content.decode(), "name")


def test_a_query_past_2000_characters_is_refused_beside_it(case_handler: User) -> None:
    response = signed_in(case_handler).post(CREATE, {"name": "Long", "query": kept_query(2001)})
    assert response.status_code == 400
    assert "at most 2,000 characters" in field_error(response.content.decode(), "query")


def test_a_sixth_pin_is_refused_with_a_clear_message(case_handler: User) -> None:
    views = [savedview_create(owner=case_handler, name=f"v{index}", query="", pin=index < 5) for index in range(6)]
    client = signed_in(case_handler)
    response = client.post(reverse("savedviews:pin", args=[views[-1].pk]), {"pin": "1"})
    assert response.status_code == 400
    assert "You can pin at most 5 views to the navigation. Unpin one first." in response.content.decode()
    created = client.post(CREATE, {"name": "Seventh", "query": "", "pin": "on"})
    assert created.status_code == 400 and "at most 5 views" in field_error(created.content.decode(), "pin")
    assert client.post(reverse("savedviews:pin", args=[views[0].pk]), {"pin": "0"}).status_code == 302
    assert client.post(reverse("savedviews:pin", args=[views[-1].pk])).status_code == 302
    assert SavedViewPin.objects.filter(user=case_handler).count() == 5


def test_pinned_views_show_in_the_navigation_with_the_viewers_own_count(case_handler: User,
                                                                         approver: User) -> None:
    make_journey("in1", status="active")
    make_journey("in2", status="active", workflow_id=WF_CONTRACTS, workflow_name="Contracts")
    make_journey("out1", status="active", workflow_id=WF_OUTSIDE, workflow_name="Batch")
    make_journey("fin", status="finished")
    admin = make_user("boss", "Admins")
    view = savedview_create(owner=admin, name="Everything active and then some more words", query="status=active",
                            teams=[team("Case handlers"), team("Approvers")])
    for user in (admin, case_handler):
        savedview_pin(user=user, view_id=view.pk)
    boss_nav = nav(signed_in(admin).get(reverse("accounts:dashboard")).content.decode())
    assert re.search(r"Everything active and t…\s*<span class=\"nav-count\">3<", boss_nav)
    handler_nav = nav(signed_in(case_handler).get(reverse("accounts:dashboard")).content.decode())
    assert re.search(r"Everything active and t…\s*<span class=\"nav-count\">2<", handler_nav)
    assert "Everything active" not in nav(signed_in(approver).get(reverse("accounts:dashboard")).content.decode())


def test_the_pinned_view_opened_is_the_current_page(case_handler: User) -> None:
    view = savedview_create(owner=case_handler, name="Mine", query="status=active", pin=True)
    html = nav(signed_in(case_handler).get(savedview_url(view)).content.decode())
    assert f'<a href="{savedview_url(view).replace("&", "&amp;")}" class="active" aria-current="page">Mine' in html
    assert html.count('aria-current="page"') == 1


def test_a_page_served_from_cache_makes_no_mirror_query_for_the_pinned_counts(case_handler: User) -> None:
    make_journey("j1", status="active")
    savedview_create(owner=case_handler, name="Active", query="status=active", pin=True)
    client = signed_in(case_handler)
    journeys = reverse("journeys:list")
    assert journey_queries(client, journeys, {"status": "active"})
    assert journey_queries(client, journeys, {"status": "active"}) == []
    make_journey("j2", status="active")
    html = client.get(reverse("accounts:dashboard")).content.decode()
    assert re.search(r"Active\s*<span class=\"nav-count\">2<", nav(html)), "a mirror write shows at once"


def test_a_changed_query_shows_its_own_count_at_once(case_handler: User) -> None:
    make_journey("a1", status="active")
    make_journey("f1", status="finished")
    make_journey("f2", status="finished")
    view = savedview_create(owner=case_handler, name="Mine", query="status=active", pin=True)
    client = signed_in(case_handler)
    assert re.search(r"Mine\s*<span class=\"nav-count\">1<", nav(client.get(LIST).content.decode()))
    response = client.post(reverse("savedviews:edit", args=[view.pk]), {"name": "Mine", "query": "status=finished"})
    assert response.status_code == 302
    assert re.search(r"Mine\s*<span class=\"nav-count\">2<", nav(client.get(LIST).content.decode()))


def test_the_owner_edits_and_deletes_after_confirming(case_handler: User) -> None:
    view = savedview_create(owner=case_handler, name="Mine", query="status=active")
    client = signed_in(case_handler)
    page = client.get(reverse("savedviews:edit", args=[view.pk])).content.decode()
    assert 'value="Mine"' in page and "status=active</textarea>" in page
    delete = reverse("savedviews:delete", args=[view.pk])
    assert "Delete view “Mine”?" in client.get(delete).content.decode()
    unconfirmed = client.post(delete, {})
    assert unconfirmed.status_code == 400 and "Confirm" in field_error(unconfirmed.content.decode(), "confirm")
    assert client.post(delete, {"confirm": "on"}).status_code == 302
    assert not SavedView.objects.exists()
    assert AuditEvent.objects.filter(action="savedview.delete", outcome="ok").count() == 1


def test_a_view_shared_with_a_team_is_used_by_its_members_but_only_changed_by_its_owner(case_handler: User) -> None:
    colleague = make_user("colleague", "Case handlers")
    view = savedview_create(owner=case_handler, name="Team list", query="status=active",
                            teams=[team("Case handlers")])
    client = signed_in(colleague)
    listed = client.get(LIST).content.decode()
    assert "Team list" in listed and "handler" in listed
    assert reverse("savedviews:edit", args=[view.pk]) not in listed
    assert "status=active" not in re.sub(r'href="[^"]*"', "", listed), "others see the view, not how it is built"
    assert client.post(reverse("savedviews:pin", args=[view.pk])).status_code == 302
    assert SavedViewPin.objects.filter(user=colleague, view=view).exists()


@pytest.mark.parametrize("route, data", [
    ("savedviews:edit", {"name": "Hijacked", "query": ""}),
    ("savedviews:delete", {"confirm": "on"}),
])
def test_a_forged_change_of_someone_elses_view_is_403_if_seen_and_404_if_not(case_handler: User, operator: User,
                                                                            route: str, data: dict) -> None:
    colleague = make_user("colleague", "Case handlers")
    view = savedview_create(owner=case_handler, name="Team list", query="status=active",
                            teams=[team("Case handlers")])
    url = reverse(route, args=[view.pk])
    assert signed_in(colleague).post(url, data).status_code == 403
    assert signed_in(colleague).get(url).status_code == 403
    assert signed_in(operator).post(url, data).status_code == 404
    assert signed_in(operator).post(reverse("savedviews:pin", args=[view.pk])).status_code == 404
    assert signed_in(colleague).post(reverse(route, args=[view.pk + 1000]), data).status_code == 404
    view.refresh_from_db()
    assert view.name == "Team list"
    refused = AuditEvent.objects.filter(outcome="refused").order_by("id")
    assert [event.detail["status"] for event in refused] == [403, 404, 404, 404]


def test_nobody_without_the_right_to_view_journeys_reaches_the_pages(outsider: User, case_handler: User) -> None:
    view = savedview_create(owner=case_handler, name="Mine", query="")
    client = signed_in(outsider)
    assert client.get(LIST).status_code == 403
    assert client.get(CREATE).status_code == 403
    assert client.post(reverse("savedviews:pin", args=[view.pk])).status_code == 403
    assert Client().get(LIST).status_code == 302


def test_the_save_page_offers_every_team_to_those_who_manage_access(admin: User) -> None:
    team("Approvers")
    team("Operators")
    html = signed_in(admin).get(CREATE, {"query": urlencode({"status": "active"})}).content.decode()
    for name in ("Admins", "Approvers", "Operators"):
        assert f"> {name}</label>" in html or f">{name}</label>" in html


def test_an_htmx_region_makes_no_query_for_the_pinned_views(case_handler: User) -> None:
    make_journey("j1", status="active")
    savedview_create(owner=case_handler, name="Active", query="status=active", pin=True)
    client = signed_in(case_handler)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("journeys:list"), {"status": "active"}, HTTP_HX_REQUEST="true").status_code == 200
    assert not [query for query in captured.captured_queries if "savedviews_" in query["sql"]]
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("journeys:list"), {"status": "active"}).status_code == 200
    assert [query for query in captured.captured_queries if "savedviews_" in query["sql"]], "the layout reads them"


@pytest.mark.parametrize("length, status", [(2000, 200), (2001, 400)])
def test_the_2000_characters_count_without_the_list_forms_empty_inputs(case_handler: User, length: int,
                                                                       status: int) -> None:
    empties = "&".join(f"{name}=" for name in ("q", "workflow", "step", "after", "before", "data", "cols", "sort"))
    response = signed_in(case_handler).get(CREATE, {"query": f"{empties}&{kept_query(length)}"})
    assert response.status_code == status
    html = response.content.decode()
    if status == 200:
        assert f"{kept_query(length).replace('&', '&amp;')}</textarea>" in html
    else:
        assert "at most 2,000 characters" in field_error(html, "query")
        assert "Give the view a name" not in html


def test_a_query_with_more_parameters_than_django_reads_is_a_400_beside_the_query(case_handler: User, settings) -> None:
    # The portal reads 10,100 fields (bulk selections), more than a 2,000-character query holds: a lower limit here.
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 500
    response = signed_in(case_handler).post(CREATE, {"name": "Many", "query": "q=&" * 501})
    assert response.status_code == 400
    assert "far too many parameters" in field_error(response.content.decode(), "query")


def test_a_view_id_past_the_database_range_is_a_404(case_handler: User) -> None:
    client = signed_in(case_handler)
    huge = 10**20
    assert client.get(reverse("savedviews:edit", args=[huge])).status_code == 404
    assert client.post(reverse("savedviews:pin", args=[huge])).status_code == 404
