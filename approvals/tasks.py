"""Celery tasks for approvals; each wraps one service (approvals/services.py)."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from approvals.services import decision_recover_stuck


@shared_task
def decision_recover_stuck_task() -> dict[str, int]:
    """Beat (every minute): settles decisions left pending by a process that died while sending them to Mint."""
    return asdict(decision_recover_stuck())
