"""Fixtures for the single sign-on tests: the portal pointed at the sandbox's OpenID Connect provider."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group

from sso.models import ClaimMapping
from tests.personas import team
from tests.sandbox_process import SandboxProcess
from tests.sso.provider import add_person, issuer, register_client

CLIENT_SECRET = "portal-sso-tests-secret"


@pytest.fixture
def sso_settings(settings, sandbox: SandboxProcess):
    """SSO on, with a relying party registered at the sandbox for the test client's callback URL."""
    client_id = f"portal-{uuid.uuid4().hex[:8]}"
    register_client(sandbox, client_id=client_id, client_secret=CLIENT_SECRET,
                    redirect_uris=["http://testserver/sso/callback/"])
    settings.OIDC_ISSUER = issuer(sandbox)
    settings.OIDC_CLIENT_ID = client_id
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_PROVIDER_NAME = "Acme ID"
    return settings


@pytest.fixture
def handlers_mapped(db: None) -> Group:
    """The claim value ``acme-handlers`` grants the persona team Case handlers."""
    handlers = team("Case handlers")
    ClaimMapping.objects.create(claim_value="acme-handlers", team=handlers)
    return handlers


@pytest.fixture
def person(sandbox: SandboxProcess) -> str:
    """A test person at the provider in the group ``acme-handlers``; answers their subject."""
    subject = f"sub-{uuid.uuid4().hex[:10]}"
    add_person(sandbox, subject=subject, username=f"kari-{subject[-4:]}", name="Kari Nordmann",
               email="kari@example.com", groups=["acme-handlers"])
    return subject
