"""Helpers for the saved-view tests: the numbers and rows the journeys list shows a person."""

from __future__ import annotations

import re

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client

from savedviews.models import SavedView
from savedviews.selectors import savedview_url


def list_rows(client: Client, view: SavedView) -> tuple[int, list[str]]:
    """(the total the journeys list states, the journey ids of its first page) when the view is opened."""
    response = client.get(savedview_url(view))
    assert response.status_code == 200
    html = response.content.decode()
    total = re.search(r"<strong>(\d+)</strong> journeys?", html)
    assert total, "the list states how many journeys match"
    return int(total.group(1)), re.findall(r'class="name-cell"><a href="/journeys/([^"/]+)"', html)


def cache_emptied() -> None:
    """Empties the cache within a test (as tests/portal.py does around each one), for a property test's examples,
    each a world of its own: the cached workflow choices of one must not leak into the next."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = redis.Redis.from_url(str(settings.CACHES["default"]["LOCATION"]))
        for key in client.scan_iter(match=f"{backend.key_prefix}:*", count=1000):
            client.delete(key)
    else:
        backend.clear()
