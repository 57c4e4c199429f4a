"""Sent when a workflow's personal-data declaration changes, so that the layers above (which this app may not
import) bring what they store in line: the journeys mirror re-marks that workflow's stored data."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with workflow_id=<str> after the change is committed.
declaration_changed = Signal()
