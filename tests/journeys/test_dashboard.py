"""The dashboard: counts, the 30-day chart and the lists needing attention, all from the mirror and in scope."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.journeys.conftest import journey_queries, make_journey
from tests.personas import WF_INSIDE, WF_OUTSIDE

pytestmark = pytest.mark.django_db
DASHBOARD = reverse("accounts:dashboard")


def count_of(html: str, status: str) -> int:
    found = re.search(rf'href="/journeys/\?status={status}">\s*<span class="stat-count">(\d+)</span>', html)
    return int(found.group(1))


def test_counts_by_status_link_to_the_filtered_list(root_client: Client) -> None:
    now = timezone.now()
    for index in range(3):
        make_journey(f"a{index}", status="active", waiting_since=now, created_at=now)
    make_journey("f1", status="faulted", faulted_at=now, created_at=now)
    html = root_client.get(DASHBOARD).content.decode()
    assert count_of(html, "active") == 3 and count_of(html, "faulted") == 1 and count_of(html, "finished") == 0
    assert "4 journeys in the workflows you can see" in html


def test_the_chart_stacks_the_last_30_days_by_status(root_client: Client) -> None:
    today = timezone.now()
    make_journey("t1", status="finished", created_at=today)
    make_journey("t2", status="faulted", created_at=today)
    make_journey("y1", status="finished", created_at=today - timedelta(days=1))
    make_journey("old", status="finished", created_at=today - timedelta(days=45))
    html = root_client.get(DASHBOARD).content.decode()
    bars = re.findall(r'class="bar status-(\w+)"><title>[^:]+: (\d+) ', html)
    assert sorted(bars) == [("faulted", "1"), ("finished", "1"), ("finished", "1")]
    assert '<svg class="chart"' in html


def test_it_lists_the_journeys_waiting_longest_first_and_recent_faults_and_alerts(root_client: Client) -> None:
    now = timezone.now()
    make_journey("recent", name="Waiting an hour", status="active", waiting_since=now - timedelta(hours=1))
    make_journey("ancient", name="Waiting two days", status="active", waiting_since=now - timedelta(days=2))
    make_journey("broken", name="Broke down", status="faulted", faulted_at=now)
    make_journey("loud", name="Very loud", status="finished", alert_count=2, alert_level=3,
                 alerts=[{"stepId": "s", "severity": "critical", "message": "Fraud suspected"}])
    html = root_client.get(DASHBOARD).content.decode()
    assert html.index("Waiting two days") < html.index("Waiting an hour")
    assert "waiting 2 d" in html
    assert "Broke down" in html
    assert "Fraud suspected" in html and "2 critical" in html


def test_nothing_outside_the_users_scope_is_counted_or_listed(client: Client, case_handler: User) -> None:
    now = timezone.now()
    make_journey("mine", workflow_id=WF_INSIDE, status="faulted", faulted_at=now, name="My fault")
    make_journey("theirs", workflow_id=WF_OUTSIDE, status="faulted", faulted_at=now, name="Their fault")
    client.force_login(case_handler)
    html = client.get(DASHBOARD).content.decode()
    assert count_of(html, "faulted") == 1
    assert "My fault" in html and "Their fault" not in html


def test_a_second_view_is_served_from_the_cache_until_the_mirror_changes(root_client: Client) -> None:
    now = timezone.now()
    make_journey("a1", status="active", waiting_since=now, created_at=now)
    assert journey_queries(root_client, DASHBOARD)
    assert journey_queries(root_client, DASHBOARD) == []

    make_journey("a2", status="active", waiting_since=now, created_at=now)
    assert count_of(root_client.get(DASHBOARD).content.decode(), "active") == 2
