"""A person's display preferences (the colour theme): the one service that writes them and the selector that reads
them for every page's layout.

Not audited: a preference changes only how the portal looks to its owner, nothing in Mint or anyone's rights.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest

from accounts.models import Theme, UserPreference

_REQUEST_CACHE = "_portal_theme"


def preference_theme_set(*, user: User, theme: Theme) -> UserPreference:
    """Remembers ``theme`` for ``user`` (created on first choice); returns the stored preference."""
    preference, _ = UserPreference.objects.update_or_create(user=user, defaults={"theme": theme})
    return preference


def preference_theme(*, request: HttpRequest) -> str:
    """The theme the page is drawn in for this request's user: ``system`` (follow the browser), ``light`` or
    ``dark``; one query per request, none for anonymous visitors."""
    cached = getattr(request, _REQUEST_CACHE, None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    theme = Theme.SYSTEM.value
    if user is not None and not isinstance(user, AnonymousUser) and user.is_authenticated:
        stored = UserPreference.objects.filter(user=user).values_list("theme", flat=True).first()
        theme = stored or theme
    setattr(request, _REQUEST_CACHE, theme)
    return theme
