"""Requests the sandbox cannot or will not read: what counts as an empty body, malformed JSON, a body too large,
too many fields. Each is a 4xx problem, never a 500."""

from __future__ import annotations

import pytest
import requests

from tests.sandbox.helpers import Api, chain, step


@pytest.mark.parametrize(("body", "status"), [(b"", 201), (b" \t\r\n", 201), (b"{}", 201), (b"\x0c", 400),
                                              (b"\x0b", 400), (b" \x0c{}", 400)])
def test_only_json_whitespace_makes_an_optional_body_empty(api: Api, body: bytes, status: int) -> None:
    workflow = api.create_workflow(chain(step("hold", "suspend")))

    response = api.post(f"workflows/{workflow['id']}/journeys", data=body,
                        headers={"Content-Type": "application/json"})

    assert response.status_code == status, response.text
    if status == 400:
        assert response.headers["Content-Type"] == "application/problem+json"


def test_a_body_larger_than_the_sandbox_reads_is_a_413_problem_the_document_lists(api: Api, sandbox) -> None:
    document = requests.get(f"{sandbox.base_url}/openapi.json", timeout=10).json()
    too_large = b'{"name": "' + b"x" * (20 * 1024 * 1024) + b'", "steps": []}'

    response = api.post("workflows", data=too_large, headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert response.json()["title"] == "Content Too Large"
    assert "413" in document["paths"]["/workflows"]["post"]["responses"]


def test_a_query_with_more_fields_than_django_reads_is_a_400_problem(api: Api) -> None:
    response = api.get("journeys", params=[(f"f{index}", "1") for index in range(1001)])

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"


def test_a_multipart_upload_with_more_fields_than_django_reads_is_a_400_problem(api: Api) -> None:
    workflow = api.create_workflow(chain(step("hold", "suspend")))

    response = api.post(f"workflows/{workflow['id']}/files", files={"file": ("a.txt", b"a")},
                        data={f"f{index}": "1" for index in range(1001)})

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
