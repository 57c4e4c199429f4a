"""Launching one journey: recorded first, started by a real Celery worker against the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from journeys.models import Journey
from launches import tasks
from launches.models import Launch, LaunchStatus
from launches.services import launch_create, launch_requeue_stale, launch_start
from tests.celery_worker import wait_for


def final_launch(launch_id) -> Launch:
    def done() -> Launch | None:
        launch = Launch.objects.get(pk=launch_id)
        return launch if launch.is_final else None

    return wait_for(done, timeout=30, message=f"launch {launch_id} to finish")


@pytest.mark.django_db(transaction=True)
def test_an_operator_launches_a_journey_and_sees_its_url_and_qr_code(
    client, operator, launch_workflow, celery_worker, sandbox
):
    client.force_login(operator)
    page = client.get(reverse("launches:new", args=[launch_workflow.id]))
    assert page.status_code == 200
    assert b"email" in page.content and b"fullName" in page.content

    response = client.post(reverse("launches:new", args=[launch_workflow.id]), {
        "key": page.context["form"]["key"].value(), "p0": "ada@example.com", "p1": "Ada Lovelace",
        "journey_url_ttl": "3600",
    })

    launch = Launch.objects.get()
    assert response.status_code == 302 and response.url == reverse("launches:detail", args=[launch.id])
    launch = final_launch(launch.id)
    assert launch.status == LaunchStatus.STARTED
    assert launch.input == {"email": "ada@example.com", "fullName": "Ada Lovelace"}
    assert sandbox.count("startJourney") == 1
    # The worker writes the journey's mirror row right after recording the launch as started.
    mirrored = wait_for(lambda: Journey.objects.filter(pk=launch.journey_id).first(), message="the mirror row")
    assert mirrored.status == "active" and mirrored.workflow_id == launch_workflow.id
    detail = client.get(response.url).content.decode()
    assert launch.journey_url in detail
    assert 'alt="QR code of the journey URL"' in detail
    assert reverse("journeys:detail", args=[launch.journey_id]) in detail


@pytest.mark.django_db
def test_a_double_submitted_form_records_one_launch(client, operator, launch_workflow, settings):
    client.force_login(operator)
    form = {"key": "same-key-twice", "p0": "a@example.com", "p1": "A", "journey_url_ttl": "60"}

    first = client.post(reverse("launches:new", args=[launch_workflow.id]), form)
    second = client.post(reverse("launches:new", args=[launch_workflow.id]), form)

    assert first.url == second.url
    assert Launch.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_task_delivered_twice_starts_one_journey(operator, launch_workflow, celery_worker, sandbox):
    launch = launch_create(workflow_id=launch_workflow.id, input={"email": "b@example.com", "fullName": "B"},
                           journey_url_ttl=60, actor=operator)
    # The launch's own task was queued on commit; two more deliveries of it follow (one solo worker, FIFO).
    repeats = [tasks.launch_start_task.delay(str(launch.id)) for _ in range(2)]

    wait_for(lambda: all(f"[{r.id}] succeeded" in celery_worker.log_tail(200) for r in repeats),
             message="the repeated deliveries to be processed")
    assert Launch.objects.get(pk=launch.id).status == LaunchStatus.STARTED
    assert sandbox.count("startJourney") == 1


@pytest.mark.django_db(transaction=True)
def test_an_ambiguous_answer_from_mint_marks_the_launch_for_review(operator, launch_workflow, celery_worker, sandbox):
    sandbox.add_fault(path=rf"^/mint/workflows/{launch_workflow.id}/journeys$", method="POST", status=500)

    launch = launch_create(workflow_id=launch_workflow.id, input={"email": "c@example.com", "fullName": "C"},
                           journey_url_ttl=60, actor=operator)

    launch = final_launch(launch.id)
    assert launch.status == LaunchStatus.NEEDS_REVIEW
    assert launch.attempts == 1
    assert sandbox.count("startJourney") == 1


@pytest.mark.django_db(transaction=True)
def test_a_refusal_from_mint_fails_the_launch_with_the_reason(operator, launch_workflow, celery_worker, sandbox):
    sandbox.add_fault(path=rf"^/mint/workflows/{launch_workflow.id}/journeys$", method="POST", status=403)

    launch = launch_create(workflow_id=launch_workflow.id, input={"email": "d@example.com", "fullName": "D"},
                           journey_url_ttl=60, actor=operator)

    launch = final_launch(launch.id)
    assert launch.status == LaunchStatus.FAILED
    assert launch.error


@pytest.mark.django_db
def test_the_status_region_stops_polling_once_the_launch_is_final(client, operator, launch_workflow):
    client.force_login(operator)
    launch = Launch.objects.create(
        key="k1", workflow_id=launch_workflow.id, input={}, journey_url_ttl=60, created_by=operator,
        created_at="2026-01-01T00:00:00Z",
    )
    url = reverse("launches:detail", args=[launch.id])

    pending = client.get(url, headers={"HX-Request": "true", "HX-Target": "launch-status"}).content.decode()
    Launch.objects.filter(pk=launch.pk).update(status=LaunchStatus.FAILED, error="Refused")
    final = client.get(url, headers={"HX-Request": "true", "HX-Target": "launch-status"}).content.decode()

    assert 'hx-trigger="every' in pending and "<html" not in pending
    assert 'hx-trigger' not in final and "Refused" in final


@pytest.mark.django_db
def test_a_case_handler_may_not_launch_and_an_outsider_does_not_see_the_workflow(
    client, case_handler, outsider, launch_workflow
):
    client.force_login(case_handler)
    assert client.get(reverse("launches:new", args=[launch_workflow.id])).status_code == 403
    client.force_login(outsider)
    assert client.get(reverse("launches:new", args=[launch_workflow.id])).status_code == 404


def _old_launch(operator, workflow_id: str, *, key: str, status: str, **fields) -> Launch:
    old = timezone.now() - timedelta(minutes=10)
    return Launch.objects.create(key=key, workflow_id=workflow_id, input={"email": "e@example.com", "fullName": "E"},
                                 journey_url_ttl=60, created_by=operator, created_at=old, status=status, **fields)


@pytest.mark.django_db
def test_a_redelivered_task_whose_worker_died_mid_call_flags_the_launch_instead_of_starting_again(
    operator, launch_workflow, sandbox
):
    launch = _old_launch(operator, launch_workflow.id, key="dead-worker", status=LaunchStatus.STARTING,
                         claimed_at=timezone.now() - timedelta(minutes=10), attempts=1)

    result = launch_start(launch_id=launch.id)

    assert result.status == LaunchStatus.NEEDS_REVIEW
    assert "before recording Mint's answer" in result.error
    assert sandbox.count("startJourney") == 0


@pytest.mark.django_db
def test_a_task_arriving_while_another_worker_is_starting_the_launch_does_nothing(operator, launch_workflow, sandbox):
    launch = _old_launch(operator, launch_workflow.id, key="busy", status=LaunchStatus.STARTING,
                         claimed_at=timezone.now(), attempts=1)

    assert launch_start(launch_id=launch.id).status == LaunchStatus.STARTING
    assert sandbox.count("startJourney") == 0


@pytest.mark.django_db
def test_the_periodic_requeue_recovers_lost_tasks_and_abandoned_claims(operator, launch_workflow, sandbox):
    abandoned = _old_launch(operator, launch_workflow.id, key="abandoned", status=LaunchStatus.STARTING,
                            claimed_at=timezone.now() - timedelta(minutes=10), attempts=1)
    lost = _old_launch(operator, launch_workflow.id, key="lost", status=LaunchStatus.PENDING)
    recent = Launch.objects.create(key="recent", workflow_id=launch_workflow.id, input={}, journey_url_ttl=60,
                                   created_by=operator, created_at=timezone.now())

    acted = launch_requeue_stale()

    assert acted == 2
    assert Launch.objects.get(pk=abandoned.pk).status == LaunchStatus.NEEDS_REVIEW
    assert Launch.objects.get(pk=lost.pk).status == LaunchStatus.PENDING
    assert Launch.objects.get(pk=recent.pk).status == LaunchStatus.PENDING
