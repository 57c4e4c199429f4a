"""Each error class of the Mint client comes from the matching answer of the sandbox."""

from __future__ import annotations

import pytest

from mintportal.mint import MintClient, errors, get_client, models
from tests.mint_parts import step, unique


def test_a_missing_journey_raises_not_found_with_a_trace_id(client: MintClient) -> None:
    with pytest.raises(errors.MintNotFoundError) as caught:
        client.get_journey("no-such-journey")

    error = caught.value
    assert (error.status, error.code, error.retryable, error.operation) == (404, "not_found", False, "getJourney")
    assert error.trace_id and error.trace_id in str(error)


def test_an_invalid_workflow_raises_validation_error_naming_each_bad_field(client: MintClient) -> None:
    bad = models.WorkflowInput(name="x" * 256, steps=[models.WorkflowStep(id="a", type="no-such-type")])

    with pytest.raises(errors.MintValidationError) as caught:
        client.create_workflow(bad)

    error = caught.value
    names = [param.name for param in error.invalid_params]
    assert error.status == 400 and not error.retryable and error.trace_id
    assert "name" in names
    assert any(name.startswith("steps[0]") and name.endswith("type") for name in names)
    assert all(param.reason for param in error.invalid_params)
    assert set(error.field_errors()) == set(names)


def test_a_viewer_only_client_reads_but_a_write_raises_permission_error(viewer_client: MintClient) -> None:
    viewer_client.list_workflows(limit=1)

    with pytest.raises(errors.MintPermissionError) as caught:
        viewer_client.create_secret(name="denied", value="never-stored")

    assert (caught.value.status, caught.value.retryable) == (403, False)
    assert caught.value.trace_id


def test_resuming_a_journey_at_a_step_it_does_not_wait_on_raises_conflict(client: MintClient, suspend_workflow) -> None:
    journey_id = client.start_journey(suspend_workflow.id).journey_id
    client.resume_journey(journey_id, step_id="hold")

    with pytest.raises(errors.MintConflictError) as caught:
        client.resume_journey(journey_id, step_id="hold")

    assert (caught.value.status, caught.value.retryable) == (409, False)


def test_wrong_credentials_raise_authentication_error(mint_settings) -> None:
    mint_settings.MINT_CLIENT_SECRET = "not-the-secret"

    with pytest.raises(errors.MintAuthenticationError) as caught:
        get_client().list_workflows()

    assert caught.value.operation == "token" and not caught.value.retryable
    assert "not-the-secret" not in str(caught.value) and "not-the-secret" not in repr(caught.value)


def test_a_rate_limit_beyond_the_wait_cap_raises_at_once_with_retry_after(sandbox, client: MintClient) -> None:
    sandbox.add_fault(path=r"^/mint/workflows$", method="GET", status=429, retry_after=60)

    with pytest.raises(errors.MintRateLimitedError) as caught:
        client.list_workflows()

    assert (caught.value.status, caught.value.retry_after, caught.value.retryable) == (429, 60, True)
    assert sandbox.count("listWorkflows") == 1


def test_a_500_raises_server_error_without_retrying(sandbox, client: MintClient) -> None:
    sandbox.add_fault(path=r"^/mint/step-types$", status=500)

    with pytest.raises(errors.MintServerError) as caught:
        client.list_step_types()

    assert (caught.value.status, caught.value.retryable) == (500, False)
    assert sandbox.count("listStepTypes") == 1


def test_an_answer_of_the_wrong_shape_raises_response_error_naming_the_operation(mint_settings, sandbox) -> None:
    # The step types endpoint answers a JSON list; read as the workflows listing it has the wrong shape.
    mint_settings.MINT_BASE_URL = f"{sandbox.base_url}/step-types#"

    with pytest.raises(errors.MintResponseError) as caught:
        get_client().list_workflows()

    assert caught.value.operation == "listWorkflows"
    assert "listWorkflows" in str(caught.value) and "expected shape" in str(caught.value)


def test_a_closed_port_raises_connection_error_after_the_retries(mint_settings, caplog) -> None:
    from tests.sandbox_process import free_port

    mint_settings.MINT_BASE_URL = f"http://127.0.0.1:{free_port()}/mint"
    mint_settings.MINT_MAX_RETRIES = 2
    caplog.set_level("INFO", logger="mintportal.mint")

    with pytest.raises(errors.MintConnectionError) as caught:
        get_client().get_workflow("any")

    assert caught.value.retryable and not caught.value.request_sent and caught.value.status is None
    assert sum("retrying" in record.getMessage() for record in caplog.records) == 2
    assert any("mint call failed: GET getWorkflow" in record.getMessage() for record in caplog.records)


def test_a_workflow_input_dump_uses_mints_field_names() -> None:
    body = models.WorkflowInput(name=unique("W"), steps=[step("s", "suspend")],
                                input_parameters=[models.WorkflowInputParameter(name="email")]).to_wire()

    assert body["inputParameters"] == [{"name": "email"}]
    assert body["steps"][0]["displayName"] is None
