"""The journeys list: read from the mirror, filtered and sorted by the URL, refreshed by htmx, exported as CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys.models import Journey
from tests.journeys.conftest import BASE_TIME, journey_queries, make_journey, make_journeys
from tests.personas import WF_INSIDE, WF_OUTSIDE

pytestmark = pytest.mark.django_db

LIST = reverse("journeys:list")
EXPORT = reverse("journeys:export")
HTMX = {"HTTP_HX_REQUEST": "true"}


def row_ids(html: str) -> list[str]:
    return re.findall(r'class="name-cell"><a href="/journeys/([^"/]+)"', html)


def csv_rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_it_sends_strangers_to_the_sign_in_page(client: Client) -> None:
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_renders_the_whole_page_without_htmx(root_client: Client) -> None:
    make_journey("j1")
    response = root_client.get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and 'id="journey-filters"' in html and 'id="journey-table"' in html
    assert row_ids(html) == ["j1"]


def test_it_renders_only_the_table_region_for_htmx(root_client: Client) -> None:
    make_journey("j1")
    response = root_client.get(LIST, **HTMX)
    html = response.content.decode().strip()
    assert response.status_code == 200
    assert html.startswith('<section id="journey-table"')
    assert "<html" not in html and 'id="journey-filters"' not in html
    assert "HX-Request" in response["Vary"]


def test_it_filters_by_status_workflow_and_search_from_the_url(root_client: Client) -> None:
    make_journey("a1", status="active", name="Anna Andersen")
    make_journey("a2", status="active", name="Bo Berg", workflow_id="wf-contracts", workflow_name="Contracts")
    make_journey("f1", status="finished", name="Anna Olsen")
    assert row_ids(root_client.get(LIST, {"status": "active"}).content.decode()) == ["a1", "a2"] or \
        sorted(row_ids(root_client.get(LIST, {"status": "active"}).content.decode())) == ["a1", "a2"]
    assert row_ids(root_client.get(LIST, {"status": "active", "workflow": "wf-contracts"}).content.decode()) == ["a2"]
    assert sorted(row_ids(root_client.get(LIST, {"q": "anna"}).content.decode())) == ["a1", "f1"]
    assert row_ids(root_client.get(LIST, {"q": "f1"}).content.decode()) == ["f1"]


def test_it_filters_by_last_activity_window(root_client: Client) -> None:
    make_journeys(5)
    after = (BASE_TIME + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    before = (BASE_TIME + timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M")
    html = root_client.get(LIST, {"after": after, "before": before, "sort": "last"}).content.decode()
    assert row_ids(html) == ["j0002", "j0003"]


@pytest.mark.parametrize("params, message", [
    ({"status": "sleeping"}, "Select a valid choice"),
    ({"workflow": "no-such-workflow"}, "Select a valid choice"),
    ({"after": "yesterday-ish"}, "Enter a valid date/time"),
    ({"after": "2026-03-02T08:30", "before": "2026-03-02T08:00"}, "Must be later than"),
    ({"page": "-3"}, "greater than or equal to 1"),
    ({"sort": "password"}, "Select a valid choice"),
    ({"q": "x" * 101}, "at most 100 characters"),
])
def test_it_shows_a_bad_filter_as_an_error_and_lists_anyway(root_client: Client, params: dict, message: str) -> None:
    make_journey("j1")
    response = root_client.get(LIST, params)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Some filters were not applied" in html and message in html
    assert "j1" in row_ids(html)


@pytest.mark.parametrize("sort, column", [
    ("name", "name"), ("workflow", "workflow_name"), ("status", "status"), ("waiting", "waiting_since"),
    ("last", "last_executed_at"), ("alerts", "alert_level"), ("created", "created_at"),
])
def test_it_sorts_by_every_column_both_ways(root_client: Client, sort: str, column: str) -> None:
    make_journey("x1", name="Cecilie", workflow_name="B", status="finished", alert_level=2, alert_count=1,
                 waiting_since=BASE_TIME + timedelta(hours=2), last_executed_at=BASE_TIME + timedelta(hours=1),
                 created_at=BASE_TIME + timedelta(hours=3))
    make_journey("x2", name="Arne", workflow_name="C", status="active", alert_level=3, alert_count=1,
                 waiting_since=BASE_TIME + timedelta(hours=1), last_executed_at=BASE_TIME + timedelta(hours=3),
                 created_at=BASE_TIME + timedelta(hours=1))
    make_journey("x3", name="Bente", workflow_name="A", status="cancelled", alert_level=0,
                 waiting_since=BASE_TIME + timedelta(hours=3), last_executed_at=BASE_TIME + timedelta(hours=2),
                 created_at=BASE_TIME + timedelta(hours=2))
    from journeys.models import Journey

    expected = list(Journey.objects.order_by(column, "id").values_list("id", flat=True))
    assert row_ids(root_client.get(LIST, {"sort": sort}).content.decode()) == expected
    assert row_ids(root_client.get(LIST, {"sort": f"-{sort}"}).content.decode()) == expected[::-1]


def test_it_pages_through_the_list_keeping_the_filters(root_client: Client) -> None:
    make_journeys(30, status="active", waiting_since=BASE_TIME)
    make_journey("other", status="finished")
    first = root_client.get(LIST, {"status": "active", "sort": "last"}).content.decode()
    assert len(row_ids(first)) == 25
    assert "Page 1 of 2" in first
    assert 'href="?status=active&amp;sort=last&amp;page=2"' in first
    second = root_client.get(LIST, {"status": "active", "sort": "last", "page": 2}).content.decode()
    assert row_ids(second) == [f"j{index:04d}" for index in range(25, 30)]


def test_it_hides_journeys_outside_the_users_scope(client: Client, case_handler: User) -> None:
    make_journey("mine", workflow_id=WF_INSIDE)
    make_journey("theirs", workflow_id=WF_OUTSIDE, name="Secret batch")
    client.force_login(case_handler)
    html = client.get(LIST).content.decode()
    assert row_ids(html) == ["mine"]
    assert "Secret batch" not in html
    # The workflow filter offers only workflows in scope, so an outside id is refused, not honoured.
    assert "Select a valid choice" in client.get(LIST, {"workflow": WF_OUTSIDE}).content.decode()


def test_it_escapes_a_journey_name_that_looks_like_html(root_client: Client) -> None:
    make_journey("x", name="<script>alert(1)</script>")
    html = root_client.get(LIST).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_it_sends_a_content_security_policy_with_a_nonce(root_client: Client) -> None:
    response = root_client.get(LIST)
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "script-src 'self' 'nonce-" in policy
    assert f'nonce="{nonce}"' in response.content.decode()


def test_the_table_polls_only_while_a_visible_row_can_change(root_client: Client) -> None:
    make_journey("done", status="finished")
    assert 'hx-trigger="every 10s"' not in root_client.get(LIST, **HTMX).content.decode()
    make_journey("busy", status="running")
    assert 'hx-trigger="every 10s"' in root_client.get(LIST, **HTMX).content.decode()
    assert 'hx-trigger="every 10s"' not in root_client.get(LIST, {"status": "finished"}, **HTMX).content.decode()


def test_the_csv_export_holds_exactly_the_filtered_rows_in_order(root_client: Client) -> None:
    make_journeys(40, status="active", waiting_since=BASE_TIME)
    make_journeys(3, prefix="f", status="finished")
    params = {"status": "active", "sort": "-last", "per_page": 25, "page": 2}
    response = root_client.get(EXPORT, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    rows = csv_rows(response)
    # Every matching row, not just the page on screen, in the list's order.
    assert [row["id"] for row in rows] == [f"j{index:04d}" for index in range(39, -1, -1)]
    assert set(rows[0]) >= {"name", "workflow_name", "status", "waiting_since", "last_executed_at", "alert_count"}


def test_the_csv_export_neutralises_spreadsheet_formulas(root_client: Client) -> None:
    make_journey("evil", name="=HYPERLINK(\"http://x\")")
    assert csv_rows(root_client.get(EXPORT))[0]["name"] == "'=HYPERLINK(\"http://x\")"


def test_the_csv_export_refuses_invalid_filters(root_client: Client) -> None:
    response = root_client.get(EXPORT, {"status": "sleeping"})
    assert response.status_code == 400
    assert b"Invalid filters" in response.content


def test_the_csv_export_leaves_out_journeys_outside_the_scope(client: Client, case_handler: User) -> None:
    make_journey("mine", workflow_id=WF_INSIDE)
    make_journey("theirs", workflow_id=WF_OUTSIDE)
    client.force_login(case_handler)
    assert [row["id"] for row in csv_rows(client.get(EXPORT))] == ["mine"]


# --- the cached screen ------------------------------------------------------------------------------


def test_a_second_view_of_the_same_list_does_not_query_the_mirror(root_client: Client) -> None:
    make_journeys(3, status="active", waiting_since=BASE_TIME)
    assert journey_queries(root_client, LIST, {"status": "active"})
    assert journey_queries(root_client, LIST, {"status": "active"}) == []
    assert journey_queries(root_client, LIST, {"status": "active"}, **HTMX) != [], "the region is its own entry"
    assert journey_queries(root_client, LIST, {"status": "active"}, **HTMX) == []
    assert journey_queries(root_client, LIST, {"status": "finished"}), "another query is another entry"


def test_a_mirror_write_through_the_services_shows_at_once(root_client: Client) -> None:
    from journeys.services.mirror import journey_mirror_upsert
    from mintportal.mint import models

    make_journey("j1", status="active", name="Before")
    assert "Before" in root_client.get(LIST).content.decode()
    journey_mirror_upsert(summaries=[models.JourneySummary.model_validate({
        "id": "j1", "workflowId": "wf-onboarding", "workflowName": "Onboarding", "version": 1,
        "status": "finished", "name": "After", "createdAt": BASE_TIME.isoformat(),
        "lastExecutedAt": BASE_TIME.isoformat(), "pendingSteps": False, "alerts": [],
    })], seen_at=BASE_TIME)

    html = root_client.get(LIST).content.decode()
    assert "After" in html and "Before" not in html


def test_users_share_a_cached_list_only_within_one_scope_and_never_their_page(
    client: Client, case_handler: User
) -> None:
    make_journey("mine", workflow_id=WF_INSIDE)
    make_journey("theirs", workflow_id=WF_OUTSIDE)
    other_root = User.objects.create_superuser("root2", "root2@example.com", "mintdemo")
    first_root = User.objects.create_superuser("root1", "root1@example.com", "mintdemo")
    client.force_login(first_root)
    assert set(row_ids(client.get(LIST).content.decode())) == {"mine", "theirs"}

    client.force_login(case_handler)
    assert row_ids(client.get(LIST).content.decode()) == ["mine"]

    second = Client()
    second.force_login(other_root)
    with_cache = second.get(LIST)
    html = with_cache.content.decode()
    assert set(row_ids(html)) == {"mine", "theirs"}
    # The layout is the viewer's own, with their own CSP nonce.
    assert '<span class="username">root2</span>' in html and "root1" not in html
    nonce = re.search(r"'nonce-([^']+)'", with_cache["Content-Security-Policy"]).group(1)
    assert f'nonce="{nonce}"' in html


# --- business data, current step, hooks for saved views and bulk actions ----------------------------------------


def data_of(customer: str, score: int | None = None) -> dict:
    steps = {"risk": {"score": score}} if score is not None else {}
    return {"input": {"customerNumber": customer}, "steps": steps}


def test_it_finds_a_journey_by_its_customer_number_with_the_other_filters(root_client: Client) -> None:
    make_journey("c8", status="active", data=data_of("C-100508", 90))
    make_journey("c9", status="active", data=data_of("C-100509", 40))
    make_journey("c8done", status="finished", data=data_of("C-100508", 95))

    assert sorted(row_ids(root_client.get(LIST, {"data": "customerNumber = C-100508"}).content.decode())) == \
        ["c8", "c8done"]
    assert row_ids(root_client.get(LIST, {"data": "customerNumber = C-100508", "status": "active"})
                   .content.decode()) == ["c8"]
    both = root_client.get(LIST, {"data": ["risk.score > 80", "customerNumber ~ c-1005"], "status": "finished"})
    assert row_ids(both.content.decode()) == ["c8done"]


def test_the_data_filters_stay_in_the_form_with_one_more_empty_input(root_client: Client) -> None:
    html = root_client.get(LIST, {"data": ["risk.score > 80", "customerNumber exists"]}).content.decode()
    inputs = re.findall(r'<input type="text" name="data" id="id_data_(\d)" value="([^"]*)"', html)
    assert inputs == [("1", "risk.score &gt; 80"), ("2", "customerNumber exists"), ("3", "")]
    assert '<label class="visually-hidden" for="id_data_3">Data filter 3</label>' in html


@pytest.mark.parametrize("line, message", [
    ("risk.score >= 80", "Unknown operator “&gt;=”"),
    ("risk.score > abc", "neither a number nor an ISO date"),
    ("s." + "k" * 998 + " = 1", "at most 200 characters (this one has 1000)"),
])
def test_a_malformed_data_filter_gets_a_message_beside_the_field_not_an_error_page(
    root_client: Client, line: str, message: str
) -> None:
    make_journey("j1", data=data_of("C-1"))
    response = root_client.get(LIST, {"data": line})
    html = response.content.decode()
    assert response.status_code == 200
    beside = html[html.index('id="data-filters"'):html.index("</fieldset>")]
    assert message in beside and 'aria-invalid="true"' in beside
    # The refused condition is not dropped (which would list every journey): nothing is listed until it is fixed.
    assert "Some filters were not applied" in html and row_ids(html) == []
    assert "Fix the data filter to see results." in html
    assert response.context["filters_invalid"] is True
    assert root_client.get(EXPORT, {"data": line}).status_code == 400


def test_an_invalid_data_filter_lists_nothing_and_offers_no_act_on_all(root_client: Client) -> None:
    make_journey("c8", data=data_of("C-100508", 90))
    make_journey("c9", data=data_of("C-100509", 40))
    valid = root_client.get(LIST, {"data": "risk.score > 10"})
    assert sorted(row_ids(valid.content.decode())) == ["c8", "c9"] and "Act on all" in valid.content.decode()
    assert valid.context["filters_invalid"] is False

    # One bad line among good ones still empties the list: the good ones alone would list more than was asked.
    invalid = root_client.get(LIST, {"data": ["customerNumber = C-100508", "risk.score > abc"], "status": "active"},
                              HTTP_HX_REQUEST="true")
    html = invalid.content.decode()
    assert invalid.status_code == 200 and row_ids(html) == [] and "Act on all" not in html
    assert invalid.context["filters_invalid"] is True
    # An invalid field other than the data filters is still left out (the list shows the rest).
    assert sorted(row_ids(root_client.get(LIST, {"status": "nonsense"}).content.decode())) == ["c8", "c9"]


def test_six_data_filters_are_refused_and_five_are_taken(root_client: Client) -> None:
    make_journey("j1", data=data_of("C-1", 5))
    five = ["customerNumber exists"] * 5
    assert "Some filters were not applied" not in root_client.get(LIST, {"data": five}).content.decode()
    html = root_client.get(LIST, {"data": [*five, "risk.score > 1"]}).content.decode()
    assert "At most 5 data filters at once (got 6)." in html


def test_data_columns_show_the_values_and_the_export_carries_them(root_client: Client) -> None:
    make_journey("c8", data=data_of("C-100508", 90))
    make_journey("none", data={})
    html = root_client.get(LIST, {"cols": "customerNumber, risk.score", "sort": "name"}).content.decode()
    assert '<th scope="col" class="data-col">customerNumber</th>' in html
    assert '<td class="data-col">C-100508</td><td class="data-col">90</td>' in html

    rows = csv_rows(root_client.get(EXPORT, {"cols": "customerNumber,risk.score", "data": "risk.score > 80"}))
    assert [(row["id"], row["customerNumber"], row["risk.score"]) for row in rows] == [("c8", "C-100508", "90")]


def test_six_data_columns_are_refused(root_client: Client) -> None:
    make_journey("j1")
    html = root_client.get(LIST, {"cols": "a,b,c,d,e"}).content.decode()
    assert "Some filters were not applied" not in html
    assert "At most 5 data columns (got 6)." in root_client.get(LIST, {"cols": "a,b,c,d,e,f"}).content.decode()


def test_a_data_filter_never_reaches_journeys_outside_the_scope(client: Client, case_handler: User) -> None:
    make_journey("mine", workflow_id=WF_INSIDE, data=data_of("C-1"))
    make_journey("theirs", workflow_id=WF_OUTSIDE, data=data_of("C-1"))
    client.force_login(case_handler)

    html = client.get(LIST, {"data": "customerNumber = C-1", "cols": "customerNumber"}).content.decode()

    assert row_ids(html) == ["mine"] and "<strong>1</strong> journey<" in html
    assert [row["id"] for row in csv_rows(client.get(EXPORT, {"data": "customerNumber = C-1"}))] == ["mine"]


def test_the_current_step_column_and_the_step_filter(root_client: Client) -> None:
    from journeys.models import StepVisit, WaitingStep

    waiting = make_journey("w1", status="active", pending_steps=True)
    WaitingStep.objects.create(journey=waiting, step_id="verify", step_type="suspend")
    elsewhere = make_journey("w2", status="active", pending_steps=True)
    WaitingStep.objects.create(journey=elsewhere, step_id="approval", step_type="require-approval")
    # Faulted journeys as a workflow leaves them: a trigger-alert step raises the alert, the next step faults, and
    # the execution log (StepVisit, from the step-history job) says which step that was.
    for journey_id, alert_step, fault_step in [("f1", "flag-verify", "verify"), ("f2", "flag-login", "login")]:
        make_journey(journey_id, status="faulted",
                     alerts=[{"stepId": alert_step, "severity": "critical", "message": "m"}])
        StepVisit.objects.bulk_create([
            StepVisit(journey_id=journey_id, workflow_id=WF_INSIDE, step_id=alert_step, position=0),
            StepVisit(journey_id=journey_id, workflow_id=WF_INSIDE, step_id=fault_step, position=1, faulted=True)])
    # Faulted, its log not read yet: at no step.
    make_journey("f3", status="faulted", alerts=[{"stepId": "flag-verify", "severity": "critical", "message": "m"}])

    html = root_client.get(LIST, {"sort": "name"}).content.decode()
    assert f'?workflow={WF_INSIDE}&amp;step=verify" title="Journeys of this workflow waiting at “verify”">verify' \
        in html
    assert f'?workflow={WF_INSIDE}&amp;status=faulted&amp;step=login"' in html
    assert "step=flag-" not in html
    assert row_ids(root_client.get(LIST, {"step": "verify"}).content.decode()) == ["w1"]
    assert row_ids(root_client.get(LIST, {"step": "verify", "status": "faulted"}).content.decode()) == ["f1"]
    assert row_ids(root_client.get(LIST, {"step": "flag-verify", "status": "faulted"}).content.decode()) == []
    assert row_ids(root_client.get(LIST, {"step": "nowhere"}).content.decode()) == []


def test_the_list_links_its_query_to_save_view_and_bulk_actions(root_client: Client) -> None:
    from django.urls import NoReverseMatch

    make_journey("j1", status="active", data=data_of("C-1"))
    html = root_client.get(LIST, {"status": "active", "data": "customerNumber exists", "page": "1"}).content.decode()

    assert f'href="{reverse("savedviews:create")}?query=status%3Dactive%26data%3DcustomerNumber%2Bexists"' in html
    try:
        bulk = reverse("bulk:new")
    except NoReverseMatch:
        pytest.skip("the bulk app has no 'new' page yet")
    assert f'<form id="bulk-select" method="post" action="{bulk}">' in html
    assert ('<input type="checkbox" class="inbox-select" name="journey" value="j1" form="bulk-select" data-select '
            'id="select-1">') in html
    assert f'href="{bulk}?all=1&amp;status=active&amp;data=customerNumber+exists">Act on all 1 matching' in html


def test_past_the_exact_count_limit_the_list_says_its_count_is_an_estimate(
    root_client: Client, postgresql: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection

    from journeys import selectors

    make_journeys(4)
    monkeypatch.setattr(selectors, "EXACT_COUNT_LIMIT", 4)
    assert "<strong>4</strong> journeys" in root_client.get(LIST, {"per_page": 25}).content.decode()
    make_journeys(10, prefix="more")
    # A first page that is not full holds every match: its length is the count, exact past the limit too.
    assert "<strong>14</strong> journeys<" in root_client.get(LIST, {"per_page": 25}).content.decode()

    make_journeys(20, prefix="most")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE journeys_journey")
    html = root_client.get(LIST, {"per_page": 25}).content.decode()
    assert re.search(r"<strong>about \d+,?\d*</strong> journeys <span class=\"muted\">\(estimated", html)


def test_an_estimated_count_is_said_in_words() -> None:
    from journeys.selectors import count_words

    assert count_words(1204, estimated=False) == "1,204"
    assert count_words(123_456, estimated=True) == "about 123,000"
    assert count_words(1_234_567, estimated=True) == "about 1.2 million"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.text(max_size=60) | st.sampled_from(["a.b > 1e400", "a exists x", "x.y < 2026-02-30",
                                                              "k = \x00", "a..b = 1", "é.ü ~ ß", '"q" = "']),
                      max_size=7),
       cols=st.text(max_size=60))
def test_any_data_filter_or_column_text_gets_a_page_or_a_message_never_a_server_error(
    root_client: Client, lines: list[str], cols: str
) -> None:
    if not Journey.objects.filter(pk="j1").exists():
        make_journey("j1", data=data_of("C-1", 5))
    response = root_client.get(LIST, {"data": lines, "cols": cols})
    assert response.status_code == 200
    assert root_client.get(EXPORT, {"data": lines, "cols": cols}).status_code in (200, 400)
