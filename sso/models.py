"""Which provider claim values grant which portal teams, and which provider subject each SSO user is."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models


class ClaimMapping(models.Model):
    """A value of the groups claim (a group or role name at the provider) that makes its holders members of
    ``team``. Teams named in any mapping are managed by sign-in; other teams are left to admins."""

    claim_value = models.CharField(
        max_length=255, help_text="A group or role name exactly as the identity provider sends it.")
    team = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="sso_mappings")

    class Meta:
        ordering = ["claim_value", "team__name"]
        constraints = [models.UniqueConstraint(fields=["claim_value", "team"], name="sso_claim_value_team_unique")]

    def __str__(self) -> str:
        return f"{self.claim_value} → {self.team.name}"


class SsoIdentity(models.Model):
    """A portal user who signs in through the provider as (issuer, subject): the ID token's ``iss`` and ``sub``,
    which OpenID Connect says identify a person for good (names and e-mail addresses may change hands)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities")
    issuer = models.CharField(max_length=500)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField()
    last_sign_in_at = models.DateTimeField()

    class Meta:
        verbose_name = "SSO identity"
        verbose_name_plural = "SSO identities"
        ordering = ["user__username"]
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="sso_issuer_subject_unique")]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.subject} at {self.issuer})"
