from typing import Any

from django.apps import AppConfig


def declaration_changed_received(sender: object, *, workflow_id: str, **kwargs: Any) -> None:
    """A workflow's personal-data declaration changed (sent after its commit): its stored journey data is
    re-marked in the background."""
    from journeys.tasks import journey_data_remark_task

    journey_data_remark_task.delay(workflow_id)


class JourneysConfig(AppConfig):
    name = "journeys"

    def ready(self) -> None:
        # The sync lag joins /readyz and /metrics, which live below this app and may not import it.
        from journeys.health import check_sync, sync_lag_seconds
        from mintportal.health import register_check
        from mintportal.metrics import register_gauge
        from privacy.signals import declaration_changed

        register_check("journey_sync", check_sync)
        register_gauge("mintportal_sync_lag_seconds", "Seconds since the last successful journey sync",
                       sync_lag_seconds)
        declaration_changed.connect(declaration_changed_received, dispatch_uid="journeys.data_remark")
