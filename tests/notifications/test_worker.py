"""Through a real Celery worker process with the embedded default's mailer: the task beat queues mails new work,
written as a file under the run directory's ``mail/`` folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User

from journeys.models import APPROVAL_STEP
from notifications.models import Mode, SentMail, Status
from notifications.tasks import notifications_send_task
from tests.celery_worker import CeleryWorker, wait_for
from tests.notifications.parts import listen, waiting
from tests.personas import WF_INSIDE


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_run_by_a_worker_writes_the_mail_to_var_mail(
    celery_worker: CeleryWorker, approver: User, settings
) -> None:
    listen(approver, Mode.IMMEDIATE)
    waiting("j-worker", WF_INSIDE, ("check", APPROVAL_STEP), name="Worker case")
    folder = Path(settings.RUN_DIR) / "mail"
    before = set(folder.glob("*.log")) if folder.exists() else set()
    notifications_send_task.delay()
    wait_for(lambda: SentMail.objects.filter(status=Status.SENT).exists(), message="the mail marked sent")
    (written,) = set(folder.glob("*.log")) - before
    text = written.read_text()
    assert "To: approver@example.test" in text
    assert "Subject: New work: Worker case (Workflow wf-onboarding)" in text
