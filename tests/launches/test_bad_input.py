"""Bad input on the launch pages is the sender's mistake: a 4xx naming the cause, never a 5xx or a half-write."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from launches.models import BulkLaunch, Launch
from tests.launches.test_bulk import upload


@pytest.mark.django_db
@pytest.mark.parametrize("text", [
    "email,fullName\nada@example.com,Ada\x00Lovelace\n",
    "email\x00,fullName\nada@example.com,Ada\n",
])
def test_a_csv_with_a_nul_byte_is_refused_next_to_the_file_field_and_nothing_is_stored(
    client, operator, launch_workflow, text
):
    client.force_login(operator)

    response = upload(client, launch_workflow.id, text)

    assert response.status_code == 400
    assert "NUL bytes" in response.content.decode()
    assert BulkLaunch.objects.count() == 0 and Launch.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["99999999999999999999", "0", "-3", "two"])
def test_a_bulk_page_number_out_of_range_is_a_400_naming_the_parameter(client, operator, launch_workflow, page):
    client.force_login(operator)
    bulk_url = upload(client, launch_workflow.id, "email,fullName\n,A\n").url

    response = client.get(bulk_url, {"page": page})

    assert response.status_code == 400
    assert "page" in response.content.decode()
    assert client.get(bulk_url, {"page": "1"}).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_ten_parallel_submits_of_one_launch_form_record_one_launch_and_answer_every_request(
    operator, launch_workflow
):
    if connection.vendor == "sqlite" and connection.creation.is_in_memory_db(connection.settings_dict["NAME"]):
        pytest.skip("threads cannot share an in-memory SQLite database")
    url = reverse("launches:new", args=[launch_workflow.id])
    form = {"key": "one-form-ten-clicks", "p0": "a@example.com", "p1": "A", "journey_url_ttl": "60"}

    def submit(_: int) -> tuple[int, str]:
        client = Client()
        client.force_login(operator)
        try:
            response = client.post(url, form)
            return response.status_code, response.get("Location", "")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(submit, range(10)))

    launch = Launch.objects.get()
    assert answers == [(302, reverse("launches:detail", args=[launch.id]))] * 10
