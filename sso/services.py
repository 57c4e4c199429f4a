"""Writes for single sign-on: the portal user behind a verified sign-in, their teams, and the audit trail.

Every sign-in and every refusal is one audit event (``sso.sign_in``); creating a user or changing their teams
is also recorded as an access change. No code, token or secret is ever recorded.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.services import access_change_record, audit_record
from sso.models import ClaimMapping, SsoIdentity
from sso.selectors import sso_claim_values, sso_granted_team_ids, sso_mapped_teams

logger = logging.getLogger(__name__)

# Django's username rule (UnicodeUsernameValidator): letters, digits and @ . + - _.
_NOT_IN_USERNAME = re.compile(r"[^\w.@+-]")
# Room for a collision suffix within the 150 characters of a username.
_BASE_LENGTH = 120
_SUFFIX = "-sso"


class SsoRefused(Exception):
    """A verified sign-in the portal still refuses (a disabled account); ``message`` is for the person, ``user``
    the account concerned, if any. Nothing is written: the caller records the refusal."""

    def __init__(self, *, reason: str, message: str, user: User | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.user = user


@dataclass(frozen=True)
class SignIn:
    user: User
    created: bool
    # The username the claims asked for was taken by another account, so the new user got a suffixed one.
    renamed_from: str | None
    teams_added: tuple[str, ...]
    teams_removed: tuple[str, ...]


def _base_username(*, issuer: str, claims: dict[str, Any]) -> str:
    for key in ("preferred_username", "email"):
        value = claims.get(key)
        if isinstance(value, str):
            cleaned = _NOT_IN_USERNAME.sub("", value)[:_BASE_LENGTH]
            if cleaned:
                return cleaned
    return "sso-" + hashlib.sha256(f"{issuer} {claims['sub']}".encode()).hexdigest()[:16]


def _username_candidates(base: str) -> list[str]:
    return [base, base + _SUFFIX, *(f"{base}{_SUFFIX}{n}" for n in range(2, 100))]


def _profile(claims: dict[str, Any]) -> dict[str, str]:
    def text(key: str, limit: int) -> str:
        value = claims.get(key)
        return value[:limit] if isinstance(value, str) else ""

    email = text("email", 254)
    try:
        validate_email(email)
    except ValidationError:
        # An address Django would refuse in the admin is not kept: the user's form must stay valid.
        email = ""
    return {"first_name": text("given_name", 150) or text("name", 150), "last_name": text("family_name", 150),
            "email": email}


def _create_user(*, issuer: str, claims: dict[str, Any]) -> tuple[User, str | None]:
    """A new user for (issuer, sub): never an existing account. A taken username (compared without regard to
    case, so that "Admin" cannot pose as "admin") gets the first free ``-sso`` suffix instead."""
    base = _base_username(issuer=issuer, claims=claims)
    for candidate in _username_candidates(base):
        if User.objects.filter(username__iexact=candidate).exists():
            continue
        try:
            with transaction.atomic():
                user = User(username=candidate, **_profile(claims))
                # Local passwords are off for SSO users: they sign in only through their provider.
                user.set_unusable_password()
                user.save()
        except IntegrityError:
            # Someone took the name between the check and the insert: try the next one.
            continue
        return user, (base if candidate != base else None)
    raise SsoRefused(reason="username_unavailable",
                     message="No portal username is free for this account. Ask an administrator.")


def _refresh_teams(*, user: User, values: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Makes the user's mapped teams exactly those ``values`` grant; teams no claim value maps to are kept."""
    mapped = sso_mapped_teams()
    granted = sso_granted_team_ids(values=values)
    current = set(user.groups.filter(pk__in=mapped).values_list("pk", flat=True))
    added = granted - current
    removed = current - granted
    if added:
        user.groups.add(*added)
    if removed:
        user.groups.remove(*removed)
    return (tuple(sorted(mapped[pk].name for pk in added)), tuple(sorted(mapped[pk].name for pk in removed)))


def sso_user_sign_in(*, issuer: str, claims: dict[str, Any]) -> SignIn:
    """The portal user for verified ID token ``claims`` from ``issuer``, created on their first sign-in.

    The user is found by (issuer, ``sub``) only, never by name or e-mail, so a provider cannot take over a
    local account. A new user gets an unusable local password; an existing SSO user whose password an admin
    set gets it made unusable again. Their mapped teams become exactly those the groups claim grants now.
    Records ``sso.sign_in`` (ok), and an access change when the user was created or their teams changed.
    Raises :class:`SsoRefused` for a disabled account, having changed nothing.
    """
    now = timezone.now()
    subject = claims["sub"]
    values = sso_claim_values(claims=claims, claim_name=settings.OIDC_GROUPS_CLAIM)
    with transaction.atomic():
        identity = SsoIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
        created, renamed_from = False, None
        if identity is None:
            try:
                with transaction.atomic():
                    user, renamed_from = _create_user(issuer=issuer, claims=claims)
                    identity = SsoIdentity.objects.create(user=user, issuer=issuer, subject=subject,
                                                          created_at=now, last_sign_in_at=now)
                    created = True
            except IntegrityError:
                # The same person's first sign-in in another tab got there first: carry on with its user.
                renamed_from = None
                identity = SsoIdentity.objects.select_related("user").get(issuer=issuer, subject=subject)
        user = identity.user
        if not created:
            if not user.is_active:
                raise SsoRefused(reason="account_disabled", user=user,
                                 message="Your portal account is disabled. Ask an administrator.")
            identity.last_sign_in_at = now
            identity.save(update_fields=["last_sign_in_at"])
            profile = _profile(claims)
            password_reset = user.has_usable_password()
            if password_reset:
                user.set_unusable_password()
            if password_reset or any(getattr(user, key) != value for key, value in profile.items()):
                for key, value in profile.items():
                    setattr(user, key, value)
                user.save(update_fields=["password", *profile])
        added, removed = _refresh_teams(user=user, values=values)
        if created or added or removed:
            access_change_record(actor=None, target=user, verb="create" if created else "update",
                                 changes=[{"sso": {"teams_added": list(added), "teams_removed": list(removed)}}])
        audit_record(actor=user, action="sso.sign_in", summary=f"Signed in through {settings.OIDC_PROVIDER_NAME}",
                     detail={"issuer": issuer, "subject": subject, "created": created,
                             "username_taken": renamed_from, "claim_values": sorted(values)[:100],
                             "teams_added": list(added), "teams_removed": list(removed)})
    return SignIn(user=user, created=created, renamed_from=renamed_from, teams_added=added, teams_removed=removed)


def sso_refusal_record(*, reason: str, issuer: str, subject: str = "", user: AbstractBaseUser | None = None) -> None:
    """Records one refused sign-in: ``reason`` is a short code (``state_mismatch``, ``bad_signature``...);
    never a code or a token."""
    logger.warning("sso sign-in refused: %s", reason)
    audit_record(actor=user, action="sso.sign_in", outcome=AuditEvent.Outcome.REFUSED,
                 summary=f"Single sign-on refused: {reason}"[:500],
                 detail={"reason": reason, "issuer": issuer, "subject": subject})


def claim_mapping_change_record(*, actor: AbstractBaseUser | None, mapping: ClaimMapping, verb: str) -> None:
    """Records a change to a claim mapping (``create``, ``update`` or ``delete``) as an access change; ``actor``
    None means the system (``sso_demo_setup``)."""
    audit_record(actor=actor, action=f"access.sso_mapping.{verb}",
                 summary=f"{verb.capitalize()}d SSO mapping {mapping.claim_value} → {mapping.team.name}"[:500],
                 detail={"state": {"claim_value": mapping.claim_value, "team": mapping.team.name}})
