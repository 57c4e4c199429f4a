"""The Celery application; tasks live in each app's tasks.py and only wrap services."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mintportal.settings")

app = Celery("mintportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
