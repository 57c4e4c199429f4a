"""The JSON cache over real Redis: hits, one load per stampede, invalidation by writes, Redis outages."""

from __future__ import annotations

import logging
import threading
import uuid

import pytest
from django.urls import reverse

from mintportal import cache as json_cache
from mintportal.cache import cache_delete, cache_key, cached_json
from mintportal.mint import get_client, models
from tests.sandbox_process import free_port


def redis_backend(location: str) -> dict:
    return {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location,
        # A fresh prefix per test: nothing cached by another test (or process) is ever read here.
        "KEY_PREFIX": f"tests-{uuid.uuid4().hex[:8]}",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }}


@pytest.fixture
def redis_cache(settings, redis_url: str) -> str:
    settings.CACHES = redis_backend(redis_url)
    return redis_url


@pytest.fixture
def redis_down(settings, caplog) -> None:
    """The cache pointed at a closed port: every cache call fails as when Redis is stopped."""
    settings.CACHES = redis_backend(f"redis://127.0.0.1:{free_port()}/0")
    # The outage warning is rate-limited per process; start each test with a clean slate.
    json_cache._warning.reset()
    caplog.set_level(logging.WARNING, logger="mintportal.cache")


def test_a_second_read_is_served_from_the_cache_as_json(redis_cache):
    loads = []
    key = cache_key("tests", "value")

    def load() -> dict:
        loads.append(1)
        return {"when": "now", "items": (1, 2)}

    first = cached_json(key, ttl=60, load=load)
    second = cached_json(key, ttl=60, load=load)

    assert first == second == {"when": "now", "items": [1, 2]}
    assert len(loads) == 1


def test_a_deleted_key_is_loaded_again(redis_cache):
    key = cache_key("tests", "deleted")
    cached_json(key, ttl=60, load=lambda: 1)

    cache_delete(key)

    assert cached_json(key, ttl=60, load=lambda: 2) == 2


def test_concurrent_misses_on_one_key_call_mint_once(redis_cache, mint_settings, sandbox):
    sandbox.add_fault(path=r"^/mint/workflows$", method="GET", latency_ms=300)
    get_client().list_step_types()
    sandbox.reset_counters()
    key = cache_key("tests", "stampede")
    results = []

    def read() -> None:
        results.append(cached_json(key, ttl=60, load=lambda: get_client().list_workflows(limit=1).total_count))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 8 and len(set(results)) == 1
    assert sandbox.count("listWorkflows") == 1


def test_an_error_while_loading_caches_nothing(redis_cache):
    key = cache_key("tests", "failing")

    with pytest.raises(RuntimeError):
        cached_json(key, ttl=60, load=lambda: (_ for _ in ()).throw(RuntimeError("Mint is down")))

    assert cached_json(key, ttl=60, load=lambda: "fresh") == "fresh"


def test_when_redis_is_down_values_are_loaded_directly_and_the_outage_is_logged_once(redis_down, caplog):
    loads = []

    values = [cached_json("k", ttl=60, load=lambda: loads.append(1) or "v") for _ in range(3)]
    cache_delete("k")

    assert values == ["v", "v", "v"] and len(loads) == 3
    warnings = [r for r in caplog.records if r.name == "mintportal.cache" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "cache unavailable" in warnings[0].getMessage()


def test_keys_keep_parts_apart_and_stay_short():
    assert cache_key("a:b", "c") != cache_key("a", "b:c")
    long_key = cache_key("workflows", "x" * 500)
    assert len(long_key) < 200 and long_key.startswith("workflows:h:")


# --- the workflow pages that read through the cache --------------------------------------------------


@pytest.fixture
def workflow(mint_settings, sandbox) -> models.WorkflowDefinition:
    name = f"cached-{uuid.uuid4().hex[:8]}"
    return get_client().create_workflow(models.WorkflowInput(
        name=name, steps=[models.WorkflowStep(id="done", type="finish")], tags=["onboarding"],
    ))


@pytest.mark.django_db
def test_a_second_view_of_the_workflow_list_makes_no_call_to_mint(client, admin, redis_cache, workflow, sandbox):
    client.force_login(admin)
    sandbox.reset_counters()

    first = client.get(reverse("workflows:list"), {"q": workflow.name})
    second = client.get(reverse("workflows:list"), {"q": workflow.name})

    assert first.status_code == second.status_code == 200
    assert sandbox.count("listWorkflows") == 1
    assert workflow.name in second.content.decode()


@pytest.mark.django_db
def test_a_workflow_saved_through_the_portal_shows_at_once(client, admin, redis_cache, workflow, sandbox):
    from workflows.services import workflow_update

    client.force_login(admin)
    client.get(reverse("workflows:list"), {"q": workflow.name})
    renamed = f"{workflow.name}-renamed"

    workflow_update(actor=admin, workflow_id=workflow.id, data=models.WorkflowInput(
        name=renamed, steps=[models.WorkflowStep(id="done", type="finish")], tags=["onboarding"],
    ))
    sandbox.reset_counters()
    page = client.get(reverse("workflows:list"), {"q": workflow.name}).content.decode()

    assert renamed in page
    assert sandbox.count("listWorkflows") == 1


@pytest.mark.django_db
def test_with_redis_stopped_the_workflow_list_still_renders(client, admin, redis_down, workflow, sandbox, caplog):
    client.force_login(admin)

    response = client.get(reverse("workflows:list"), {"q": workflow.name})

    assert response.status_code == 200
    assert workflow.name in response.content.decode()
    assert "unavailable" not in response.content.decode().lower()
    assert any("cache unavailable" in record.getMessage() for record in caplog.records)


@pytest.mark.django_db
def test_a_workflow_changed_in_mint_shows_once_its_webhook_refresh_ran(client, admin, redis_cache, workflow, sandbox):
    from workflows.sync import workflow_sync

    client.force_login(admin)
    client.get(reverse("workflows:list"), {"q": workflow.name})
    renamed = f"{workflow.name}-in-mint"
    get_client().update_workflow(workflow.id, models.WorkflowInput(
        name=renamed, steps=[models.WorkflowStep(id="done", type="finish")], tags=["onboarding"],
    ))
    assert renamed not in client.get(reverse("workflows:list"), {"q": workflow.name}).content.decode()

    workflow_sync(workflow_id=workflow.id)

    assert renamed in client.get(reverse("workflows:list"), {"q": workflow.name}).content.decode()


def test_a_generation_holds_until_bumped_and_never_returns_after_a_flush(redis_cache):
    first = json_cache.generation("tests")
    assert json_cache.generation("tests") == first

    json_cache.generation_bump("tests")
    bumped = json_cache.generation("tests")
    assert bumped != first

    cache_delete(cache_key("generation", "tests"))
    assert json_cache.generation("tests") not in {first, bumped}


def test_when_redis_is_down_every_generation_is_new_so_nothing_stale_is_read(redis_down, caplog):
    assert json_cache.generation("tests") != json_cache.generation("tests")
    json_cache.generation_bump("tests")
    assert "cache unavailable" in caplog.text
