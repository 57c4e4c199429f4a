from django.apps import AppConfig


class EventsConfig(AppConfig):
    """Webhook receivers, published events and their deliveries."""

    name = "sandbox.events"
    label = "sandbox_events"
    default_auto_field = "django.db.models.BigAutoField"
