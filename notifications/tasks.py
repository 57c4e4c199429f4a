"""Celery tasks of the notifications app. Each wraps one service and is named after it, plus ``_task``.

Both are safe to run twice, or twice at once: each mail's row is claimed before it is sent (services.py)."""

from __future__ import annotations

from celery import shared_task

from notifications.services import notification_digests_send, notifications_send, sent_mails_prune


@shared_task
def notifications_send_task() -> int:
    """Beat (every ``NOTIFICATIONS_INTERVAL`` seconds): new work, assignments and SLA breaches."""
    return notifications_send()


@shared_task
def notification_digests_send_task() -> int:
    """Beat (every ten minutes): the daily digest, once its hour has come."""
    return notification_digests_send()


@shared_task
def sent_mails_prune_task() -> int:
    """Beat (daily): forget mail-log rows whose event cannot come round again."""
    return sent_mails_prune()
