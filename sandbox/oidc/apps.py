from django.apps import AppConfig


class OidcConfig(AppConfig):
    """The OpenID Connect provider: signing key, registered clients, test people and authorization codes."""

    name = "sandbox.oidc"
    label = "sandbox_oidc"
    default_auto_field = "django.db.models.BigAutoField"
