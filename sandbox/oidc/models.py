"""The provider's data: its signing key, the relying parties it knows, its test people and issued codes."""

from __future__ import annotations

from django.db import models


class SigningKey(models.Model):
    """The RS256 key that signs ID tokens, made on first use and kept, so tokens verify across restarts."""

    kid = models.CharField(primary_key=True, max_length=64)
    # The private JWK. It never leaves the sandbox: JWKS answers only its public half.
    private_jwk = models.JSONField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.kid


class Client(models.Model):
    """A relying party added through the control API (the one of SANDBOX_OIDC_CLIENT_ID lives in settings)."""

    client_id = models.CharField(primary_key=True, max_length=200)
    # SHA-256 of the secret: the secret itself is never stored.
    secret_hash = models.CharField(max_length=64)
    redirect_uris = models.JSONField(default=list)

    def __str__(self) -> str:
        return self.client_id


class Person(models.Model):
    """A test person the authorize page offers; ``groups`` becomes the ID token's ``groups`` claim."""

    subject = models.CharField(primary_key=True, max_length=255)
    username = models.CharField(max_length=150, blank=True, default="")
    name = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    groups = models.JSONField(default=list)

    class Meta:
        ordering = ["name", "subject"]

    def __str__(self) -> str:
        return self.subject


class AuthorizationCode(models.Model):
    """An issued authorization code, stored as its SHA-256; single-use (``used_at``) and short-lived."""

    code_hash = models.CharField(primary_key=True, max_length=64)
    client_id = models.CharField(max_length=200)
    redirect_uri = models.CharField(max_length=2000)
    subject = models.CharField(max_length=255)
    scope = models.CharField(max_length=1000)
    nonce = models.CharField(max_length=500, blank=True, default="")
    code_challenge = models.CharField(max_length=128)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code of {self.client_id}"
