"""Bulk-launch rough edges a first-time operator hits: a row that is not UTF-8 is refused alone with its line and
column, a refused upload is listed as refused, the results CSV repeats the input columns, and a launch's page
names the step its journey waits on."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from launches.models import BulkLaunch, BulkLaunchStatus, Launch, LaunchStatus
from launches.services import launch_create, launch_start

pytestmark = pytest.mark.django_db


def upload(client, workflow_id: str, data: bytes, *, name: str = "people.csv"):
    file = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(reverse("launches:bulk-upload", args=[workflow_id]), {"file": file, "journey_url_ttl": "600"})


def test_a_row_that_is_not_utf8_is_refused_alone_with_its_line_and_column(client, operator, launch_workflow) -> None:
    client.force_login(operator)
    data = (b"email,fullName\nada@example.com,Ada\n" + "bjork@example.com,Bj\xf6rk\n".encode("latin-1")
            + b"alan@example.com,Alan\n")

    response = upload(client, launch_workflow.id, data)

    bulk = BulkLaunch.objects.get()
    assert bulk.file_errors == []
    assert (bulk.row_count, bulk.invalid_count) == (3, 1)
    page = client.get(response.url).content.decode()
    assert ("<td>3</td><td><code>fullName</code></td><td>Line 3, character 3 of this column is not UTF-8 "
            "(byte 0xF6): save the file as “CSV UTF-8” and upload this row again.</td>") in page
    assert "Launch 2 journeys" in page
    refused = Launch.objects.get(row_number=3)
    # What is kept of the row is valid text (PostgreSQL refuses lone surrogates), the bad byte replaced.
    assert refused.input["fullName"] == "Bj\ufffdrk"
    refused.input["fullName"].encode("utf-8")


def test_a_header_that_is_not_utf8_refuses_the_file_naming_line_1(client, operator, launch_workflow) -> None:
    client.force_login(operator)
    response = upload(client, launch_workflow.id, "email,fullN\xe4me\n".encode("latin-1") + b"a@example.com,A\n")
    page = client.get(response.url).content.decode()
    assert "Line 1 (the header) is not UTF-8" in page
    assert Launch.objects.count() == 0


def test_a_refused_upload_is_listed_and_shown_as_refused_not_as_waiting(client, operator, launch_workflow) -> None:
    client.force_login(operator)
    response = upload(client, launch_workflow.id, b"email,name\na@example.com,A\n")
    index = client.get(reverse("launches:index")).content.decode()
    assert "Refused: the file cannot be used" in index
    assert "Validated, waiting for confirmation" not in index
    page = client.get(response.url).content.decode()
    assert "Refused: the file cannot be used" in page


def test_the_results_csv_repeats_each_rows_input_columns(client, operator, launch_workflow) -> None:
    client.force_login(operator)
    data = b"email,fullName\nada@example.com,Ada Lovelace\n,Grace Hopper\n"
    upload(client, launch_workflow.id, data)
    bulk = BulkLaunch.objects.get()
    Launch.objects.filter(bulk=bulk, row_number=2).update(status=LaunchStatus.STARTED, journey_id="j-1",
                                                          journey_url="https://example.test/j-1")
    BulkLaunch.objects.filter(pk=bulk.pk).update(status=BulkLaunchStatus.FINISHED)

    response = client.get(reverse("launches:bulk-results", args=[bulk.id]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["row", "email", "fullName", "status", "journey_id", "journey_url", "error"]
    assert rows[1] == ["2", "ada@example.com", "Ada Lovelace", "started", "j-1", "https://example.test/j-1", ""]
    assert rows[2] == ["3", "", "Grace Hopper", "invalid", "", "", "email: A value is required."]


def test_a_launch_page_names_the_step_its_journey_waits_on(client, operator, launch_workflow, mint_settings) -> None:
    launch = launch_create(workflow_id=launch_workflow.id, input={"email": "a@example.com", "fullName": "A"},
                           journey_url_ttl=600, actor=operator)
    launch_start(launch_id=launch.id, refresh_mirror=False)
    launch.refresh_from_db()
    assert launch.status == LaunchStatus.STARTED and launch.step_id == "details"
    client.force_login(operator)
    page = client.get(reverse("launches:detail", args=[launch.id])).content.decode()
    assert "Waiting at step <code>details</code>" in page
