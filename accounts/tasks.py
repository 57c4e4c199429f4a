"""Celery tasks of the accounts app. Each wraps one service."""

from __future__ import annotations

from celery import shared_task

from accounts.signin import signin_throttles_prune as signin_throttles_prune_service


@shared_task
def signin_throttles_prune() -> int:
    """Beat: forget sign-in failures and lockouts that no longer count."""
    return signin_throttles_prune_service()
