"""Reads for single sign-on: whether it is on, and what a sign-in's claims grant."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group

from sso.models import ClaimMapping


def sso_enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def sso_claim_values(*, claims: dict[str, Any], claim_name: str) -> frozenset[str]:
    """The group or role names in ``claims[claim_name]`` (a list, or one string; anything else counts as none).

    A name the claims do not hold as such is read as a dotted path into nested claims
    (``realm_access.roles``), so that names containing dots (URL-shaped claims) still work as they are.
    """
    value: Any = claims.get(claim_name)
    if value is None and "." in claim_name:
        value = claims
        for part in claim_name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, list):
        return frozenset(item for item in value if isinstance(item, str) and item)
    return frozenset()


def sso_mapped_teams() -> dict[int, Group]:
    """Every team that some claim value maps to: the teams that sign-in manages."""
    return {mapping.team_id: mapping.team for mapping in ClaimMapping.objects.select_related("team")}


def sso_granted_team_ids(*, values: frozenset[str]) -> set[int]:
    """The teams that ``values`` map to."""
    return set(ClaimMapping.objects.filter(claim_value__in=values).values_list("team_id", flat=True))
