from django.apps import AppConfig


class SsoConfig(AppConfig):
    """OpenID Connect sign-in, claim-to-team mappings and the links between portal users and provider subjects."""

    name = "sso"
    verbose_name = "Single sign-on"
    default_auto_field = "django.db.models.BigAutoField"
