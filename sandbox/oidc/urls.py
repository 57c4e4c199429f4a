"""The provider's paths: its own under /oidc/ and its control endpoints under /_sandbox/oidc/."""

from django.urls import path

from sandbox.oidc import control_views, views

provider = [
    path(".well-known/openid-configuration", views.discovery),
    path("jwks", views.jwks),
    path("authorize", views.authorize),
    path("token", views.token),
]

control = [
    path("people", control_views.people),
    path("clients", control_views.clients),
    path("faults", control_views.faults),
]
