"""Every Mint operation round-trips against the sandbox process, with every field of the reference checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from mintportal.mint import MintClient, models
from tests.mint_parts import chain, step, unique


def recent(value: datetime | None) -> bool:
    """An aware date-time within a few minutes of now (the sandbox runs on this machine's clock)."""
    return value is not None and value.tzinfo is not None and abs(datetime.now(UTC) - value) < timedelta(minutes=5)


@pytest.fixture
def case_workflow(client: MintClient) -> models.WorkflowDefinition:
    """Names the journey, raises an alert, mails each item, writes a document, then waits to be resumed
    and approved: one journey of it fills every field of a journey's detail."""
    workflow = client.create_workflow(models.WorkflowInput(
        name=unique("Case"),
        steps=[
            step("name", "set-name", template="Case {{ input.case }}"),
            step("warn", "trigger-alert", severity="warning", message="Check {{ input.case }}"),
            step("each", "for-each", items="{{ input.items }}"),
            step("mail", "send-email", to="{{ loop.item }}", subject="Hello"),
            step("doc", "generate-document", filename="summary-{{ input.case }}.txt", content="Case {{ input.case }}"),
            step("hold", "suspend"),
            step("check", "require-approval"),
            step("end", "finish"),
            step("stop", "fault", message="Rejected"),
        ],
        connections=[
            *chain("name", "warn", "each"),
            models.WorkflowStepConnection(source_step_id="each", target_step_id="mail", outcome="Iterate"),
            models.WorkflowStepConnection(source_step_id="each", target_step_id="doc", outcome="Done"),
            *chain("doc", "hold", "check"),
            models.WorkflowStepConnection(source_step_id="check", target_step_id="end", outcome="Approved"),
            models.WorkflowStepConnection(source_step_id="check", target_step_id="stop", outcome="Rejected"),
        ],
        input_parameters=[models.WorkflowInputParameter(name="case"), models.WorkflowInputParameter(name="items")],
    ))
    client.publish_workflow_version(workflow.id, workflow.version)
    return workflow


def test_step_types_list_every_type_of_the_design_with_all_fields(client: MintClient) -> None:
    step_types = {step_type.type: step_type for step_type in client.list_step_types()}

    assert set(step_types) >= {"form", "eid-login", "set-name", "if-else", "for-each", "trigger-alert", "waiting",
                               "suspend", "require-approval", "generate-document", "send-email", "fault", "finish"}
    form = step_types["form"]
    assert (form.display_name, form.category, form.outcomes, form.interactive, form.deprecated) == (
        "Form", "Signicat", ["Done"], True, False)
    assert form.description and isinstance(form.required_permissions, list)
    assert step_types["require-approval"].outcomes == ["Approved", "Rejected"]
    assert step_types["for-each"].category == "Control flow"
    assert step_types["eid-login"].interactive and not step_types["suspend"].interactive


def test_a_workflow_round_trips_with_every_field(client: MintClient) -> None:
    sent = models.WorkflowInput(
        name=unique("Onboarding"),
        description="Collects details, then ends.",
        steps=[
            models.WorkflowStep(id="details", type="form", name="details", display_name="Your details",
                                description="Asks for a name",
                                properties={"fields": [{"name": "fullName", "label": "Full name", "type": "text",
                                                        "required": True}]}),
            models.WorkflowStep(id="end", type="finish"),
        ],
        connections=[models.WorkflowStepConnection(source_step_id="details", target_step_id="end", outcome="Done")],
        variables={"team": "onboarding", "limit": 3},
        tags=["kyc", "tests"],
        input_parameters=[models.WorkflowInputParameter(name="email")],
    )

    created = client.create_workflow(sent)
    fetched = client.get_workflow(created.id)

    for workflow in (created, fetched):
        assert workflow.id and workflow.version == 1 and workflow.is_latest
        assert (workflow.name, workflow.description, workflow.variables, workflow.tags) == (
            sent.name, sent.description, sent.variables, sent.tags)
        assert workflow.steps == sent.steps
        assert workflow.connections == sent.connections
        assert workflow.input_parameters == sent.input_parameters
        assert workflow.files == []
        assert recent(workflow.created_at)
        assert workflow.domain is None or isinstance(workflow.domain, str)
        assert workflow.workflow_url is None or isinstance(workflow.workflow_url, str)
    assert fetched == created


def test_updating_a_workflow_adds_a_version_and_versions_list_and_publish(client: MintClient) -> None:
    created = client.create_workflow(models.WorkflowInput(name=unique("Versioned"), steps=[step("end", "finish")]))
    edit = models.WorkflowInput.from_workflow(created).model_copy(update={"description": "second"})

    updated = client.update_workflow(created.id, edit)
    published = client.publish_workflow_version(created.id, 1)
    versions = client.list_workflow_versions(created.id)

    assert (updated.id, updated.version, updated.description, updated.is_latest) == (created.id, 2, "second", True)
    assert client.get_workflow(created.id, version=1).description is None
    assert (published.workflow_id, published.version, published.is_published) == (created.id, 1, True)
    assert (versions.total_count, versions.offset, versions.limit) == (2, 0, 10)
    newest, oldest = versions.data
    assert (newest.workflow_id, newest.version, newest.is_latest, newest.is_published) == (created.id, 2, True, False)
    assert (oldest.workflow_id, oldest.version, oldest.is_latest, oldest.is_published) == (created.id, 1, False, True)
    assert newest.id and oldest.id and newest.id != oldest.id
    assert recent(newest.created_at) and recent(oldest.created_at)
    assert [v.version for v in client.iter_workflow_versions(created.id)] == [2, 1]


def test_workflow_listing_filters_by_search_ids_and_version_and_iterates_every_page(paging_client) -> None:
    client = paging_client
    marker = unique("Listed")
    made = [client.create_workflow(models.WorkflowInput(name=f"{marker} {n}", description="listing test",
                                                        steps=[step("end", "finish")])) for n in range(5)]
    client.publish_workflow_version(made[0].id, 1)

    page = client.list_workflows(search=marker, sort="name", limit=3)
    by_ids = client.list_workflows(ids=[made[1].id, made[3].id])
    published = client.list_workflows(search=marker, version="published")
    every = list(client.iter_workflows(search=marker, sort="-name"))

    assert (page.total_count, page.offset, page.limit, len(page.data)) == (5, 0, 3, 3)
    assert page.has_next
    first = page.data[0]
    assert (first.id, first.name, first.description, first.version, first.is_latest, first.is_published) == (
        made[0].id, f"{marker} 0", "listing test", 1, True, True)
    assert recent(first.created_at)
    assert {w.id for w in by_ids.data} == {made[1].id, made[3].id}
    assert [w.id for w in published.data] == [made[0].id]
    assert [w.name for w in every] == [f"{marker} {n}" for n in (4, 3, 2, 1, 0)]


def test_a_journey_runs_through_resume_and_approval_with_every_field(client: MintClient, case_workflow) -> None:
    case = unique("c").replace(" ", "-")

    started = client.start_journey(case_workflow.id, input={"case": case, "items": ["a@example.com", "b@example.com"]},
                                   journey_url_ttl=300)
    waiting = client.get_journey(started.journey_id)

    assert started.journey_id and started.journey_url.startswith("http")
    assert started.step_id in (None, "hold")
    assert (waiting.id, waiting.workflow_id, waiting.version, waiting.status) == (
        started.journey_id, case_workflow.id, 1, "active")
    assert waiting.name == f"Case {case}"
    assert recent(waiting.created_at) and recent(waiting.last_executed_at)
    assert (waiting.finished_at, waiting.faulted_at, waiting.cancelled_at) == (None, None, None)
    assert waiting.active_steps == [models.ActiveStep(step_id="hold", step_type="suspend")]
    assert waiting.step_data["name"] == {"name": f"Case {case}"}
    assert [(a.step_id, a.severity, a.message) for a in waiting.alerts] == [("warn", "warning", f"Check {case}")]
    assert recent(waiting.alerts[0].timestamp)
    assert [(it.index, it.step_data["mail"]["to"]) for it in waiting.loops["each"]] == [
        (0, "a@example.com"), (1, "b@example.com")]
    (document,) = waiting.files
    assert (document.step_id, document.filename, document.content_type) == (
        "doc", f"summary-{case}.txt", "text/plain; charset=utf-8")
    assert document.size == len(f"Case {case}".encode())

    downloaded = client.download_journey_file(started.journey_id, document.id)
    assert (downloaded.filename, downloaded.content, downloaded.content_type) == (
        document.filename, f"Case {case}".encode(), document.content_type)

    client.resume_journey(started.journey_id, step_id="hold", input={"checked": True})
    approving = client.get_journey(started.journey_id)
    assert approving.active_steps == [models.ActiveStep(step_id="check", step_type="require-approval")]
    assert approving.step_data["hold"] == {"checked": True}

    client.approve_journey(started.journey_id, step_id="check", approved=True, message="Looks right")
    finished = client.get_journey(started.journey_id)
    assert (finished.status, finished.active_steps, finished.is_final) == ("finished", [], True)
    assert recent(finished.finished_at)
    assert finished.step_data["check"] == {"approved": True, "message": "Looks right"}


def test_a_rejection_faults_the_journey(client: MintClient, case_workflow) -> None:
    started = client.start_journey(case_workflow.id, input={"case": "r", "items": []})
    client.resume_journey(started.journey_id, step_id="hold")

    client.approve_journey(started.journey_id, step_id="check", approved=False)

    faulted = client.get_journey(started.journey_id)
    assert (faulted.status, recent(faulted.faulted_at), faulted.finished_at) == ("faulted", True, None)


def test_the_execution_log_lists_each_step_with_status_and_events(client: MintClient, case_workflow) -> None:
    started = client.start_journey(case_workflow.id, input={"case": "log", "items": ["x@example.com"]})

    log = client.get_journey_log(started.journey_id)

    by_step = {entry.step_id: entry for entry in log.steps}
    assert [entry.step_id for entry in log.steps][:3] == ["name", "warn", "each"]
    assert (log.steps_finished, log.steps_faulted) >= (5, 0)
    name = by_step["name"]
    assert (name.step_type, name.status.name, name.status.outcome) == ("set-name", "finished", "Done")
    assert recent(name.started_at) and recent(name.ended_at)
    assert [event.event_name for event in name.events] == ["StepStarted", "StepCompleted"]
    completed = name.events[-1]
    assert completed.id and recent(completed.timestamp) and completed.message and completed.outcomes == ["Done"]
    hold = by_step["hold"]
    assert (hold.step_type, hold.status.name, hold.ended_at) == ("suspend", "waiting", None)


def test_a_journey_url_opens_the_end_user_page(client: MintClient, suspend_workflow) -> None:
    started = client.start_journey(suspend_workflow.id)

    url = client.create_journey_url(started.journey_id, time_to_live=120)

    assert url.journey_url.startswith("http") and started.journey_id in url.journey_url
    assert requests.get(url.journey_url, timeout=10).status_code == 200


def test_journey_listing_filters_and_iterates_with_every_field(paging_client, case_workflow) -> None:
    client = paging_client
    before = datetime.now(UTC) - timedelta(seconds=1)
    ids = [client.start_journey(case_workflow.id, input={"case": f"list{n}", "items": []}).journey_id
           for n in range(3)]
    client.resume_journey(ids[0], step_id="hold")

    page = client.list_journeys(workflow_id=case_workflow.id, sort="name", limit=2)
    waiting = client.list_journeys(workflow_id=case_workflow.id, status="active",
                                   last_executed_after=before, last_executed_before=datetime.now(UTC) + timedelta(1))
    found = client.list_journeys(search="Case list2")
    every = list(client.iter_journeys(workflow_id=case_workflow.id))

    assert (page.total_count, page.offset, page.limit, len(page.data)) == (3, 0, 2, 2)
    row = page.data[0]
    assert (row.id, row.workflow_id, row.version, row.status, row.name, row.workflow_name) == (
        ids[0], case_workflow.id, 1, "active", "Case list0", case_workflow.name)
    assert row.pending_steps is True
    assert recent(row.created_at) and recent(row.last_executed_at)
    assert (row.finished_at, row.faulted_at, row.cancelled_at) == (None, None, None)
    assert [(a.step_id, a.severity, a.message) for a in row.alerts] == [("warn", "warning", "Check list0")]
    assert {j.id for j in waiting.data} == set(ids)
    assert [j.id for j in found.data] == [ids[2]]
    assert sorted(j.id for j in every) == sorted(ids)


def test_notes_are_created_listed_and_updated(sandbox, paging_client, suspend_workflow) -> None:
    client = paging_client
    journey_id = client.start_journey(suspend_workflow.id).journey_id

    first = client.create_journey_note(journey_id, content="Called the customer", step_id="hold")
    client.create_journey_note(journey_id, content="Sent the papers")
    client.create_journey_note(journey_id, content="Papers back")
    updated = client.update_journey_note(journey_id, first.id, content="Called the customer twice")

    assert (first.step_id, first.content, first.created_by) == ("hold", "Called the customer", sandbox.client_id)
    assert recent(first.created_at)
    assert (updated.id, updated.content, updated.step_id, updated.created_at) == (
        first.id, "Called the customer twice", "hold", first.created_at)
    assert recent(updated.updated_at)
    page = client.list_journey_notes(journey_id, sort="createdAt", limit=2)
    assert (page.total_count, [n.content for n in page.data]) == (3, ["Called the customer twice", "Sent the papers"])
    assert {n.content for n in client.list_journey_notes(journey_id, search="papers").data} == {
        "Sent the papers", "Papers back"}
    assert len(list(client.iter_journey_notes(journey_id))) == 3
    later = client.list_journey_notes(journey_id, created_after=datetime.now(UTC) + timedelta(hours=1))
    assert later.total_count == 0


def test_secrets_are_created_and_updated_without_their_value_coming_back(client: MintClient) -> None:
    created = client.create_secret(name=unique("api-key").replace(" ", "-"), value="s3cr3t-value",
                                   description="Partner key")

    updated = client.update_secret(created.id, description="Rotated", value="n3w-value")

    assert created.id and created.description == "Partner key" and recent(created.created_at)
    assert (updated.id, updated.name, updated.description) == (created.id, created.name, "Rotated")
    assert recent(updated.updated_at)
    assert "value" not in updated.model_dump()


def test_workflow_files_upload_and_download(client: MintClient, suspend_workflow) -> None:
    stored = client.upload_workflow_file(suspend_workflow.id, filename="terms.txt", content=b"Terms v1",
                                         content_type="text/plain")

    downloaded = client.download_workflow_file(suspend_workflow.id, stored.id)

    assert (stored.filename, stored.size) == ("terms.txt", 8)
    assert (downloaded.filename, downloaded.content) == ("terms.txt", b"Terms v1")
    assert downloaded.content_type.startswith("text/plain")
    assert [f.id for f in client.get_workflow(suspend_workflow.id).files] == [stored.id]
