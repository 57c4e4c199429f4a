"""The OAuth token endpoint and the bearer token and role checks on every API call."""

from __future__ import annotations

import pytest
import requests

from tests.sandbox.helpers import Api, chain, step, unique
from tests.sandbox_process import SandboxProcess


def token_request(sandbox: SandboxProcess, **form: str) -> requests.Response:
    return requests.post(sandbox.token_url, data=form, timeout=10)


def client_form(sandbox: SandboxProcess, **overrides: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "scope": "signicat-api", "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret, **overrides}


def test_it_issues_a_bearer_token_to_a_client_authenticated_by_form_fields(sandbox: SandboxProcess) -> None:
    response = token_request(sandbox, **client_form(sandbox))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert response.headers["Cache-Control"] == "no-store"
    assert sandbox.api("GET", "step-types", token=body["access_token"]).status_code == 200


def test_it_issues_a_token_to_a_client_authenticated_by_http_basic(sandbox: SandboxProcess) -> None:
    response = requests.post(sandbox.token_url, auth=(sandbox.client_id, sandbox.client_secret),
                             data={"grant_type": "client_credentials", "scope": "signicat-api"}, timeout=10)
    assert response.status_code == 200
    assert response.json()["access_token"]


@pytest.mark.parametrize(("overrides", "status", "error"), [
    ({"client_secret": "wrong"}, 401, "invalid_client"),
    ({"client_id": "nobody"}, 401, "invalid_client"),
    ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ({"grant_type": ""}, 400, "invalid_request"),
    ({"scope": "openid"}, 400, "invalid_scope"),
    ({"scope": ""}, 400, "invalid_scope"),
])
def test_it_answers_oauth_errors(sandbox: SandboxProcess, overrides: dict[str, str], status: int,
                                 error: str) -> None:
    response = token_request(sandbox, **client_form(sandbox, **overrides))
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]


def test_it_rejects_a_wrong_secret_sent_by_http_basic(sandbox: SandboxProcess) -> None:
    response = requests.post(sandbox.token_url, auth=(sandbox.client_id, "wrong"),
                             data={"grant_type": "client_credentials", "scope": "signicat-api"}, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_it_uses_the_configured_token_lifetime(sandbox: SandboxProcess) -> None:
    sandbox.set_config(tokenTtl=42)
    assert token_request(sandbox, **client_form(sandbox)).json()["expires_in"] == 42
    sandbox.set_config(tokenTtl=None)
    assert token_request(sandbox, **client_form(sandbox)).json()["expires_in"] == 600


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}])
def test_it_answers_401_problems_without_a_valid_token(sandbox: SandboxProcess, headers: dict[str, str]) -> None:
    response = requests.get(f"{sandbox.base_url}/workflows", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 401
    assert problem["traceId"] == response.headers["X-Trace-Id"]


def test_a_token_expires_by_the_sandbox_clock(sandbox: SandboxProcess) -> None:
    sandbox.freeze_clock()
    sandbox.set_config(tokenTtl=60)
    token = sandbox.token()
    assert sandbox.api("GET", "journeys", token=token).status_code == 200
    sandbox.advance_clock(59)
    assert sandbox.api("GET", "journeys", token=token).status_code == 200
    sandbox.advance_clock(2)
    response = sandbox.api("GET", "journeys", token=token)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_revoked_tokens_stop_working(sandbox: SandboxProcess) -> None:
    token = sandbox.token()
    assert sandbox.api("GET", "journeys", token=token).status_code == 200
    sandbox.revoke_tokens()
    assert sandbox.api("GET", "journeys", token=token).status_code == 401


def test_a_role_taken_from_a_client_is_gone_at_once_for_its_tokens(sandbox: SandboxProcess) -> None:
    client_id = unique("demoted")
    sandbox.add_client(client_id, "demoted-secret", ["Flow Viewer", "Flow Editor"])
    api = Api(sandbox, sandbox.token(client_id, "demoted-secret"))
    assert api.post("workflows", json={"name": "x", **chain(step("a", "finish"))}).status_code == 201

    sandbox.add_client(client_id, "demoted-secret", ["Flow Viewer"])

    assert api.post("workflows", json={"name": "x", **chain(step("a", "finish"))}).status_code == 403
    assert api.get("workflows").status_code == 200


def test_a_client_without_flow_editor_may_read_but_not_write(sandbox: SandboxProcess) -> None:
    client_id = unique("viewer")
    sandbox.add_client(client_id, "viewer-secret", ["Flow Viewer"])
    viewer = Api(sandbox, sandbox.token(client_id, "viewer-secret"))
    assert viewer.get("workflows").status_code == 200
    response = viewer.post("workflows", json={"name": "x", **chain(step("a", "finish"))})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_a_client_without_flow_viewer_may_not_read(sandbox: SandboxProcess) -> None:
    client_id = unique("editor")
    sandbox.add_client(client_id, "editor-secret", ["Flow Editor"])
    editor = Api(sandbox, sandbox.token(client_id, "editor-secret"))
    assert editor.get("journeys").status_code == 403
    assert editor.post("workflows", json={"name": "x", **chain(step("a", "finish"))}).status_code == 201


def test_replacing_a_client_changes_its_secret(sandbox: SandboxProcess) -> None:
    client_id = unique("rotating")
    sandbox.add_client(client_id, "first", ["Flow Viewer"])
    sandbox.add_client(client_id, "second", ["Flow Viewer"])
    assert token_request(sandbox, **client_form(sandbox, client_id=client_id, client_secret="first")).status_code == 401
    second = token_request(sandbox, **client_form(sandbox, client_id=client_id, client_secret="second"))
    assert second.status_code == 200
