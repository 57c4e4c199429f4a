"""The audit page and its CSV: only for auditors, filtered, paged, scoped, and never showing a secret."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from accounts.models import Action, AuditEvent, Scope
from accounts.services import audit_record
from tests.personas import WF_INSIDE, WF_OUTSIDE, make_user

pytestmark = pytest.mark.django_db

CANARY = "canary-secret-value-5f1e2d"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def event(*, at: datetime, **fields: str) -> AuditEvent:
    defaults = {"actor_username": "approver", "action": "journey.approve", "outcome": "ok"}
    return AuditEvent.objects.create(at=at, **{**defaults, **fields})


def export_rows(client: Client, query: str = "") -> list[dict[str, str]]:
    response = client.get(f"/audit/export.csv{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_the_audit_page_is_refused_to_users_without_the_audit_right(approver, outsider) -> None:
    for user in (approver, outsider):
        client = signed_in(user)
        response = client.get("/audit/")
        assert response.status_code == 403
        assert client.get("/audit/export.csv").status_code == 403
    assert Client().get("/audit/").status_code == 302


def test_filters_narrow_the_page_and_the_csv_to_the_same_rows(admin) -> None:
    day = datetime(2026, 3, 10, 12, tzinfo=UTC)
    event(at=day, journey_id="j-1", workflow_id=WF_INSIDE)
    event(at=day + timedelta(hours=1), journey_id="j-1", workflow_id=WF_INSIDE, action="journey.reject")
    event(at=day + timedelta(days=2), journey_id="j-2", workflow_id=WF_INSIDE, outcome="failed", trace_id="t-9")
    event(at=day, actor_username="operator", action="journey.launch", workflow_id=WF_OUTSIDE, journey_id="j-3")
    client = signed_in(admin)

    page = client.get("/audit/", {"action": "journey.", "actor": "approv", "since": "2026-03-10",
                                  "until": "2026-03-10"}).content.decode()
    assert page.count("<tr class=\"outcome-") == 2 and "<strong>2</strong> events" in page
    rows = export_rows(client, "?action=journey.&actor=approv&since=2026-03-10&until=2026-03-10")
    assert [(row["action"], row["journey_id"]) for row in rows] == [
        ("journey.reject", "j-1"), ("journey.approve", "j-1"),
    ]
    assert rows[0]["at_utc"] == "2026-03-10T13:00:00+00:00"

    failed = export_rows(client, "?outcome=failed")
    assert [(row["journey_id"], row["trace_id"]) for row in failed] == [("j-2", "t-9")]
    assert [row["journey_id"] for row in export_rows(client, f"?workflow={WF_OUTSIDE}")] == ["j-3"]
    assert [row["action"] for row in export_rows(client, "?journey=j-1")] == ["journey.reject", "journey.approve"]


def test_an_invalid_filter_is_shown_in_place_and_matches_nothing(admin) -> None:
    event(at=datetime(2026, 3, 10, tzinfo=UTC))
    client = signed_in(admin)
    page = client.get("/audit/", {"since": "2026-03-11", "until": "2026-03-10"}).content.decode()
    assert "The end date is before the start date." in page and "<strong>0</strong> events" in page
    assert client.get("/audit/export.csv", {"since": "not a date"}).status_code == 400


def test_the_page_is_paged_and_htmx_gets_only_the_table(admin) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for minute in range(60):
        event(at=start + timedelta(minutes=minute), journey_id=f"j-{minute:02d}")
    client = signed_in(admin)

    first = client.get("/audit/").content.decode()
    assert "Page 1 of 2" in first and "j-59" in first and "j-09" not in first
    second = client.get("/audit/", {"page": "2"}, headers={"HX-Request": "true"}).content.decode()
    assert second.lstrip().startswith('<section id="audit-table"') and "<html" not in second
    assert "j-09" in second and "j-59" not in second


def test_an_auditor_of_some_workflows_sees_only_their_events_and_no_global_ones(scoped_workflows) -> None:
    auditors = Group.objects.create(name="Onboarding auditors")
    Scope.objects.create(team=auditors, name="Onboarding", workflow_tags=["onboarding"],
                         actions=[Action.VIEW, Action.AUDIT])
    auditor = make_user("auditor")
    auditor.groups.add(auditors)
    at = datetime(2026, 3, 10, tzinfo=UTC)
    event(at=at, workflow_id=WF_INSIDE, journey_id="inside-journey")
    event(at=at, workflow_id=WF_OUTSIDE, journey_id="outside-journey")
    event(at=at, action="access.team.update", summary="Changed team Admins")
    client = signed_in(auditor)

    page = client.get("/audit/").content.decode()
    assert "inside-journey" in page
    assert "outside-journey" not in page and "Changed team Admins" not in page
    assert [row["journey_id"] for row in export_rows(client)] == ["inside-journey"]
    assert client.get("/admin/accounts/auditevent/").status_code == 302


def test_a_secret_value_reaches_no_audit_event_page_csv_or_log(admin, caplog) -> None:
    audit_record(actor=admin, action="secret.update", workflow_id=WF_INSIDE, summary="Updated secret api-key",
                 detail={"name": "api-key", "value": CANARY, "nested": [{"client_secret": CANARY}]})
    client = signed_in(admin)

    stored = AuditEvent.objects.get()
    assert CANARY not in str(stored.detail) and stored.detail["value"] == "[redacted]"
    assert CANARY not in client.get("/audit/").content.decode()
    assert all(CANARY not in str(row) for row in export_rows(client))
    assert CANARY not in caplog.text


def test_a_cell_that_a_spreadsheet_would_run_as_a_formula_is_quoted(admin) -> None:
    event(at=datetime(2026, 3, 10, tzinfo=UTC), summary="=HYPERLINK(\"http://evil\")")
    assert export_rows(signed_in(admin))[0]["summary"].startswith("'=")
