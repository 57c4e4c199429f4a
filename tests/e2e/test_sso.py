"""Single sign-on in real Chromium through the sandbox's OpenID Connect provider: a company's person lands with
their mapped team's rights; a tampered ID token and a replayed authorization code sign nobody in.

Each screen is saved under test-artifacts/screenshots/ for review.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from sso.models import ClaimMapping
from tests.e2e.conftest import screenshot
from tests.journeys.conftest import make_journey
from tests.personas import WF_INSIDE, WF_OUTSIDE, team
from tests.sandbox_process import SandboxProcess
from tests.sso.provider import add_person, issuer, register_client, tamper_next_id_tokens

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROVIDER_NAME = "Acme ID"


@pytest.fixture
def provider(settings, sandbox: SandboxProcess, live_server) -> None:
    """The portal's SSO pointed at the sandbox's provider, with the live server's callback registered."""
    client_id = f"portal-e2e-{uuid.uuid4().hex[:8]}"
    register_client(sandbox, client_id=client_id, client_secret="e2e-secret",
                    redirect_uris=[f"{live_server.url}/sso/callback/"])
    settings.OIDC_ISSUER = issuer(sandbox)
    settings.OIDC_CLIENT_ID = client_id
    settings.OIDC_CLIENT_SECRET = "e2e-secret"
    settings.OIDC_PROVIDER_NAME = PROVIDER_NAME


@pytest.fixture
def handlers(scoped_workflows, provider) -> Group:
    """Case handlers (onboarding, contracts, customer-service workflows) granted by the group acme-handlers,
    and one journey inside their scope and one outside it."""
    handlers = team("Case handlers")
    ClaimMapping.objects.create(claim_value="acme-handlers", team=handlers)
    make_journey("sso-inside", workflow_id=WF_INSIDE, name="Inside case", status="active")
    make_journey("sso-outside", workflow_id=WF_OUTSIDE, workflow_name="Batch", name="Outside case",
                 status="active")
    return handlers


@pytest.fixture
def siri(sandbox: SandboxProcess) -> str:
    name = f"Siri {uuid.uuid4().hex[:6]}"
    add_person(sandbox, subject=f"siri-{uuid.uuid4().hex}", username="siri.sso", name=name,
               email="siri@example.com", groups=["acme-handlers", "acme-canteen"])
    return name


def sign_in_at_provider(page, base_url: str, person: str, *, shot: str | None = None) -> None:
    """From the portal's sign-in page, through the provider's picker, choosing ``person``."""
    page.goto(f"{base_url}/journeys/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/journeys/$"))
    if shot:
        screenshot(page, f"{shot}-1-sign-in")
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
    expect(page.get_by_role("heading", name="Sign in to the sandbox provider")).to_be_visible()
    page.get_by_label(re.compile(re.escape(person))).check()
    if shot:
        screenshot(page, f"{shot}-2-provider")
    page.get_by_role("button", name="Sign in").click()


def test_a_company_person_signs_in_with_the_rights_of_their_mapped_team(
        browser_page, live_server, handlers: Group, siri: str) -> None:
    page = browser_page
    sign_in_at_provider(page, live_server.url, siri, shot="sso")
    expect(page).to_have_url(f"{live_server.url}/journeys/")
    expect(page.locator("#journey-table")).to_contain_text("Inside case")
    expect(page.locator("#journey-table")).not_to_contain_text("Outside case")
    screenshot(page, "sso-3-journeys")
    assert page.goto(f"{live_server.url}/journeys/sso-outside").status == 404
    user = User.objects.get(username="siri.sso")
    assert list(user.groups.all()) == [handlers]


def test_a_tampered_id_token_signs_nobody_in(browser_page, live_server, sandbox: SandboxProcess, handlers: Group,
                                             siri: str) -> None:
    page = browser_page
    tamper_next_id_tokens(sandbox, 1)
    sign_in_at_provider(page, live_server.url, siri)
    expect(page.get_by_role("heading", name="Single sign-on failed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("its signature is wrong")
    screenshot(page, "sso-4-tampered")
    page.goto(f"{live_server.url}/journeys/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/journeys/$"))
    assert not User.objects.filter(username="siri.sso").exists()


def test_a_replayed_authorization_code_signs_nobody_in(chromium, browser_page, live_server, handlers: Group,
                                                       siri: str) -> None:
    page = browser_page
    with page.expect_request(re.compile(r"/sso/callback/\?")) as callback:
        sign_in_at_provider(page, live_server.url, siri)
    expect(page).to_have_url(f"{live_server.url}/journeys/")
    code = parse_qs(urlsplit(callback.value.url).query)["code"][0]

    # Someone who captured the code starts a sign-in of their own and slips the code in with their own state.
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    try:
        attacker = context.new_page()
        attacker.goto(f"{live_server.url}/login/")
        attacker.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
        expect(attacker.get_by_role("heading", name="Sign in to the sandbox provider")).to_be_visible()
        state = parse_qs(urlsplit(attacker.url).query)["state"][0]
        answer = attacker.goto(f"{live_server.url}/sso/callback/?code={code}&state={state}")
        assert answer.status == 403
        expect(attacker.get_by_role("alert")).to_contain_text("already used or has expired")
        screenshot(attacker, "sso-5-replayed-code")
        attacker.goto(f"{live_server.url}/journeys/")
        expect(attacker).to_have_url(re.compile(r"/login/\?next=/journeys/$"))
        # Replaying the whole answer in the browser that used it is refused too: its state was spent.
        assert page.goto(callback.value.url).status == 400
    finally:
        context.close()
