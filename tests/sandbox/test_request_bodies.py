"""Request bodies: what counts as an empty body, and what is malformed JSON."""

from __future__ import annotations

import pytest

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
