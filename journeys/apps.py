from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "journeys"

    def ready(self) -> None:
        # The sync lag joins /readyz and /metrics, which live below this app and may not import it.
        from journeys.health import check_sync, sync_lag_seconds
        from mintportal.health import register_check
        from mintportal.metrics import register_gauge

        register_check("journey_sync", check_sync)
        register_gauge("mintportal_sync_lag_seconds", "Seconds since the last successful journey sync",
                       sync_lag_seconds)
