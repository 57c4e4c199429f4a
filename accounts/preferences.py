"""A person's display preferences (the colour theme, the time zone, relative or absolute times): the services that
write them and the selectors that read them for every page.

Read once per request from the cache (no query on a warm cache, so an htmx region costs none), the zone and the
display are activated before the view runs (``TimeZoneMiddleware``), because every region draws times in them.

Not audited: a preference changes only how the portal looks to its owner, nothing in Mint or anyone's rights.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Final

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import Theme, TimeDisplay, UserPreference
from mintportal.cache import cache_delete, cache_key, cached_json
from mintportal.templatetags.portal import time_display_activate, time_display_deactivate

_REQUEST_CACHE = "_portal_preference"
# The cookie portal.js writes with the browser's zone (Intl.DateTimeFormat().resolvedOptions().timeZone).
TIME_ZONE_COOKIE: Final = "tz"
# The longest IANA name is 32 characters (America/Argentina/ComodRivadavia); the column allows 64.
TIME_ZONE_MAX_LENGTH: Final = 64
# A preference changes only when its owner changes it, and that write deletes the key; the bound is for tidiness.
_TTL: Final = 3600


class TimeZoneSource:
    """Where the zone a page is drawn in came from, for its label."""

    CHOSEN = "chosen"
    BROWSER = "browser"
    DEFAULT = "default"


@dataclass(frozen=True)
class DisplayPreference:
    theme: str = Theme.SYSTEM.value
    # An IANA name the user chose; empty: the browser's.
    time_zone: str = ""
    time_display: str = TimeDisplay.ABSOLUTE.value


@dataclass(frozen=True)
class ActiveTimeZone:
    """The zone a request's times are drawn in, and why."""

    name: str
    source: str


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    # available_timezones() walks the zone database on disk: once per process.
    return frozenset(zoneinfo.available_timezones())


def valid_time_zone(name: object) -> bool:
    """Whether ``name`` is an IANA zone this machine knows (``zoneinfo.available_timezones()``)."""
    return isinstance(name, str) and 0 < len(name) <= TIME_ZONE_MAX_LENGTH and name in _zones()


def time_zone_names() -> list[str]:
    """Every zone a user may choose, sorted."""
    return sorted(_zones())


def _key(user_id: int) -> str:
    return cache_key("preference", "display", str(user_id))


def _signed_in(request: HttpRequest) -> AbstractBaseUser | None:
    user = getattr(request, "user", None)
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return None
    return user


def preference_display(*, request: HttpRequest) -> DisplayPreference:
    """The request's user's display preferences (the defaults for anonymous visitors): at most one query, on a
    cold cache, and none for anonymous visitors."""
    cached = getattr(request, _REQUEST_CACHE, None)
    if cached is not None:
        return cached
    user = _signed_in(request)
    preference = DisplayPreference()
    if user is not None:
        def load() -> dict[str, str]:
            row = UserPreference.objects.filter(user_id=user.pk).values("theme", "time_zone", "time_display").first()
            return {key: str(value) for key, value in row.items()} if row else asdict(DisplayPreference())

        preference = DisplayPreference(**cached_json(_key(user.pk), ttl=_TTL, load=load))
    setattr(request, _REQUEST_CACHE, preference)
    return preference


def _preference_set(*, user: User, **fields: str) -> UserPreference:
    preference, _ = UserPreference.objects.update_or_create(user=user, defaults=fields)
    cache_delete(_key(user.pk))
    return preference


def preference_theme_set(*, user: User, theme: Theme) -> UserPreference:
    """Remembers ``theme`` for ``user`` (created on first choice); returns the stored preference."""
    return _preference_set(user=user, theme=theme.value)


def preference_time_zone_set(*, user: User, time_zone: str) -> UserPreference:
    """Remembers the zone ``user`` reads times in (``""``: the browser's); the caller has validated it with
    ``valid_time_zone``. Returns the stored preference."""
    return _preference_set(user=user, time_zone=time_zone)


def preference_time_display_set(*, user: User, display: TimeDisplay) -> UserPreference:
    """Remembers whether ``user`` reads times as relative (``3 h ago``) or absolute; returns the preference."""
    return _preference_set(user=user, time_display=display.value)


def preference_theme(*, request: HttpRequest) -> str:
    """The theme the page is drawn in for this request's user: ``system`` (follow the browser), ``light`` or
    ``dark``."""
    return preference_display(request=request).theme


def active_time_zone(*, request: HttpRequest) -> ActiveTimeZone:
    """The zone this request's times are drawn in: the user's choice, else the browser's (the ``tz`` cookie),
    else ``settings.TIME_ZONE``. A cookie naming no known zone is ignored, as a stored zone that the zone
    database no longer knows is."""
    chosen = preference_display(request=request).time_zone
    if valid_time_zone(chosen):
        return ActiveTimeZone(name=chosen, source=TimeZoneSource.CHOSEN)
    browser = request.COOKIES.get(TIME_ZONE_COOKIE, "")
    if valid_time_zone(browser):
        return ActiveTimeZone(name=browser, source=TimeZoneSource.BROWSER)
    return ActiveTimeZone(name=settings.TIME_ZONE, source=TimeZoneSource.DEFAULT)


class TimeZoneMiddleware:
    """Activates the request's time zone and time display (relative or absolute) before the view runs, so every
    time on its pages and regions is drawn in them; sits after the authentication middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = active_time_zone(request=request)
        request.time_zone = zone  # type: ignore[attr-defined]
        timezone.activate(zone.name)
        time_display_activate(preference_display(request=request).time_display)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
            time_display_deactivate()
