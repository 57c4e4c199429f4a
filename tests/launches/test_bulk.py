"""Bulk launch from a CSV: validated row by row before anything starts, then launched by a real worker."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from launches.models import BulkLaunch, BulkLaunchStatus, Launch, LaunchStatus
from tests.celery_worker import wait_for


def upload(client, workflow_id: str, text: str, *, name: str = "people.csv"):
    file = SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")
    return client.post(reverse("launches:bulk-upload", args=[workflow_id]), {"file": file, "journey_url_ttl": "600"})


@pytest.mark.django_db
def test_csv_errors_are_shown_by_row_and_column_and_nothing_is_launched(client, operator, launch_workflow, sandbox):
    client.force_login(operator)
    text = (
        "email,fullName\n"
        "ada@example.com,Ada Lovelace\n"
        ",Grace Hopper\n"
        "alan@example.com,\n"
        "\n"
        "edsger@example.com,Edsger Dijkstra,extra\n"
    )

    response = upload(client, launch_workflow.id, text)

    bulk = BulkLaunch.objects.get()
    assert response.status_code == 302 and response.url == reverse("launches:bulk", args=[bulk.id])
    assert (bulk.row_count, bulk.invalid_count, bulk.status) == (4, 3, BulkLaunchStatus.VALIDATED)
    page = client.get(response.url).content.decode()
    assert "<td>3</td><td><code>email</code></td><td>A value is required.</td>" in page
    assert "<td>4</td><td><code>fullName</code></td><td>A value is required.</td>" in page
    assert "<td>6</td><td><code>(row)</code></td><td>Has 3 cells; the header has 2.</td>" in page
    assert "Launch 1 journey" in page
    assert sandbox.count("startJourney") == 0
    assert set(Launch.objects.values_list("status", flat=True)) == {LaunchStatus.DRAFT, LaunchStatus.INVALID}


@pytest.mark.django_db
def test_a_header_that_does_not_name_the_input_parameters_is_refused(client, operator, launch_workflow):
    client.force_login(operator)

    response = upload(client, launch_workflow.id, "email,name\na@example.com,A\n")

    bulk = BulkLaunch.objects.get()
    assert not bulk.can_confirm and Launch.objects.count() == 0
    page = client.get(response.url).content.decode()
    assert "Missing column(s): fullName." in page
    assert "Unknown column(s): name." in page


@pytest.mark.django_db
def test_a_file_that_is_not_utf8_is_refused_with_a_hint(client, operator, launch_workflow):
    client.force_login(operator)
    file = SimpleUploadedFile("latin1.csv", "email,fullName\nb@example.com,Bj\xf6rk\n".encode("latin-1"))

    response = client.post(reverse("launches:bulk-upload", args=[launch_workflow.id]),
                           {"file": file, "journey_url_ttl": "600"})

    assert "not UTF-8" in client.get(response.url).content.decode()


@pytest.mark.django_db
def test_discarding_an_upload_launches_nothing(client, operator, launch_workflow):
    client.force_login(operator)
    bulk_url = upload(client, launch_workflow.id, "email,fullName\na@example.com,A\n").url
    bulk = BulkLaunch.objects.get()

    client.post(reverse("launches:bulk-discard", args=[bulk.id]))

    assert BulkLaunch.objects.get().status == BulkLaunchStatus.DISCARDED
    assert Launch.objects.count() == 0
    assert client.post(reverse("launches:bulk-confirm", args=[bulk.id])).url == bulk_url
    assert BulkLaunch.objects.get().status == BulkLaunchStatus.DISCARDED


@pytest.mark.django_db(transaction=True)
def test_a_bulk_launch_starts_every_valid_row_and_offers_the_results_as_csv(
    client, operator, launch_workflow, celery_worker, sandbox, settings
):
    settings.BULK_LAUNCH_CHUNK_SIZE = 4
    client.force_login(operator)
    lines = ["email,fullName"] + [f"user{i}@example.com,User {i}" for i in range(10)] + [",Nobody"]
    bulk_url = upload(client, launch_workflow.id, "\n".join(lines) + "\n").url
    bulk = BulkLaunch.objects.get()

    client.post(reverse("launches:bulk-confirm", args=[bulk.id]))
    client.post(reverse("launches:bulk-confirm", args=[bulk.id]))

    wait_for(lambda: BulkLaunch.objects.get().status == BulkLaunchStatus.FINISHED, timeout=60,
             message="the bulk launch to finish")
    assert sandbox.count("startJourney") == 10
    progress = client.get(bulk_url, headers={"HX-Request": "true", "HX-Target": "bulk-progress"}).content.decode()
    assert 'data-count="started">10<' in progress and 'data-count="remaining">0<' in progress
    assert "hx-trigger" not in progress
    results = client.get(reverse("launches:bulk-results", args=[bulk.id]))
    rows = list(csv.DictReader(io.StringIO(b"".join(results.streaming_content).decode())))
    assert [row["row"] for row in rows] == [str(n) for n in range(2, 13)]
    assert len({row["journey_id"] for row in rows[:10]}) == 10 and all(row["journey_url"] for row in rows[:10])
    assert rows[10]["status"] == "invalid" and rows[10]["error"] == "email: A value is required."
