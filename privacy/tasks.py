from __future__ import annotations

from celery import shared_task

from privacy.services import reveal_grants_prune


@shared_task
def reveal_grants_prune_task() -> int:
    return reveal_grants_prune()
