"""The sign-in flow through the sandbox's provider, as the portal's views answer it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from accounts.models import AuditEvent
from sso.models import SsoIdentity
from tests.sandbox_process import SandboxProcess, free_port
from tests.sso.provider import issuer, pick, tamper_next_id_tokens

pytestmark = pytest.mark.django_db


def start(client: Client, path: str = "/sso/login/") -> str:
    """Starts a sign-in and answers the provider URL the portal redirected to."""
    response = client.get(path)
    assert response.status_code == 302, response.content
    return response["Location"]


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == "http://testserver"
    return f"{parts.path}?{parts.query}"


def signed_in_user(client: Client) -> User | None:
    response = client.get("/")
    return response.wsgi_request.user if response.status_code == 200 else None


def refusals() -> list[str]:
    events = AuditEvent.objects.filter(action="sso.sign_in", outcome="refused").order_by("id")
    return [event.detail["reason"] for event in events]


def test_the_redirect_carries_state_nonce_and_a_pkce_s256_challenge(client: Client, sso_settings) -> None:
    location = start(client)
    parts = urlsplit(location)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert location.startswith(f"{sso_settings.OIDC_ISSUER}/authorize?")
    assert query["redirect_uri"] == "http://testserver/sso/callback/"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["state"] and query["nonce"]
    assert query["scope"] == "openid profile email"


def test_signing_in_creates_the_user_with_the_mapped_team_and_signs_them_in(
        client: Client, sandbox: SandboxProcess, sso_settings, handlers_mapped: Group, person: str) -> None:
    back = pick(sandbox, start(client), subject=person)
    response = client.get(callback_path(back))
    assert response.status_code == 302
    assert response["Location"] == "/"
    user = signed_in_user(client)
    assert user is not None and user.is_authenticated
    assert SsoIdentity.objects.get(user=user).subject == person
    assert list(user.groups.all()) == [handlers_mapped]
    assert not user.has_usable_password()
    event = AuditEvent.objects.get(action="sso.sign_in", outcome="ok")
    assert event.actor_username == user.username
    assert event.detail["teams_added"] == ["Case handlers"]


def test_it_opens_the_page_asked_for_and_never_one_off_the_portal(
        client: Client, sandbox: SandboxProcess, sso_settings, person: str) -> None:
    back = pick(sandbox, start(client, "/sso/login/?next=/journeys/"), subject=person)
    assert client.get(callback_path(back))["Location"] == "/journeys/"
    other = Client()
    back = pick(sandbox, start(other, "/sso/login/?next=https://evil.example/"), subject=person)
    assert other.get(callback_path(back))["Location"] == "/"


def test_an_answer_for_another_browser_is_refused(client: Client, sandbox: SandboxProcess, sso_settings,
                                                  person: str) -> None:
    back = pick(sandbox, start(client), subject=person)
    stranger = Client()
    response = stranger.get(callback_path(back))
    assert response.status_code == 400
    assert b"was not started in this browser" in response.content
    assert signed_in_user(stranger) is None
    assert refusals() == ["state_mismatch"]


def test_a_tampered_id_token_is_refused(client: Client, sandbox: SandboxProcess, sso_settings,
                                        person: str) -> None:
    tamper_next_id_tokens(sandbox, 1)
    back = pick(sandbox, start(client), subject=person)
    response = client.get(callback_path(back))
    assert response.status_code == 403
    assert b"its signature is wrong" in response.content
    assert signed_in_user(client) is None
    assert not User.objects.exclude(username="root").exists()
    assert refusals() == ["bad_signature"]


def test_a_replayed_code_is_refused_by_the_portal_and_by_the_provider(
        client: Client, sandbox: SandboxProcess, sso_settings, person: str) -> None:
    back = pick(sandbox, start(client), subject=person)
    assert client.get(callback_path(back)).status_code == 302
    # The same answer again, in the same browser: its state was spent by the first use.
    assert client.get(callback_path(back)).status_code == 400
    # An attacker who captured the code starts a sign-in of their own and sends it with their fresh state.
    attacker = Client()
    fresh_state = parse_qs(urlsplit(start(attacker)).query)["state"][0]
    code = parse_qs(urlsplit(back).query)["code"][0]
    response = attacker.get(f"/sso/callback/?code={code}&state={fresh_state}")
    assert response.status_code == 403
    assert b"already used or has expired" in response.content
    assert signed_in_user(attacker) is None
    assert refusals() == ["state_mismatch", "code_refused"]


def test_cancelling_at_the_provider_is_a_plain_refusal(client: Client, sandbox: SandboxProcess, sso_settings,
                                                       person: str) -> None:
    back = pick(sandbox, start(client), subject=person, action="cancel")
    response = client.get(callback_path(back))
    assert response.status_code == 403
    assert b"cancelled" in response.content
    assert refusals() == ["cancelled"]


def test_an_incomplete_answer_is_a_400(client: Client, sso_settings) -> None:
    response = client.get("/sso/callback/?state=abc")
    assert response.status_code == 400
    assert b"incomplete" in response.content


def test_a_provider_that_is_down_gives_a_502_page(client: Client, settings) -> None:
    settings.OIDC_ISSUER = f"http://127.0.0.1:{free_port()}/oidc"
    settings.OIDC_CLIENT_ID = "portal"
    settings.OIDC_CLIENT_SECRET = "secret"
    response = client.get("/sso/login/")
    assert response.status_code == 502
    assert b"could not be reached" in response.content
    assert refusals() == ["provider_unreachable"]


def test_a_discovery_document_for_another_issuer_is_refused(client: Client, sso_settings, sandbox) -> None:
    # The sandbox answers on 127.0.0.1; "localhost" reaches the same document, which names another issuer.
    sso_settings.OIDC_ISSUER = issuer(sandbox).replace("127.0.0.1", "localhost")
    response = client.get("/sso/login/")
    assert response.status_code == 502
    assert b"OIDC_ISSUER" in response.content


def test_the_views_answer_404_while_single_sign_on_is_off(client: Client, settings) -> None:
    settings.OIDC_ISSUER = ""
    assert client.get("/sso/login/").status_code == 404
    assert client.get("/sso/callback/?state=a&code=b").status_code == 404


def test_the_sign_in_page_offers_the_provider_only_when_configured(client: Client, settings) -> None:
    settings.OIDC_ISSUER = ""
    assert b"Sign in with" not in client.get("/login/").content
    settings.OIDC_ISSUER = "https://id.example.com"
    settings.OIDC_PROVIDER_NAME = "Acme ID"
    page = client.get("/login/?next=/journeys/").content.decode()
    assert 'href="/sso/login/?next=/journeys/"' in page
    assert "Sign in with Acme ID" in page


def test_no_code_or_token_reaches_the_audit_trail(client: Client, sandbox: SandboxProcess, sso_settings,
                                                  person: str) -> None:
    back = pick(sandbox, start(client), subject=person)
    code = parse_qs(urlsplit(back).query)["code"][0]
    client.get(callback_path(back))
    client.get(callback_path(back))
    for event in AuditEvent.objects.all():
        assert code not in f"{event.summary} {event.detail}"
        assert "eyJ" not in str(event.detail), "no JWT may be recorded"


def test_an_error_code_in_the_callback_is_recorded_only_as_letters(client: Client, sso_settings) -> None:
    response = client.get("/sso/callback/?error=server_error<script>&state=whatever")
    assert response.status_code == 403
    assert b"<script>" not in response.content
    assert refusals() == ["provider_error:server_errorscript"]
