"""The sandbox's OpenID Connect provider: discovery, JWKS, the authorize picker and the code exchange."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from tests.sandbox_process import ROOT, SandboxProcess
from tests.sso.provider import CodeGrant, add_person, authorize, issuer, register_client, tamper_next_id_tokens

SECRET = "oidc-tests-secret"
REDIRECT_URI = "http://127.0.0.1:9/sso/callback/"


@pytest.fixture
def client_id(sandbox: SandboxProcess) -> str:
    client = f"rp-{uuid.uuid4().hex[:8]}"
    register_client(sandbox, client_id=client, client_secret=SECRET, redirect_uris=[REDIRECT_URI])
    return client


@pytest.fixture
def subject(sandbox: SandboxProcess) -> str:
    person = f"person-{uuid.uuid4().hex[:8]}"
    add_person(sandbox, subject=person, username="kari", name="Kari Nordmann", email="kari@example.com",
               groups=["case-handlers", "auditors"])
    return person


def exchange(sandbox: SandboxProcess, grant: CodeGrant, client_id: str, *, secret: str = SECRET,
             verifier: str | None = None, basic: bool = True) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": grant.code, "redirect_uri": REDIRECT_URI,
            "code_verifier": grant.verifier if verifier is None else verifier}
    if basic:
        return sandbox.http.post(f"{issuer(sandbox)}/token", data=data, auth=(client_id, secret), timeout=10)
    return sandbox.http.post(f"{issuer(sandbox)}/token", data={**data, "client_id": client_id,
                                                               "client_secret": secret}, timeout=10)


def key_set(sandbox: SandboxProcess) -> KeySet:
    return KeySet.import_key_set(sandbox.http.get(f"{issuer(sandbox)}/jwks", timeout=10).json())


def test_it_publishes_its_endpoints_and_an_rs256_key(sandbox: SandboxProcess) -> None:
    document = sandbox.http.get(f"{issuer(sandbox)}/.well-known/openid-configuration", timeout=10).json()
    assert document["issuer"] == issuer(sandbox)
    assert document["authorization_endpoint"] == f"{issuer(sandbox)}/authorize"
    assert document["token_endpoint"] == f"{issuer(sandbox)}/token"
    assert document["code_challenge_methods_supported"] == ["S256"]
    keys = sandbox.http.get(document["jwks_uri"], timeout=10).json()["keys"]
    assert [(key["kty"], key["alg"], key["use"]) for key in keys] == [("RSA", "RS256", "sig")]
    assert "d" not in keys[0], "the private exponent must never be published"


def test_it_keeps_its_signing_key_across_a_restart_and_accepts_the_client_of_its_settings(
        sandbox: SandboxProcess, subject: str) -> None:
    before = key_set(sandbox).keys[0].kid
    second = SandboxProcess(workdir=sandbox.workdir, extra_env={
        "SANDBOX_OIDC_CLIENT_ID": "from-env", "SANDBOX_OIDC_CLIENT_SECRET": SECRET,
        "SANDBOX_OIDC_REDIRECT_URIS": f"http://127.0.0.1:9/other/, {REDIRECT_URI}"})
    second.start()
    try:
        assert key_set(second).keys[0].kid == before
        grant = authorize(second, client_id="from-env", redirect_uri=REDIRECT_URI, subject=subject)
        answer = exchange(second, grant, "from-env")
        assert answer.status_code == 200, answer.text
        assert jwt.decode(answer.json()["id_token"], key_set(sandbox)).claims["aud"] == "from-env"
    finally:
        second.stop()


@pytest.mark.parametrize("missing", ["SANDBOX_OIDC_CLIENT_SECRET", "SANDBOX_OIDC_REDIRECT_URIS"])
def test_a_settings_client_without_secret_or_redirect_uris_stops_start_up(tmp_path, missing: str) -> None:
    env = {**os.environ, "SANDBOX_DATABASE_PATH": str(tmp_path / "db.sqlite3"), "SANDBOX_CLIENT_ID": "c",
           "SANDBOX_CLIENT_SECRET": "s", "SANDBOX_OIDC_CLIENT_ID": "portal",
           "SANDBOX_OIDC_CLIENT_SECRET": "x", "SANDBOX_OIDC_REDIRECT_URIS": REDIRECT_URI, missing: ""}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "-m", "sandbox", "migrate"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "SANDBOX_OIDC_CLIENT_SECRET and SANDBOX_OIDC_REDIRECT_URIS must be set" in result.stderr


@pytest.mark.parametrize("basic", [True, False], ids=["basic-auth", "form-auth"])
def test_it_exchanges_a_code_for_a_signed_id_token(sandbox: SandboxProcess, client_id: str, subject: str,
                                                   basic: bool) -> None:
    grant = authorize(sandbox, client_id=client_id, redirect_uri=REDIRECT_URI, subject=subject, nonce="abc123")
    response = exchange(sandbox, grant, client_id, basic=basic)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    claims = jwt.decode(body["id_token"], key_set(sandbox)).claims
    assert claims["iss"] == issuer(sandbox)
    assert claims["aud"] == client_id
    assert claims["sub"] == subject
    assert claims["nonce"] == "abc123"
    assert claims["exp"] > claims["iat"]
    assert claims["groups"] == ["case-handlers", "auditors"]
    assert (claims["preferred_username"], claims["email"]) == ("kari", "kari@example.com")


def test_it_refuses_a_code_used_twice(sandbox: SandboxProcess, client_id: str, subject: str) -> None:
    grant = authorize(sandbox, client_id=client_id, redirect_uri=REDIRECT_URI, subject=subject)
    assert exchange(sandbox, grant, client_id).status_code == 200
    replay = exchange(sandbox, grant, client_id)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert "already been used" in replay.json()["error_description"]


def test_it_refuses_a_code_after_a_minute(sandbox: SandboxProcess, client_id: str, subject: str) -> None:
    grant = authorize(sandbox, client_id=client_id, redirect_uri=REDIRECT_URI, subject=subject)
    sandbox.advance_clock(61)
    response = exchange(sandbox, grant, client_id)
    assert response.status_code == 400
    assert response.json()["error_description"] == "The authorization code has expired."


def test_it_refuses_a_wrong_client_secret(sandbox: SandboxProcess, client_id: str, subject: str) -> None:
    grant = authorize(sandbox, client_id=client_id, redirect_uri=REDIRECT_URI, subject=subject)
    response = exchange(sandbox, grant, client_id, secret="not-the-secret")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert SECRET not in response.text


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(verifier=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~",
                        min_size=0, max_size=130))
def test_it_refuses_every_verifier_but_the_one_behind_the_challenge(sandbox: SandboxProcess, client_id: str,
                                                                    subject: str, verifier: str) -> None:
    grant = authorize(sandbox, client_id=client_id, redirect_uri=REDIRECT_URI, subject=subject)
    wrong = exchange(sandbox, grant, client_id, verifier=verifier)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    # The failed attempt spent the code: the right verifier cannot redeem it afterwards either.
    assert exchange(sandbox, grant, client_id).status_code == 400


def test_it_shows_an_error_instead_of_redirecting_to_an_unregistered_uri(sandbox: SandboxProcess,
                                                                         client_id: str) -> None:
    response = sandbox.http.get(f"{issuer(sandbox)}/authorize", params={
        "response_type": "code", "client_id": client_id, "redirect_uri": "http://evil.example/cb",
        "scope": "openid", "state": "s", "code_challenge": "x" * 43, "code_challenge_method": "S256",
    }, allow_redirects=False, timeout=10)
    assert response.status_code == 400
    assert "The redirect URI is not registered for this client." in response.text


@pytest.mark.parametrize("method", ["plain", ""])
def test_it_sends_back_an_error_without_a_pkce_s256_challenge(sandbox: SandboxProcess, client_id: str,
                                                              method: str) -> None:
    response = sandbox.http.get(f"{issuer(sandbox)}/authorize", params={
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI, "scope": "openid",
        "state": "s1", "code_challenge": "x" * 43, "code_challenge_method": method,
    }, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"{REDIRECT_URI}?error=invalid_request&")
    assert response.headers["Location"].endswith("&state=s1")


def test_the_tamper_fault_breaks_the_signature_of_the_next_id_token_only(sandbox: SandboxProcess, client_id: str,
                                                                         subject: str) -> None:
    tamper_next_id_tokens(sandbox, 1)
    grant = authorize(sandbox, client_id=client_id, redirect_uri=REDIRECT_URI, subject=subject)
    tampered = exchange(sandbox, grant, client_id).json()["id_token"]
    with pytest.raises(BadSignatureError):
        jwt.decode(tampered, key_set(sandbox))
    grant = authorize(sandbox, client_id=client_id, redirect_uri=REDIRECT_URI, subject=subject)
    assert jwt.decode(exchange(sandbox, grant, client_id).json()["id_token"], key_set(sandbox)).claims["sub"] == subject


def test_the_control_api_refuses_a_person_without_a_subject(sandbox: SandboxProcess) -> None:
    response = sandbox.http.post(f"{sandbox.root_url}/_sandbox/oidc/people", json={"groups": ["x"]}, timeout=10)
    assert response.status_code == 400
    assert [param["name"] for param in response.json()["invalidParams"]] == ["subject"]
