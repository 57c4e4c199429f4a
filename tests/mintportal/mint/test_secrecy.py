"""The client secret, access tokens and secret values never reach logs, errors or repr()."""

from __future__ import annotations

import logging

import pytest

from mintportal.mint import errors, get_client


def test_nothing_secret_is_logged_or_shown_while_calls_succeed_and_fail(sandbox, own_credentials, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    _, client_secret = own_credentials()
    client = get_client()
    client.list_workflows(limit=1)
    token = client.tokens.get()
    secret = client.create_secret(name="partner-key", value="top-secret-value")
    sandbox.add_fault(path=r"^/mint/secrets/", status=503)
    with pytest.raises(errors.MintServerError) as caught:
        client.update_secret(secret.id, value="another-secret-value")
    sandbox.revoke_tokens()
    client.list_workflows(limit=1)

    shown = caplog.text + str(caught.value) + repr(caught.value) + repr(client) + repr(client.config)
    shown += repr(client.tokens) + repr(client.tokens._token)
    for value in (client_secret, token, "top-secret-value", "another-secret-value"):
        assert value not in shown
    assert "mint call failed: PATCH updateSecret status=503" in caplog.text
    assert caught.value.trace_id in caplog.text
