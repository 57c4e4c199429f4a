"""Celery tasks of the accounts app. Each wraps one service and is named after it, plus ``_task``."""

from __future__ import annotations

from celery import shared_task

from accounts.signin import signin_throttles_prune


@shared_task
def signin_throttles_prune_task() -> int:
    """Beat: forget sign-in failures and lockouts that no longer count."""
    return signin_throttles_prune()
