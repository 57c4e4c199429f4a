"""Fixtures shared by the suite (a plugin listed in tests/conftest.py): a clean cache around every test, the
sandbox's API, a superuser and a client signed in as them. Persona fixtures live in tests/personas.py.
"""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client

from tests.sandbox.helpers import Api


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Each test starts with an empty cache: the file cache outlives a test, and a call counted on the
    sandbox must be the test's own.

    On Redis only the cache's own keys are deleted: ``cache.clear()`` would FLUSHDB, and when the Celery broker
    shares that database it would also drop the queue bindings of a running test worker, so that later tasks
    were routed nowhere.
    """
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
        for key in client.scan_iter(match=f"{backend.key_prefix}:*", count=1000):
            client.delete(key)
    else:
        backend.clear()


@pytest.fixture
def api(sandbox) -> Api:
    """Plain HTTP calls to the sandbox's Mint API, for arranging workflows and journeys."""
    return Api(sandbox=sandbox, token=sandbox.token())


@pytest.fixture
def superuser(db: None) -> User:
    return User.objects.create_superuser("root", "root@example.com", "mintdemo")


@pytest.fixture
def root_client(client: Client, superuser: User) -> Client:
    client.force_login(superuser)
    return client
