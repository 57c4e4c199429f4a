from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Workflows, journeys, notes, secrets and API clients of the Mint-compatible sandbox."""

    name = "sandbox.core"
    label = "sandbox_core"
    default_auto_field = "django.db.models.BigAutoField"
