"""``{% user_theme as theme %}``: the signed-in user's colour theme for the layout (accounts/preferences.py)."""

from __future__ import annotations

from django import template

from accounts.preferences import preference_theme

register = template.Library()


@register.simple_tag(takes_context=True)
def user_theme(context: template.Context) -> str:
    request = context.get("request")
    return preference_theme(request=request) if request is not None else "system"
