"""``{% sso_button next %}``: the "Sign in with <provider>" link on the sign-in page, when SSO is on."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from sso.selectors import sso_enabled

register = template.Library()


@register.inclusion_tag("sso/_button.html")
def sso_button(next_url: str = "") -> dict[str, Any]:
    return {"enabled": sso_enabled(), "provider_name": settings.OIDC_PROVIDER_NAME, "next": next_url}
